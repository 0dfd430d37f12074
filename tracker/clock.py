"""The one clock of the application, so that tests (and ``--today`` options) can set it.

Everything that asks "what time is it" or "what day is it in Beijing" goes through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

_frozen: datetime | None = None


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware), or the frozen time."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def zone() -> ZoneInfo:
    """The zone deadlines are judged in: the app's TRACKER_TIMEZONE, else Asia/Shanghai."""
    try:
        from flask import current_app

        return ZoneInfo(current_app.config["TRACKER_TIMEZONE"])
    except RuntimeError:  # outside an application context
        from tracker.config import Settings

        return ZoneInfo(Settings.model_fields["timezone"].default)


def local_now() -> datetime:
    return utcnow().astimezone(zone())


def local_today() -> date:
    """Today's date in Beijing time."""
    return local_now().date()


def local_date(moment: datetime) -> date:
    """The Beijing-time calendar date of a stored UTC moment."""
    return moment.astimezone(zone()).date()


def end_of_local_day(day: date) -> datetime:
    """23:59:59.999999 Beijing time of ``day``, as UTC: the last instant that is on time."""
    return datetime.combine(day, time.max, tzinfo=zone()).astimezone(UTC)


@contextmanager
def frozen(moment: datetime) -> Iterator[datetime]:
    """Freeze the clock at ``moment`` (aware) for the duration of the block."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("freeze the clock with an aware datetime")
    previous, _frozen = _frozen, moment.astimezone(UTC)
    try:
        yield _frozen
    finally:
        _frozen = previous
