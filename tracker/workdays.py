"""Working-day arithmetic on China's official calendar.

Working days come from the ``chinesecalendar`` package (import name ``chinese_calendar``), which
knows the statutory holidays *and* the 调休 make-up working days (weekend days that are working
days) published each year by the State Council. The package only covers a fixed range of years
(1.11.0: 2004-2026) and raises ``NotImplementedError`` outside it; for such a year this module
falls back to "Monday to Friday are working days" and logs one warning per year and per
:class:`WorkingCalendar` instance.

Callers may supply ``extra_holidays`` / ``extra_workdays`` (e.g. next year's arrangement before
the package is updated); these take precedence over both the package and the weekend fallback.

Pure Python: standard library plus ``chinese_calendar``; no Flask, no database.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import functools
import logging
import threading
from collections.abc import Iterable

import chinese_calendar

logger = logging.getLogger(__name__)

__all__ = ["WorkingCalendar", "default_calendar"]

_ONE_DAY = _dt.timedelta(days=1)


def _as_date(value: _dt.date) -> _dt.date:
    """Accept ``date`` (or ``datetime``, reduced to its date); reject anything else."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    raise TypeError(f"expected datetime.date, got {type(value).__name__}")


@functools.lru_cache(maxsize=16384)
def _official_is_workday(d: _dt.date) -> bool | None:
    """The package's verdict for ``d``, or ``None`` when it has no data for ``d.year``."""
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


