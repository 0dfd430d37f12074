"""Safe time travel: the ``--today`` options of the commands replay the past, never the future.

``--today`` exists for cron catch-up (run yesterday's reminder pass that a stopped machine
missed) and for tests. A date after today's real date (Beijing time) would freeze quarters
that have not closed and send reminders nobody is due yet, so it is refused unless the
instance runs in test mode: Flask's ``TESTING`` (the test suite's app) or ``TRACKER_ENV=test``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, time

import click
from flask import current_app

from tracker import clock

TEST_ENV = "test"


def test_mode() -> bool:
    """True in the test suite (``TESTING``) or an instance started with ``TRACKER_ENV=test``."""
    return bool(current_app.testing or current_app.config["TRACKER_ENV"] == TEST_ENV)


def check_today(value: datetime | date | None) -> date | None:
    """The ``--today`` date, refused (exit status 1) when it lies after the real date."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    real = clock.local_today()
    if day > real and not test_mode():
        raise click.ClickException(
            f"--today {day.isoformat()} 晚于今天（{real.isoformat()}，北京时间），已拒绝："
            "--today 只用于补跑已经过去的日期，不能提前处理未来的日子；"
            "仅测试模式（TRACKER_ENV=test）允许未来日期。未做任何修改。"
        )
    return day


@contextmanager
def as_of(value: datetime | date | None) -> Iterator[date | None]:
    """Check ``--today`` and, when given, run the block with the clock at 09:00 that day."""
    day = check_today(value)
    moment = datetime.combine(day, time(9), tzinfo=clock.zone()) if day else None
    with clock.frozen(moment) if moment else nullcontext():
        yield day


@contextmanager
def clock_follows(value: datetime | date | None) -> Iterator[date | None]:
    """Check ``--today``; move the clock only to a later day (which test mode alone allows).

    For commands whose writes carry the real time (a snapshot's ``frozen_at``) and whose
    guard is the clock itself: a past ``--today`` leaves the clock alone, a future one (in
    test mode) moves it, so that the guard judges by the day the test asked for.
    """
    day = check_today(value)
    ahead = day is not None and day > clock.local_today()
    moment = datetime.combine(day, time(9), tzinfo=clock.zone()) if ahead and day else None
    with clock.frozen(moment) if moment else nullcontext():
        yield day
