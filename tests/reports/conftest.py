"""Fixtures for reporting: a controlled clock and a quarter with its obligations opened."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tracker import clock
from tracker.catalogue.models import Department, Task
from tracker.extensions import db
from tracker.reports.models import Obligation
from tracker.reports.periods import Period

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing(text: str) -> datetime:
    """``beijing("2024-10-10 23:59:59")`` → an aware datetime in Beijing time."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


class Quarter:
    """2024Q3 (due Thu 2024-10-10; supporting input due Fri 2024-09-27), clock movable."""

    period = Period(2024, 3)

    def __init__(self):
        self._stack = []

    def at(self, text: str) -> None:
        """Move the clock to a Beijing time."""
        self.release()
        frozen = clock.frozen(beijing(text))
        frozen.__enter__()
        self._stack.append(frozen)

    def release(self) -> None:
        while self._stack:
            self._stack.pop().__exit__(None, None, None)

    def obligation(self, number: int, code: str) -> Obligation:
        return db.session.scalar(
            sa.select(Obligation)
            .join(Task, Obligation.task_id == Task.id)
            .join(Department, Obligation.department_id == Department.id)
            .where(
                Task.number == number, Department.code == code, Obligation.period == self.period.key
            )
        )


@pytest.fixture
def quarter(app, seeded, monkeypatch):
    from tracker.reports import services

    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    q = Quarter()
    q.at("2024-10-05 10:00")
    services.open_period(q.period)
    db.session.commit()
    yield q
    q.release()
