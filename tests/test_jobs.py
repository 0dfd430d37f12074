"""The scheduler's job table: periods opened and quarters frozen by jobs, never by pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from tracker.dashboard.models import Snapshot
from tracker.extensions import db
from tracker.jobs import JOBS, runner
from tracker.reports.models import Obligation


def _obligations(period_key: str) -> int:
    query = sa.select(sa.func.count()).select_from(Obligation)
    return db.session.scalar(query.where(Obligation.period == period_key))


def test_the_table_has_every_job_once():
    assert [job.id for job in JOBS] == [
        "open-periods",
        "snapshots",
        "mail",
        "reminders",
        "digest",
        "sessions",
        "exports",
        "push",
    ]
    for job in JOBS:
        assert (job.every_seconds is None) != (job.daily_at is None), job.id


def test_gaining_the_lease_opens_periods_and_freezes_quarters(app, seeded, at, monkeypatch):
    """A scheduler that starts (gains the lease) runs the start-up jobs at once."""
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q2")
    at("2024-11-01 07:00:00")  # 2024Q2 closed long ago, 2024Q3 closed after its grace days
    scheduler_runner = runner(app, owner="starting")
    scheduler = scheduler_runner.build(BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        assert scheduler_runner.heartbeat() is True
        on_gain = scheduler.get_job("on-gain")
        assert on_gain is not None
        assert scheduler.get_job("catch-up") is None  # 07:00: the 08:30 pass is still to come
        on_gain.func()
    finally:
        scheduler.shutdown(wait=False)
    db.session.expire_all()
    assert _obligations("2024Q2") > 0 and _obligations("2024Q4") > 0
    frozen = set(db.session.scalars(sa.select(Snapshot.period)))
    assert {"2024Q2", "2024Q3"} <= frozen and "2024Q4" not in frozen


def test_the_jobs_may_run_twice_without_effect(app, seeded, at, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    at("2024-11-01 07:00:00")
    scheduler_runner = runner(app, owner="twice")
    assert scheduler_runner.run("open-periods") and scheduler_runner.run("snapshots")
    counts = _obligations("2024Q3"), db.session.scalar(sa.select(sa.func.count(Snapshot.id)))
    assert scheduler_runner.run("open-periods") and scheduler_runner.run("snapshots")
    db.session.expire_all()
    again = _obligations("2024Q3"), db.session.scalar(sa.select(sa.func.count(Snapshot.id)))
    assert counts == again and counts[0] > 0 and counts[1] == 1


def test_open_periods_command(app, runner_cli, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    first = runner_cli.invoke(args=["open-periods", "--today", "2024-10-05"])
    assert first.exit_code == 0, first.output
    created = _obligations("2024Q3")
    assert created > 0 and f"新建填报任务 {created} 项" in first.output
    assert _obligations("2024Q4") == 0  # not yet a tracked quarter on 2024-10-05
    again = runner_cli.invoke(args=["open-periods", "--today", "2024-10-05"])
    assert "新建填报任务 0 项" in again.output


@pytest.fixture
def runner_cli(app):
    return app.test_cli_runner()