class WorkingCalendar:
    """Working days per China's official calendar, with optional local overrides.

    Precedence for a date ``d``:

    1. ``d`` in ``extra_workdays``  -> working day;
    2. ``d`` in ``extra_holidays``  -> not a working day;
    3. ``chinese_calendar`` covers ``d.year`` -> its answer (holidays and 调休 included);
    4. otherwise -> Monday-Friday only, with a warning logged once per year per instance.

    A date may not be in both override sets (``ValueError``).
    """

    def __init__(
        self,
        extra_holidays: Iterable[_dt.date] = (),
        extra_workdays: Iterable[_dt.date] = (),
    ) -> None:
        self._extra_holidays = frozenset(_as_date(d) for d in extra_holidays)
        self._extra_workdays = frozenset(_as_date(d) for d in extra_workdays)
        clash = self._extra_holidays & self._extra_workdays
        if clash:
            listed = ", ".join(d.isoformat() for d in sorted(clash))
            raise ValueError(f"dates both in extra_holidays and extra_workdays: {listed}")
        self._warned_years: set[int] = set()
        self._lock = threading.Lock()
        # The working days of whole years ``_first_year`` … ``_first_year + n - 1``, as sorted
        # ordinals, built on demand: counting and stepping are then a bisect, not a day loop.
        self._build_lock = threading.Lock()
        self._first_year, self._last_year = 0, -1  # none yet
        self._ordinals: list[int] = []

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(extra_holidays={len(self._extra_holidays)} dates, "
            f"extra_workdays={len(self._extra_workdays)} dates)"
        )

    @property
    def extra_holidays(self) -> frozenset[_dt.date]:
        return self._extra_holidays

    @property
    def extra_workdays(self) -> frozenset[_dt.date]:
        return self._extra_workdays

    # -- single days ---------------------------------------------------------------------

    def is_officially_covered(self, year: int) -> bool:
        """Whether ``chinese_calendar`` has data for ``year`` (no fallback needed)."""
        return _official_is_workday(_dt.date(year, 1, 1)) is not None

    def is_working_day(self, d: _dt.date) -> bool:
        """True when ``d`` is a working day (see the class docstring for the rules)."""
        d = _as_date(d)
        if d in self._extra_workdays:
            return True
        if d in self._extra_holidays:
            return False
        official = _official_is_workday(d)
        if official is not None:
            return official
        self._warn_fallback(d.year)
        return d.weekday() < 5

    def _warn_fallback(self, year: int) -> None:
        with self._lock:
            if year in self._warned_years:
                return
            self._warned_years.add(year)
        logger.warning(
            "chinese_calendar %s has no holiday data for %d; counting working days for that "
            "year as Monday-Friday only (plus any configured extra holidays/workdays)",
            getattr(chinese_calendar, "__version__", "?"),
            year,
        )

    # -- moving along the calendar -------------------------------------------------------

    def _cover(self, first_year: int, last_year: int) -> list[int]:
        """The sorted working-day ordinals, extended (whole years) to cover these years."""
        with self._build_lock:
            ordinals, start, end = self._ordinals, self._first_year, self._last_year
            if start <= first_year and last_year <= end:
                return ordinals
            if end < start:  # nothing built yet
                start, end = first_year, first_year - 1
            lower = [o for y in range(min(first_year, start), start) for o in self._year(y)]
            upper = [o for y in range(end + 1, max(last_year, end) + 1) for o in self._year(y)]
            self._ordinals = lower + ordinals + upper
            self._first_year, self._last_year = min(first_year, start), max(last_year, end)
            return self._ordinals

    def _year(self, year: int) -> list[int]:
        """The working-day ordinals of one year, each day judged by :meth:`is_working_day`."""
        first = _dt.date(year, 1, 1).toordinal()
        last = _dt.date(year, 12, 31).toordinal()
        return [o for o in range(first, last + 1) if self.is_working_day(_dt.date.fromordinal(o))]

    def next_working_day(self, d: _dt.date) -> _dt.date:
        """``d`` itself when it is a working day, otherwise the first working day after it."""
        d = _as_date(d)
        day, high = d.toordinal(), d.year
        while True:
            ordinals = self._cover(d.year, high)
            index = bisect.bisect_left(ordinals, day)
            if index < len(ordinals):
                return _dt.date.fromordinal(ordinals[index])
            high += 1

    def add_working_days(self, d: _dt.date, n: int) -> _dt.date:
        """The ``n``-th working day after ``d`` (before it when ``n`` is negative).

        ``d`` itself is never counted, whether or not it is a working day: with ``n=1`` the
        result is the first working day strictly after ``d``; with ``n=-1`` the last working day
        strictly before ``d``. ``n=0`` returns ``d`` unchanged.
        """
        d = _as_date(d)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n == 0:
            return d
        day = d.toordinal()
        low = high = (d + (_ONE_DAY if n > 0 else -_ONE_DAY)).year  # d itself is never counted
        while True:
            ordinals = self._cover(low, high)
            if n > 0:
                index = bisect.bisect_right(ordinals, day) + n - 1
                if index < len(ordinals):
                    return _dt.date.fromordinal(ordinals[index])
                high += 1
            else:
                index = bisect.bisect_left(ordinals, day) + n
                if index >= 0:
                    return _dt.date.fromordinal(ordinals[index])
                low -= 1

    # -- counting ------------------------------------------------------------------------

    def count_working_days(self, start: _dt.date, end: _dt.date) -> int:
        """Plain count of working days in the half-open interval ``(start, end]``.

        0 when ``end <= start``. ``start`` itself is never counted, ``end`` is (if working).
        A bisect over the precomputed working days of the years concerned.
        """
        start, end = _as_date(start), _as_date(end)
        if end <= start:
            return 0
        ordinals = self._cover((start + _ONE_DAY).year, end.year)
        return bisect.bisect_right(ordinals, end.toordinal()) - bisect.bisect_right(
            ordinals, start.toordinal()
        )

    def working_days_between(self, start: _dt.date, end: _dt.date) -> int:
        """How many working days late a submission made on ``end`` is, for due date ``start``.

        * ``end <= start`` (on time): 0.
        * ``end > start``: the number of working days in ``(start, end]``, but at least 1 —
          a submission after the due date is late even if made on a non-working day.

        Examples (2024 calendar): due Fri 2024-09-27, submitted Sat 09-28 -> 1 (no working day
        in between, but late); submitted Sun 09-29 (调休 working day) -> 1; submitted Mon 09-30
        -> 2; submitted Tue 10-08 (after the National Day week) -> 3.

        Use :meth:`count_working_days` for the plain count without the minimum of 1.
        """
        start, end = _as_date(start), _as_date(end)
        if end <= start:
            return 0
        return max(1, self.count_working_days(start, end))

    def working_days_until(self, today: _dt.date, due: _dt.date) -> int:
        """Working days left until ``due``, seen from ``today``; negative once overdue.

        * ``today < due``: working days in ``(today, due]`` (today is not counted, the due day
          is): due tomorrow (a working day) -> 1.
        * ``today == due``: 0 (due today).
        * ``today > due``: ``-working_days_between(due, today)``, i.e. minus the working days
          late, and at most -1.

        With a non-working ``due`` (never produced by :mod:`tracker.periods`) the value
        can be 0 before the due date.
        """
        today, due = _as_date(today), _as_date(due)
        if today > due:
            return -self.working_days_between(due, today)
        return self.count_working_days(today, due)


@functools.cache
def default_calendar() -> WorkingCalendar:
    """The shared calendar without overrides (created once per process)."""
    return WorkingCalendar()
