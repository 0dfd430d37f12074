"""Quarterly reporting periods (``2026Q3``) and their due dates.

A period's due date is ``offset_days`` calendar days (default 10) after the quarter's last day,
moved forward to the next working day of China's official calendar (see
:mod:`tracker.workdays`). Supporting departments report before the lead department, but never
before the quarter is over: see :meth:`Period.support_due_date` for the exact rule.

Pure Python: standard library plus ``chinese_calendar``; no Flask, no database.
"""

from __future__ import annotations

import calendar as _stdlib_calendar
import datetime as _dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tracker.workdays import WorkingCalendar, default_calendar

__all__ = ["CONSOLIDATION_WORKING_DAYS", "KEY_PATTERN", "Period", "period_label"]

#: Canonical key: four ASCII digits, an upper-case ``Q``, a quarter digit 1-4. Nothing else —
#: no lower-case ``q``, no surrounding whitespace, no two-digit years, no full-width digits.
KEY_PATTERN = re.compile(r"([0-9]{4})Q([1-4])")

#: Working days the lead department keeps, at least, between the supporting departments' due
#: date and its own, to consolidate their input (fewer only when the quarter ends too late).
CONSOLIDATION_WORKING_DAYS = 2

_QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}
_MIN_YEAR = 1
_MAX_YEAR = 9999


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """One calendar quarter. Ordered chronologically (by ``year``, then ``quarter``)."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not isinstance(self.year, int) or isinstance(self.year, bool):
            raise TypeError(f"年份必须是整数, 实际为 {self.year!r}")
        if not isinstance(self.quarter, int) or isinstance(self.quarter, bool):
            raise TypeError(f"季度必须是整数, 实际为 {self.quarter!r}")
        if not _MIN_YEAR <= self.year <= _MAX_YEAR:
            raise ValueError(f"年份超出范围 ({_MIN_YEAR}-{_MAX_YEAR}): {self.year}")
        if not 1 <= self.quarter <= 4:
            raise ValueError(f"季度必须是 1-4, 实际为 {self.quarter}")

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def parse(cls, key: str) -> Period:
        """Parse a canonical key such as ``"2026Q3"``.

        Strict on purpose (keys appear in URLs, the database and imported spreadsheets, and
        must have exactly one spelling): lower-case ``"2026q3"``, surrounding whitespace,
        ``"26Q1"``, ``"2026Q5"``, ``"2026-Q3"`` and non-strings are all rejected with a
        ``ValueError`` whose message is in Chinese.
        """
        if not isinstance(key, str):
            raise ValueError(f"无效的报告期: {key!r}, 应为形如 2026Q3 的字符串")
        match = KEY_PATTERN.fullmatch(key)
        if match is None:
            raise ValueError(f"无效的报告期: {key!r}, 应为“四位年份 + Q + 季度(1-4)”, 例如 2026Q3")
        try:
            return cls(int(match.group(1)), int(match.group(2)))
        except ValueError as exc:  # e.g. year 0000
            raise ValueError(f"无效的报告期: {key!r}, {exc}") from None

    @classmethod
    def containing(cls, d: _dt.date) -> Period:
        """The quarter that contains date ``d``."""
        if isinstance(d, _dt.datetime):
            d = d.date()
        return cls(d.year, (d.month - 1) // 3 + 1)

    @staticmethod
    def range(first: Period, last: Period) -> Iterator[Period]:
        """Yield each period from ``first`` to ``last``, both inclusive; nothing if first > last."""
        current = first
        while current <= last:
            yield current
            if current == last:
                return
            current = current.next()

    # -- naming ----------------------------------------------------------------------------

    @property
    def key(self) -> str:
        """``"2026Q3"``."""
        return f"{self.year:04d}Q{self.quarter}"

    @property
    def label(self) -> str:
        """``"2026年第三季度"``."""
        return f"{self.year}年第{_QUARTER_NAMES[self.quarter]}季度"

    def __str__(self) -> str:
        return self.key

    # -- dates -----------------------------------------------------------------------------

    @property
    def start(self) -> _dt.date:
        """First day of the quarter."""
        return _dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> _dt.date:
        """Last day of the quarter."""
        month = 3 * self.quarter
        return _dt.date(self.year, month, _stdlib_calendar.monthrange(self.year, month)[1])

    def contains(self, d: _dt.date) -> bool:
        if isinstance(d, _dt.datetime):
            d = d.date()
        return self.start <= d <= self.end

    # -- neighbours ------------------------------------------------------------------------

    def next(self) -> Period:
        if self.quarter == 4:
            return Period(self.year + 1, 1)
        return Period(self.year, self.quarter + 1)

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    # -- due dates -------------------------------------------------------------------------

    def due_date(self, calendar: WorkingCalendar | None = None, offset_days: int = 10) -> _dt.date:
        """Lead department's due date: ``end + offset_days`` calendar days, moved forward to
        the next working day (unchanged if that day is already a working day, including a
        weekend 调休 working day).

        ``calendar`` defaults to :func:`~tracker.workdays.default_calendar`.
        """
        if not isinstance(offset_days, int) or isinstance(offset_days, bool):
            raise TypeError("offset_days must be an int")
        if offset_days < 0:
            raise ValueError(f"offset_days must be >= 0, got {offset_days}")
        cal = calendar if calendar is not None else default_calendar()
        return cal.next_working_day(self.end + _dt.timedelta(days=offset_days))

    def support_due_date(
        self,
        calendar: WorkingCalendar | None = None,
        offset_days: int = 10,
        lead_gap_working_days: int = 5,
        min_days_after_quarter: int = 3,
    ) -> _dt.date:
        """Supporting departments' due date, always a working day, by this rule:

        1. *preferred*: ``lead_gap_working_days`` working days before the lead's
           :meth:`due_date` (``lead - gap``);
        2. *floor*: ``min_days_after_quarter`` working days after the quarter's last day
           (``end + min``; with 0, the last day or the next working day): supporting input is
           never due before the quarter is over;
        3. the later of the two, but no later than ``lead - keep`` where
           ``keep = min(gap, CONSOLIDATION_WORKING_DAYS)`` (2 working days): when the floor
           would leave the lead less than that, the floor gives way, down to the first
           working day after the quarter's end;
        4. when even that first working day after the end is later than ``lead - keep`` (the
           lead is due within ``keep`` working days of the end), the gap shrinks instead: the
           supporting departments are due on that first working day, or on the lead's due
           date if that is earlier. The order never changes: never after the lead's due date.

        Examples (China's calendar, defaults 10 / 5 / 3): 2024Q3 and 2026Q3 cross National
        Day. 2024Q3: the lead is due Thu 2024-10-10, ``lead - 5`` is 09-27 (in the quarter),
        ``end + 3`` is 10-10 itself, so supporting input is due ``lead - 2``, Tue 2024-10-08.
        2026Q3: the lead is due on the make-up working day Sat 2026-10-10, ``end + 3`` is that
        day too, so supporting input is due Thu 2026-10-08. A quiet quarter, 2025Q2: lead
        2025-07-10, ``lead - 5`` and ``end + 3`` both 2025-07-03.
        """
        for name, value in (
            ("lead_gap_working_days", lead_gap_working_days),
            ("min_days_after_quarter", min_days_after_quarter),
        ):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        cal = calendar if calendar is not None else default_calendar()
        lead = self.due_date(cal, offset_days)
        preferred = cal.add_working_days(lead, -lead_gap_working_days)
        floor = cal.next_working_day(cal.add_working_days(self.end, min_days_after_quarter))
        latest = cal.add_working_days(lead, -min(lead_gap_working_days, CONSOLIDATION_WORKING_DAYS))
        first_after_end = cal.add_working_days(self.end, 1)
        if max(preferred, floor) <= latest:
            return max(preferred, floor)
        if first_after_end <= latest:
            return latest
        return min(first_after_end, lead)


def period_label(value: Period | str | None) -> str:
    """The one way a period is shown to people: ``"2026年第三季度"``.

    Takes a :class:`Period` or its key (``"2026Q3"``, as stored on rows and in URLs); ``None``
    and ``""`` give ``""``. The key itself belongs only in URLs, file names and form values.
    A string that is not a key is returned unchanged (a label already, or a user's text), so a
    page never fails on showing it.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, Period):
        return value.label
    if isinstance(value, str) and KEY_PATTERN.fullmatch(value):
        try:
            return Period.parse(value).label
        except ValueError:
            return value
    return str(value)
