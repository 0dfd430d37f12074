"""催办 (urge) by a coordinator and 签收 (acknowledgement) by the department's liaison."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import notes_of, outbox_messages, submit
from tracker.audit.models import AuditEvent
from tracker.auth.services import deactivate_user
from tracker.extensions import db
from tracker.followups import queries, services
from tracker.followups.models import Urge
from tracker.followups.services import FollowUpError as ReminderError
from tracker.followups.services import PermissionDenied
from tracker.notifications.models import NotificationKind


@pytest.fixture
def people(quarter, make_user):
    users = {
        "coordinator": make_user("coordinator", "mca", email="coord@mca.example"),
        "liaison": make_user("liaison", "mps", email="mps@example.org"),
        "second": make_user("liaison", "mps"),
        "retired": make_user("liaison", "mps", email="old@example.org"),
        "viewer": make_user("viewer", "mps", email="head@example.org"),
        "other": make_user("liaison", "moa", email="moa@example.org"),
    }
    deactivate_user(users["retired"])
    db.session.commit()
    return users


def _urge(obligation, people, message="请于本周内报送。"):
    urge = services.urge_obligation(obligation, actor=people["coordinator"], message=message)
    db.session.commit()
    return urge


def test_an_urge_reaches_the_active_liaisons_in_the_app_and_by_mail(quarter, people):
    obligation = quarter.obligation(11, "mps")
    urge = _urge(obligation, people)
    assert urge.created_at == datetime(2024, 10, 5, 2, 0, tzinfo=UTC)
    assert urge.urged_by_id == people["coordinator"].id and urge.acknowledged_at is None
    for name in ("liaison", "second"):
        (note,) = notes_of(people[name])
        assert note.kind == NotificationKind.URGE and note.obligation_id == obligation.id
        assert note.title.startswith("【催办】第11项 · 公安部 · 2024年第三季度")
        assert "请于本周内报送。" in note.body and "督办协调员" in note.body
    for name in ("retired", "viewer", "other", "coordinator"):
        assert notes_of(people[name]) == []
    (message,) = outbox_messages()  # only the liaison with an address
    assert message.to_address == "mps@example.org" and "请于本周内报送。" in message.body
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "urge.create"))
    assert event.actor_id == people["coordinator"].id and event.after["liaisons"] == 2


def test_an_empty_message_gets_the_standard_text(quarter, people):
    urge = _urge(quarter.obligation(11, "mps"), people, message="  ")
    assert urge.message == services.DEFAULT_URGE_TEXT


def test_an_urge_inside_the_interval_is_refused(quarter, people):
    obligation = quarter.obligation(11, "mps")
    _urge(obligation, people)
    quarter.at("2024-10-08 09:59")  # 2 days 23 hours 59 minutes later
    with pytest.raises(ReminderError, match=r"3 天内不能重复催办（2024-10-08 10:00 后可再次催办）"):
        services.urge_obligation(obligation, actor=people["coordinator"])
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Urge)) == 1
    # another obligation of the same department is another matter
    _urge(quarter.obligation(22, "mps"), people)
    quarter.at("2024-10-08 10:00")
    _urge(obligation, people)
    assert len(queries.urges_of(obligation.id)) == 2


def test_the_interval_is_configurable(quarter, people, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_URGE_MIN_INTERVAL_DAYS", 1)
    obligation = quarter.obligation(11, "mps")
    _urge(obligation, people)
    quarter.at("2024-10-06 10:00")
    _urge(obligation, people)
    assert len(queries.urges_of(obligation.id)) == 2


def test_only_coordinators_urge_and_only_what_is_still_due(quarter, people):
    obligation = quarter.obligation(11, "mps")
    with pytest.raises(PermissionDenied):
        services.urge_obligation(obligation, actor=people["liaison"])
    submit(obligation, "2024-10-05 09:00")
    with pytest.raises(ReminderError, match="已报送"):
        services.urge_obligation(obligation, actor=people["coordinator"])
    waived = quarter.obligation(11, "moa")
    waived.waived = True
    db.session.commit()
    with pytest.raises(ReminderError, match="已豁免"):
        services.urge_obligation(waived, actor=people["coordinator"])


def test_a_liaison_acknowledges_and_the_coordinator_hears_of_it(quarter, people):
    obligation = quarter.obligation(11, "mps")
    urge = _urge(obligation, people)
    quarter.at("2024-10-08 09:30")
    services.acknowledge_urge(urge, actor=people["liaison"])
    db.session.commit()
    assert urge.acknowledged_at == datetime(2024, 10, 8, 1, 30, tzinfo=UTC)
    assert urge.acknowledged_by_id == people["liaison"].id
    (note,) = notes_of(people["liaison"])
    assert note.read_at is not None  # acknowledging reads the urge
    (ack,) = notes_of(people["coordinator"])
    assert ack.kind == NotificationKind.URGE_ACK and people["liaison"].display_name in ack.title
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "urge.acknowledge"))
    assert event.actor_id == people["liaison"].id and event.object_id == urge.id
    with pytest.raises(ReminderError, match=r"已于 2024-10-08 09:30 由.*签收"):
        services.acknowledge_urge(urge, actor=people["second"])


@pytest.mark.parametrize("who", ["other", "viewer", "coordinator"])
def test_only_the_departments_liaisons_acknowledge(quarter, people, who):
    urge = _urge(quarter.obligation(11, "mps"), people)
    with pytest.raises(PermissionDenied):
        services.acknowledge_urge(urge, actor=people[who])


def test_urges_count_in_the_scorecard_and_fill_the_workbook_sheet(quarter, people, make_user):
    mps11, mps22, moa3 = (
        quarter.obligation(11, "mps"),
        quarter.obligation(22, "mps"),
        quarter.obligation(3, "moa"),
    )
    first = _urge(mps11, people, "第一次催办")
    _urge(mps22, people, "第二次催办")
    _urge(moa3, people, "=HYPERLINK(1)")
    services.acknowledge_urge(first, actor=people["liaison"])
    db.session.commit()
    mps, moa = mps11.department_id, moa3.department_id
    assert queries.urge_counts("2024Q3") == {mps: (2, 1), moa: (1, 0)}
    assert queries.urge_counts("2024Q2") == {}
    rows = queries.urges_for_period("2024Q3")
    assert [(r.task_number, r.department, r.message) for r in rows] == [
        (3, "农业农村部", "=HYPERLINK(1)"),
        (11, "公安部", "第一次催办"),
        (22, "公安部", "第二次催办"),
    ]
    row = rows[1]
    assert row.document_number == "民发〔2019〕86号"
    assert row.urged_by == people["coordinator"].display_name
    assert row.acknowledged_by == people["liaison"].display_name
    assert row.urged_at.tzinfo is not None and row.acknowledged_at is not None
    assert rows[2].acknowledged_at is None and rows[2].acknowledged_by is None
    assert [r.message for r in queries.urges_for_period("2024Q3", department_ids=[moa])] == [
        "=HYPERLINK(1)"
    ]
