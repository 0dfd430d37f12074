"""Follow-ups on one obligation: 催办 with 签收, 延期申请 with its decision, and a lead
department's 提醒报送 to its supporting departments.

Every function here flushes and records an audit event; none commits. The department and the
coordinators hear of each step through :mod:`tracker.notifications.services`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth import queries as user_queries
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_acknowledge_urge,
    can_decide_extensions,
    can_edit_department_reports,
    can_request_extension,
    can_urge,
)
from tracker.catalogue.models import Role
from tracker.db import rows_changed
from tracker.errors import Conflict, NotAllowed
from tracker.extensions import db
from tracker.followups import messages
from tracker.followups import queries as followup_queries
from tracker.followups.models import ExtensionRequest, ExtensionState, SupportReminder, Urge
from tracker.notifications.models import Notification, NotificationKind
from tracker.notifications.services import link_to, notify, obligation_link
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, ReportState

DEFAULT_URGE_TEXT = "请尽快报送本期进展情况。"


class FollowUpError(Conflict):
    """A follow-up refused; the message is shown to the user as it is."""


class PermissionDenied(NotAllowed, FollowUpError):
    """The actor may not make this change (pages and the API answer 403)."""


def urge_interval() -> timedelta:
    """The minimum time between two urges of one obligation (TRACKER_URGE_MIN_INTERVAL_DAYS)."""
    return timedelta(days=current_app.config["TRACKER_URGE_MIN_INTERVAL_DAYS"])


def next_urge_allowed_at(obligation: Obligation) -> datetime | None:
    """When the obligation may be urged again (None: now)."""
    latest = followup_queries.latest_urge_at(obligation.id)
    if latest is None or clock.utcnow() - latest >= urge_interval():
        return None
    return latest + urge_interval()


def urge_refusal(obligation: Obligation) -> str | None:
    """Why ``obligation`` cannot be urged now (waived, submitted, urged within the interval),
    or None when it can."""
    if obligation.waived:
        return "该事项本期已豁免，无需催办。"
    report = obligation.report
    if report is not None and report.state in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        return "该事项本期已报送，无需催办。"
    allowed_at = next_urge_allowed_at(obligation)
    if allowed_at is not None:
        return (
            f"该事项已于 {_local(allowed_at - urge_interval())} 催办，"
            f"{urge_interval().days} 天内不能重复催办（{_local(allowed_at)} 后可再次催办）。"
        )
    return None


def urge_obligations(obligations: list[Obligation], *, actor: User, message: str) -> list[Urge]:
    """Bulk 催办: urge each obligation as :func:`urge_obligation` would, all or none (one
    refused refuses the lot; the caller's transaction is rolled back)."""
    if not obligations:
        raise FollowUpError("请先勾选要催办的事项。")
    urges = []
    for obligation in obligations:
        try:
            urges.append(urge_obligation(obligation, actor=actor, message=message))
        except FollowUpError as error:
            if isinstance(error, PermissionDenied):
                raise
            name = f"第{obligation.task.number}项{obligation.department.short_name}"
            raise FollowUpError(f"{name}：{error.message}本次未催办任何事项。") from error
    return urges


def urge_obligation(obligation: Obligation, *, actor: User, message: str = "") -> Urge:
    """A coordinator urges the department's liaisons to report; refused inside the interval."""
    if not can_urge(actor):
        raise PermissionDenied("只有督办协调员可以催办。")
    _lock(obligation)  # two coordinators at once: the second waits, then sees the first urge
    refusal = urge_refusal(obligation)
    if refusal is not None:
        raise FollowUpError(refusal)
    text = (message or "").strip() or DEFAULT_URGE_TEXT
    urge = Urge(
        obligation_id=obligation.id, urged_by_id=actor.id, message=text, created_at=clock.utcnow()
    )
    db.session.add(urge)
    db.session.flush()
    liaisons = user_queries.active_liaisons(obligation.department_id)
    words = messages.urge(obligation, actor, text)
    for liaison in liaisons:
        notify(
            liaison,
            NotificationKind.URGE,
            words,
            obligation=obligation,
            link=obligation_link(obligation),
        )
    record_event(
        "urge.create",
        urge,
        actor=actor,
        after={"obligation_id": obligation.id, "message": text, "liaisons": len(liaisons)},
    )
    return urge


def acknowledge_urge(urge: Urge, *, actor: User) -> Urge:
    """签收: a liaison of the department records that the urge was received."""
    obligation = urge.obligation
    if not can_acknowledge_urge(actor, obligation.department_id):
        raise PermissionDenied("只有本部门联络员可以签收催办。")
    now = clock.utcnow()
    # Conditional update: of two liaisons acknowledging at once, exactly one succeeds.
    result = db.session.execute(
        sa.update(Urge)
        .where(Urge.id == urge.id, Urge.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(urge)
    if rows_changed(result) != 1:
        assert urge.acknowledged_at is not None  # the update lost to an acknowledgement
        who = urge.acknowledged_by.display_name if urge.acknowledged_by else "他人"
        raise FollowUpError(f"该催办已于 {_local(urge.acknowledged_at)} 由{who}签收。")
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.user_id == actor.id,
            Notification.obligation_id == obligation.id,
            Notification.kind == NotificationKind.URGE,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
    )
    if urge.urged_by is not None and urge.urged_by.active:
        notify(
            urge.urged_by,
            NotificationKind.URGE_ACK,
            messages.urge_acknowledged(obligation, actor),
            obligation=obligation,
            link=obligation_link(obligation),
        )
    record_event("urge.acknowledge", urge, actor=actor, after={"acknowledged_at": now.isoformat()})
    return urge


def remind_supporting(lead: Obligation, supporting: Obligation, *, actor: User) -> SupportReminder:
    """提醒报送: the lead's liaison reminds a supporting department that has not submitted.

    At most once a (local) day per supporting obligation; its active liaisons get a
    notification and an e-mail. Not a 催办: nothing to acknowledge, not in the scorecard.
    """
    if lead.role != Role.LEAD or not can_edit_department_reports(actor, lead.department_id):
        raise PermissionDenied("只有牵头部门的联络员可以提醒配合部门报送。")
    if (
        supporting.role != Role.SUPPORT
        or supporting.task_id != lead.task_id
        or supporting.period != lead.period
    ):
        raise FollowUpError("该部门不是本项本期的配合部门。")
    department = supporting.department.name
    if supporting.waived:
        raise FollowUpError(f"{department}本期材料已豁免，无需提醒。")
    if report_queries.submitted_report(supporting) is not None:
        raise FollowUpError(f"{department}已报送本期材料，无需提醒。")
    _lock(supporting)  # two reminders at once: the second waits, then sees the first
    today = clock.local_today()
    earlier = followup_queries.support_reminder_on(supporting.id, today)
    if earlier is not None:
        raise FollowUpError(
            f"今天 {_local(earlier.created_at)[-5:]} 已提醒过{department}，"
            "同一部门同一事项每天只能提醒一次。"
        )
    liaisons = user_queries.active_liaisons(supporting.department_id)
    reminder = SupportReminder(
        obligation_id=supporting.id,
        lead_obligation_id=lead.id,
        sent_by_id=actor.id,
        sent_on=today,
        created_at=clock.utcnow(),
        recipients=len(liaisons),
    )
    db.session.add(reminder)
    db.session.flush()
    words = messages.support_reminder(supporting, lead, actor)
    for liaison in liaisons:
        notify(
            liaison,
            NotificationKind.SUPPORT_REMINDER,
            words,
            obligation=supporting,
            link=obligation_link(supporting),
        )
    record_event(
        "support.remind",
        reminder,
        actor=actor,
        after={
            "obligation_id": supporting.id,
            "lead_obligation_id": lead.id,
            "department": department,
            "liaisons": len(liaisons),
        },
    )
    return reminder


def request_extension(
    obligation: Obligation, *, actor: User, requested_due_date: date, reason: str
) -> ExtensionRequest:
    """A liaison asks for a later due date; the coordinators are told."""
    if not can_request_extension(actor, obligation.department_id):
        raise PermissionDenied("只有本部门联络员可以申请延期。")
    if obligation.waived:
        raise FollowUpError("该事项本期已豁免，无需申请延期。")
    if obligation.report is not None and obligation.report.first_submitted_at is not None:
        raise FollowUpError("该事项本期已报送，无需申请延期。")
    reason = (reason or "").strip()
    if not reason:
        raise FollowUpError("请填写延期理由。", field="reason")
    if requested_due_date <= obligation.due_date:
        raise FollowUpError(
            f"申请的截止日期须晚于当前截止日期 {obligation.due_date.isoformat()}。",
            field="requested_due_date",
        )
    if requested_due_date < clock.local_today():
        raise FollowUpError("申请的截止日期不能早于今天。", field="requested_due_date")
    if not report_queries.calendar().is_working_day(requested_due_date):
        raise FollowUpError(
            f"{requested_due_date.isoformat()} 不是工作日，请选择工作日。",
            field="requested_due_date",
        )
    _lock(obligation)
    if followup_queries.pending_extension(obligation.id) is not None:
        raise FollowUpError("该事项已有待审批的延期申请，请等待审批结果。")
    request = ExtensionRequest(
        obligation_id=obligation.id,
        requested_by_id=actor.id,
        requested_due_date=requested_due_date,
        previous_due_date=obligation.due_date,
        reason=reason,
        state=ExtensionState.PENDING,
        created_at=clock.utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    words = messages.extension_requested(obligation, request, actor)
    for coordinator in user_queries.active_coordinators():
        notify(
            coordinator,
            NotificationKind.EXTENSION_REQUEST,
            words,
            obligation=obligation,
            link=link_to("followups.extensions"),
        )
    record_event("extension.request", request, actor=actor, after=_snapshot(request))
    return request


def approve_extension(
    request: ExtensionRequest, *, actor: User, comment: str = ""
) -> ExtensionRequest:
    """A coordinator approves: the obligation's due date (timeliness, the ladder) moves."""
    obligation = request.obligation
    before = _decide(request, actor, ExtensionState.APPROVED, comment)
    request.previous_due_date = obligation.due_date
    obligation.due_date = request.requested_due_date
    db.session.flush()
    record_event(
        "extension.approve",
        request,
        actor=actor,
        before={**before, "due_date": request.previous_due_date.isoformat()},
        after={**_snapshot(request), "due_date": obligation.due_date.isoformat()},
    )
    _tell_department(request)
    return request


def reject_extension(request: ExtensionRequest, *, actor: User, comment: str) -> ExtensionRequest:
    """A coordinator rejects, saying why; the due date stays."""
    if not (comment or "").strip():
        raise FollowUpError("驳回延期申请须填写意见。")
    before = _decide(request, actor, ExtensionState.REJECTED, comment)
    record_event("extension.reject", request, actor=actor, before=before, after=_snapshot(request))
    _tell_department(request)
    return request


def _decide(
    request: ExtensionRequest, actor: User, state: ExtensionState, comment: str
) -> dict[str, Any]:
    if not can_decide_extensions(actor):
        raise PermissionDenied("只有督办协调员可以审批延期申请。")
    before = _snapshot(request)
    now = clock.utcnow()
    result = db.session.execute(
        sa.update(ExtensionRequest)
        .where(ExtensionRequest.id == request.id, ExtensionRequest.state == ExtensionState.PENDING)
        .values(
            state=state,
            decided_by_id=actor.id,
            decided_at=now,
            comment=(comment or "").strip() or None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(request)
    if rows_changed(result) != 1:
        raise FollowUpError(f"该申请已{request.state.label}，不能重复审批。")
    return before


def _tell_department(request: ExtensionRequest) -> None:
    obligation = request.obligation
    words = messages.extension_decided(obligation, request)
    for liaison in user_queries.active_liaisons(obligation.department_id):
        notify(
            liaison,
            NotificationKind.EXTENSION_DECISION,
            words,
            obligation=obligation,
            link=obligation_link(obligation),
        )


def _snapshot(request: ExtensionRequest) -> dict[str, Any]:
    return {
        "obligation_id": request.obligation_id,
        "state": request.state.value,
        "requested_due_date": request.requested_due_date.isoformat(),
        "previous_due_date": request.previous_due_date.isoformat(),
        "reason": request.reason,
        "comment": request.comment,
    }


def _lock(obligation: Obligation) -> None:
    """Hold the obligation's row until the commit, so checks and writes are not interleaved.

    A no-op UPDATE rather than ``SELECT … FOR UPDATE``: PostgreSQL locks the row either way,
    and SQLite only takes its write lock (and makes a second writer wait) on a write.
    """
    db.session.execute(
        sa.update(Obligation)
        .where(Obligation.id == obligation.id)
        .values(waived=Obligation.waived)
        .execution_options(synchronize_session=False)
    )


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
