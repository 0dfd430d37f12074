"""Safe time travel: ``--today`` replays the past; the future is refused outside test mode.

The suite's app runs in test mode (``TESTING``), so each refusal test turns it off for itself,
as a production instance would be.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.dashboard import queries, services
from tracker.dashboard.models import Snapshot, SnapshotCell
from tracker.extensions import db
from tracker.periods import Period
from tracker.reminders.models import ReminderLog
from tracker.reports.models import Obligation

Q3 = Period(2024, 3)


@pytest.fixture
def production(app, monkeypatch):
    """The app as a production instance sees it: not TESTING, TRACKER_ENV=production."""
    monkeypatch.setitem(app.config, "TESTING", False)
    monkeypatch.setitem(app.config, "TRACKER_ENV", "production")


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize(
    "command", [["freeze-snapshots"], ["remind", "--no-mail"], ["open-periods"]]
)
def test_future_today_is_refused_outside_test_mode(quarter, production, runner, command):
    quarter.at("2024-10-11 09:00")
    before = (_count(Obligation), _count(Snapshot), _count(ReminderLog))
    result = runner.invoke(args=[*command, "--today", "2024-10-12"])
    assert result.exit_code == 1
    assert "--today 2024-10-12 晚于今天（2024-10-11" in result.output
    assert "未做任何修改" in result.output
    assert (_count(Obligation), _count(Snapshot), _count(ReminderLog)) == before


def test_today_and_past_dates_are_accepted_outside_test_mode(quarter, production, runner):
    quarter.at("2024-10-17 09:00")
    assert runner.invoke(args=["open-periods", "--today", "2024-10-17"]).exit_code == 0
    result = runner.invoke(args=["freeze-snapshots", "--today", "2024-10-17"])
    assert result.exit_code == 0 and "2024Q3" in result.output


def test_tracker_env_test_allows_future_dates(quarter, production, runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_ENV", "test")
    quarter.at("2024-10-11 09:00")
    result = runner.invoke(args=["remind", "--today", "2024-10-14", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "2024-10-14" in result.output


def test_test_mode_keeps_future_dates_for_the_suite(quarter, runner):
    quarter.at("2024-10-11 09:00")
    result = runner.invoke(args=["freeze-snapshots", "--today", "2024-10-17"])
    assert result.exit_code == 0 and "2024Q3" in result.output


def test_freeze_never_runs_ahead_of_the_clock(quarter):
    # 2024Q3 closes at the end of 2024-10-16; the clock says 10-16, a later day is asked for.
    quarter.at("2024-10-16 12:00")
    assert services.freeze_due_snapshots(date(2025, 2, 10)) == {}
    assert queries.snapshot_for(Q3) is None
    quarter.at("2024-10-17 00:30")
    assert list(services.freeze_due_snapshots()) == ["2024Q3"]


def test_unfreeze_deletes_the_snapshot_and_is_audited(quarter, runner, make_user):
    admin = make_user("admin", username="root-admin")
    quarter.at("2024-10-17 09:00")
    services.freeze_due_snapshots()
    db.session.commit()
    assert _count(SnapshotCell) > 0
    result = runner.invoke(args=["snapshots", "unfreeze", "2024Q3", "--admin", "root-admin"])
    assert result.exit_code == 0, result.output
    assert "已解除 2024Q3 的封存" in result.output
    db.session.expire_all()
    assert queries.snapshot_for(Q3) is None and _count(SnapshotCell) == 0
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "dashboard.unfreeze")
    )
    assert event is not None and event.actor_id == admin.id
    assert event.before is not None and event.before["period"] == "2024Q3"
    # The scheduler's next pass freezes the quarter again, rebuilt from the versions.
    assert list(services.freeze_due_snapshots()) == ["2024Q3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2024Q3", "--admin", "nobody"], "用户 nobody 不存在"),
        (["2024Q3", "--admin", "coord"], "不是在用的系统管理员"),
        (["2024q3", "--admin", "root-admin"], "无效的报告期"),
        (["2024Q2", "--admin", "root-admin"], "2024Q2 尚未封存"),
    ],
)
def test_unfreeze_refusals_change_nothing(quarter, runner, make_user, args, message):
    make_user("admin", username="root-admin")
    make_user("coordinator", "mca", username="coord")
    quarter.at("2024-10-17 09:00")
    services.freeze_due_snapshots()
    db.session.commit()
    result = runner.invoke(args=["snapshots", "unfreeze", *args])
    assert result.exit_code == 1 and message in result.output
    db.session.expire_all()
    assert queries.snapshot_for(Q3) is not None
    assert (
        _count(
            AuditEvent.__table__.select()
            .where(AuditEvent.action == "dashboard.unfreeze")
            .subquery()
        )
        == 0
    )


def test_unfreeze_needs_the_admin_option(runner):
    result = runner.invoke(args=["snapshots", "unfreeze", "2024Q3"])
    assert result.exit_code == 2 and "--admin" in result.output


def test_a_past_today_keeps_the_real_time_on_the_snapshot(quarter, runner):
    quarter.at("2024-10-20 15:00")
    result = runner.invoke(args=["freeze-snapshots", "--today", "2024-10-17"])
    assert result.exit_code == 0 and "2024Q3" in result.output
    snapshot = queries.snapshot_for(Q3)
    assert snapshot is not None and snapshot.frozen_at.date().isoformat() == "2024-10-20"
