"""延期申请: a liaison asks for a later due date, a coordinator decides; the ladder moves."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import notes_of, run_pass, submit
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.followups import services
from tracker.followups.models import ExtensionState
from tracker.followups.services import FollowUpError as ReminderError
from tracker.followups.services import PermissionDenied
from tracker.notifications.models import NotificationKind
from tracker.reminders.models import ReminderLog
from tracker.reports import queries as report_queries


@pytest.fixture
def people(quarter, make_user):
    return {
        "liaison": make_user("liaison", "mohrss", email="hr@example.org"),
        "coordinator": make_user("coordinator", "mca", email="coord@mca.example"),
        "second": make_user("coordinator", "mca"),
        "viewer": make_user("viewer", "mohrss"),
        "other": make_user("liaison", "mps"),
    }


def _request(obligation, people, until=date(2024, 10, 17), reason="需汇总各省数据"):
    request = services.request_extension(
        obligation, actor=people["liaison"], requested_due_date=until, reason=reason
    )
    db.session.commit()
    return request


def test_a_request_is_recorded_and_the_coordinators_are_told(quarter, people):
    obligation = quarter.obligation(3, "mohrss")
    request = _request(obligation, people)
    assert request.state == ExtensionState.PENDING
    assert request.previous_due_date == date(2024, 10, 10) == obligation.due_date
    for name in ("coordinator", "second"):
        (note,) = notes_of(people[name])
        assert note.kind == NotificationKind.EXTENSION_REQUEST
        assert "延期至 2024-10-17" in note.title and "需汇总各省数据" in note.body
        assert note.link == "/extensions"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "extension.request"))
    assert event.actor_id == people["liaison"].id and event.after["requested_due_date"] == (
        "2024-10-17"
    )


@pytest.mark.parametrize(
    ("until", "reason", "message"),
    [
        (date(2024, 10, 10), "x", "须晚于当前截止日期 2024-10-10"),
        (date(2024, 10, 13), "x", "不是工作日"),  # a Sunday
        (date(2024, 10, 17), "  ", "请填写延期理由"),
    ],
)
def test_a_request_must_make_sense(quarter, people, until, reason, message):
    with pytest.raises(ReminderError, match=message):
        _request(quarter.obligation(3, "mohrss"), people, until, reason)


def test_one_pending_request_at_a_time_and_none_after_submitting(quarter, people):
    obligation = quarter.obligation(3, "mohrss")
    _request(obligation, people)
    with pytest.raises(ReminderError, match="已有待审批"):
        _request(obligation, people, date(2024, 10, 18))
    db.session.rollback()
    submit(quarter.obligation(6, "mohrss"), "2024-10-05 09:00")
    with pytest.raises(ReminderError, match="已报送"):
        _request(quarter.obligation(6, "mohrss"), people)


def test_a_request_in_the_past_is_refused(quarter, people):
    quarter.at("2024-10-21 10:00")
    with pytest.raises(ReminderError, match="不能早于今天"):
        _request(quarter.obligation(3, "mohrss"), people, date(2024, 10, 18))


@pytest.mark.parametrize("who", ["viewer", "other", "coordinator"])
def test_only_the_departments_liaisons_ask(quarter, people, who):
    with pytest.raises(PermissionDenied):
        services.request_extension(
            quarter.obligation(3, "mohrss"), actor=people[who],
            requested_due_date=date(2024, 10, 17), reason="x",
        )  # fmt: skip


def test_approval_moves_the_due_date_for_timeliness(quarter, people):
    obligation = quarter.obligation(3, "mohrss")
    request = _request(obligation, people)
    quarter.at("2024-10-08 16:00")
    services.approve_extension(request, actor=people["coordinator"], comment="同意")
    db.session.commit()
    assert (request.state, request.comment) == (ExtensionState.APPROVED, "同意")
    assert request.decided_by_id == people["coordinator"].id and request.decided_at is not None
    assert obligation.due_date == date(2024, 10, 17)
    assert obligation.original_due_date == date(2024, 10, 10)
    submit(obligation, "2024-10-16 15:00")  # late against the old date, on time now
    timing = report_queries.timeliness(obligation)
    assert timing.on_time is True and timing.due_date == date(2024, 10, 17)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "extension.approve"))
    assert event.before["due_date"] == "2024-10-10" and event.after["due_date"] == "2024-10-17"
    assert event.before["state"] == "pending" and event.after["state"] == "approved"
    (note,) = [n for n in notes_of(people["liaison"])]
    assert note.kind == NotificationKind.EXTENSION_DECISION and "已批准" in note.title
    with pytest.raises(ReminderError, match="已批准，不能重复审批"):
        services.reject_extension(request, actor=people["second"], comment="不同意")


def test_rejection_needs_a_comment_and_keeps_the_due_date(quarter, people):
    obligation = quarter.obligation(3, "mohrss")
    request = _request(obligation, people)
    with pytest.raises(ReminderError, match="须填写意见"):
        services.reject_extension(request, actor=people["coordinator"], comment=" ")
    services.reject_extension(request, actor=people["coordinator"], comment="时间充足，请按期报送")
    db.session.commit()
    assert request.state == ExtensionState.REJECTED
    assert obligation.due_date == date(2024, 10, 10)
    (note,) = notes_of(people["liaison"])
    assert "未获批准" in note.title and "时间充足，请按期报送" in note.body
    assert db.session.scalar(
        sa.select(AuditEvent.id).where(AuditEvent.action == "extension.reject")
    )
    with pytest.raises(PermissionDenied):
        services.approve_extension(request, actor=people["liaison"])


def test_an_extension_moves_the_ladder(quarter, people):
    """Due 10-10, extended on 10-08 to 10-17: the old ladder stops, the new one runs."""
    obligation = quarter.obligation(3, "mohrss")
    run_pass(quarter, "2024-09-25")  # upcoming_7 for 10-10
    quarter.at("2024-10-08 15:00")
    request = _request(obligation, people)
    services.approve_extension(request, actor=people["coordinator"])
    db.session.commit()
    for day in ("2024-10-08", "2024-10-09", "2024-10-10", "2024-10-11", "2024-10-16",
                "2024-10-17", "2024-10-18"):  # fmt: skip
        run_pass(quarter, day)
    rows = db.session.scalars(
        sa.select(ReminderLog)
        .where(
            ReminderLog.obligation_id == obligation.id,
            ReminderLog.recipient_id == people["liaison"].id,
        )
        .order_by(ReminderLog.id)
    )
    assert [(r.rung, r.due_date.isoformat(), r.sent_on.isoformat()) for r in rows] == [
        ("upcoming_7", "2024-10-10", "2024-09-25"),
        ("upcoming_7", "2024-10-17", "2024-10-09"),
        ("upcoming_1", "2024-10-17", "2024-10-16"),
        ("due", "2024-10-17", "2024-10-17"),
        ("overdue_1", "2024-10-17", "2024-10-18"),
    ]
    coordinator = db.session.scalars(
        sa.select(ReminderLog.sent_on).where(
            ReminderLog.obligation_id == obligation.id,
            ReminderLog.recipient_id == people["coordinator"].id,
        )
    ).all()
    assert coordinator == [date(2024, 10, 18)]  # not on 10-11: it was not overdue then


def test_a_refused_request_comes_back_with_the_message_beside_its_field(
    client, login, quarter, people
):
    """Over HTTP: the refusal writes nothing, and the page it leads to has the typed reason,
    the message under the date (described by it, autofocused) and the form open."""
    obligation = quarter.obligation(3, "mohrss")
    login(people["liaison"])
    typed = {"requested_due_date": "2024-10-13", "reason": "需汇总各省数据"}
    response = client.post(f"/obligations/{obligation.id}/extension", data=typed)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/obligations/{obligation.id}"  # no fragment
    assert db.session.scalar(sa.select(sa.func.count()).select_from(services.ExtensionRequest)) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="requested_due_date-error">2024-10-13 不是工作日，请选择工作日。' in page
    assert re.search(r'<input[^>]*autofocus[^>]*id="requested_due_date"', page)
    assert "需汇总各省数据</textarea>" in page
    assert re.search(r'id="extension-request" open', page)
    # shown once: the next visit is a fresh, collapsed form
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "不是工作日" not in again and not re.search(r'id="extension-request" open', again)
