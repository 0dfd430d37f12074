"""Changing reminders' state: the reminder pass, notifications, urges, extensions, the outbox.

Every function here flushes and (for domain changes) records an audit event; none commits.
E-mail is only *written* here, to the outbox, in the caller's transaction; it is delivered
after the commit by :mod:`tracker.reminders.outbox`.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_acknowledge_urge,
    can_decide_extensions,
    can_request_extension,
    can_urge,
)
from tracker.extensions import db
from tracker.reminders import messages
from tracker.reminders import queries as reminder_queries
from tracker.reminders.ladder import DEFAULT_LADDER, Ladder, Rung, parse_ladder
from tracker.reminders.models import (
    ExtensionRequest,
    ExtensionState,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
    ReminderLog,
    Urge,
)
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, ReportState
from tracker.reports.services import open_tracked_periods

DEFAULT_URGE_TEXT = "请尽快报送本期进展情况。"


class ReminderError(ValueError):
    """A change refused; the message is shown to the user as it is."""


class PermissionDenied(ReminderError):
    """The actor may not make this change (views turn it into 403)."""


# -- configuration ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> Ladder:
    return parse_ladder(text)


def current_ladder() -> Ladder:
    """The configured ladder (``TRACKER_REMINDER_LADDER``), parsed once per distinct text."""
    return _parsed(current_app.config.get("TRACKER_REMINDER_LADDER") or DEFAULT_LADDER)


def link_to(endpoint: str, **values) -> str:
    """An application path (``/obligations/7``), built without a request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(path: str) -> str:
    """A path made absolute with ``TRACKER_BASE_URL``, for e-mail."""
    base = (current_app.config.get("TRACKER_BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def obligation_link(obligation: Obligation) -> str:
    return link_to("reports.obligation", obligation_id=obligation.id)


# -- notifications and e-mail ----------------------------------------------------------------


def notify(
    user: User,
    kind: NotificationKind,
    message: messages.Message,
    *,
    obligation: Obligation | None = None,
    link: str = "",
    email: bool = True,
) -> Notification:
    """An in-app notification and, when the user has an address, its e-mail in the outbox."""
    note = Notification(
        user_id=user.id,
        kind=kind,
        obligation_id=obligation.id if obligation else None,
        title=message.title[:255],
        body=message.body,
        link=link,
        created_at=clock.utcnow(),
    )
    db.session.add(note)
    db.session.flush()
    if email:
        queued = queue_email(user, message.title, [(message.title, message.body, link)])
        note.outbox_message_id = queued.id if queued else None
    return note


def queue_email(
    user: User, subject: str, parts: list[tuple[str, str, str]]
) -> OutboxMessage | None:
    """Write one e-mail (one or several messages) to the outbox; None without an address.

    ``parts`` are (title, body, application path) triples; paths become absolute links.
    """
    address = (user.email or "").strip()
    if not address:
        return None
    now = clock.utcnow()
    message = OutboxMessage(
        recipient_id=user.id,
        to_address=address,
        to_name=user.display_name,
        subject=subject[:255],
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
        body=messages.email_body(
            user.display_name, [(title, body, absolute(path)) for title, body, path in parts]
        ),
    )
    db.session.add(message)
    db.session.flush()
    return message


def mark_read(note: Notification) -> None:
    """Mark one notification read (reading is not audited: it changes nothing of substance)."""
    if note.read_at is None:
        note.read_at = clock.utcnow()
        db.session.flush()


def mark_all_read(user: User) -> int:
    """Mark every unread notification of a user read; returns how many."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.utcnow())
    )
    return result.rowcount


# -- the reminder pass -----------------------------------------------------------------------


@dataclass(frozen=True)
class PassResult:
    """What one reminder pass did."""

    day: date
    working_day: bool
    notifications: int = 0
    emails: int = 0


def run_reminder_pass() -> PassResult:
    """Send today's reminders (Beijing time, :mod:`tracker.clock`); idempotent.

    For each unsubmitted, unwaived obligation of the tracked periods the ladder names at most
    one rung, the latest whose date has come (see :mod:`tracker.reminders.ladder`); each of
    its recipients gets it unless the reminder log already holds (obligation, due date, rung,
    recipient). The claim is an ``INSERT … ON CONFLICT DO NOTHING`` on that unique key, so two
    passes at once, even in two processes, send each reminder once. A recipient's reminders of
    one pass travel in one e-mail. Nothing is sent on a non-working day: what fell due stays
    due and goes out on the next working day.
    """
    today = clock.local_today()
    calendar = report_queries.calendar()
    if not calendar.is_working_day(today):
        return PassResult(today, working_day=False)
    open_tracked_periods()
    keys = [period.key for period in report_queries.tracked_periods()]
    ladder, recipients = current_ladder(), reminder_queries.reminder_recipients()
    sent = reminder_queries.sent_reminder_keys(keys)
    fresh: dict[int, list[Notification]] = defaultdict(list)
    users: dict[int, User] = {}
    for obligation in reminder_queries.unsubmitted_obligations(keys):
        rung = ladder.current_rung(obligation.due_date, today, calendar)
        if rung is None:
            continue
        timing = None
        for user in recipients.for_audience(rung.audience, obligation.department_id):
            key = (obligation.id, obligation.due_date, rung.name, user.id)
            log_id = None if key in sent else _claim(key, today)
            if log_id is None:
                continue  # sent before, by this pass or by another one
            sent.add(key)
            timing = timing or report_queries.timeliness(obligation, today)
            fresh[user.id].append(_reminder(user, obligation, rung, timing, log_id))
            users[user.id] = user
    emails = sum(1 for user_id, notes in fresh.items() if _email_reminders(users[user_id], notes))
    count = sum(len(notes) for notes in fresh.values())
    if count:
        record_event(
            "reminders.pass",
            object_type="reminder_pass",
            after={"day": today.isoformat(), "notifications": count, "emails": emails},
        )
    return PassResult(today, True, count, emails)


def _claim(key: tuple, today: date) -> int | None:
    """Insert the reminder-log row for ``key`` unless it exists; its id when we inserted it."""
    obligation_id, due_date, rung, recipient_id = key
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = (
        insert(ReminderLog)
        .values(
            obligation_id=obligation_id,
            due_date=due_date,
            rung=rung,
            recipient_id=recipient_id,
            sent_on=today,
            created_at=clock.utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=["obligation_id", "due_date", "rung", "recipient_id"]
        )
        .returning(ReminderLog.id)
    )
    return db.session.scalar(statement)


def _reminder(user: User, obligation: Obligation, rung: Rung, timing, log_id: int):
    """The notification of one claimed reminder, worded for the user's role."""
    message = messages.reminder(obligation, rung, user.role.value, timing)
    note = notify(
        user,
        NotificationKind.REMINDER,
        message,
        obligation=obligation,
        link=obligation_link(obligation),
        email=False,
    )
    db.session.execute(
        sa.update(ReminderLog).where(ReminderLog.id == log_id).values(notification_id=note.id)
    )
    return note


def _email_reminders(user: User, notes: list[Notification]) -> OutboxMessage | None:
    subject = notes[0].title if len(notes) == 1 else messages.digest_subject(len(notes))
    queued = queue_email(user, subject, [(n.title, n.body, n.link) for n in notes])
    if queued is not None:
        for note in notes:
            note.outbox_message_id = queued.id
        db.session.flush()
    return queued


# -- urges (催办) and acknowledgement (签收) ----------------------------------------------------


def urge_interval() -> timedelta:
    """The minimum time between two urges of one obligation (TRACKER_URGE_MIN_INTERVAL_DAYS)."""
    return timedelta(days=current_app.config.get("TRACKER_URGE_MIN_INTERVAL_DAYS", 3))


def next_urge_allowed_at(obligation: Obligation):
    """When the obligation may be urged again (None: now)."""
    latest = reminder_queries.latest_urge_at(obligation.id)
    if latest is None or clock.utcnow() - latest >= urge_interval():
        return None
    return latest + urge_interval()


def urge_obligation(obligation: Obligation, *, actor: User, message: str = "") -> Urge:
    """A coordinator urges the department's liaisons to report; refused inside the interval."""
    if not can_urge(actor):
        raise PermissionDenied("只有督办协调员可以催办。")
    if obligation.waived:
        raise ReminderError("该事项本期已豁免，无需催办。")
    report = obligation.report
    if report is not None and report.state in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        raise ReminderError("该事项本期已报送，无需催办。")
    _lock(obligation)  # two coordinators at once: the second waits, then sees the first urge
    allowed_at = next_urge_allowed_at(obligation)
    if allowed_at is not None:
        raise ReminderError(
            f"该事项已于 {_local(allowed_at - urge_interval())} 催办，"
            f"{urge_interval().days} 天内不能重复催办（{_local(allowed_at)} 后可再次催办）。"
        )
    text = (message or "").strip() or DEFAULT_URGE_TEXT
    urge = Urge(
        obligation_id=obligation.id, urged_by_id=actor.id, message=text, created_at=clock.utcnow()
    )
    db.session.add(urge)
    db.session.flush()
    liaisons = reminder_queries.active_liaisons(obligation.department_id)
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
    if result.rowcount != 1:
        who = urge.acknowledged_by.display_name if urge.acknowledged_by else "他人"
        raise ReminderError(f"该催办已于 {_local(urge.acknowledged_at)} 由{who}签收。")
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
            email=False,
        )
    record_event("urge.acknowledge", urge, actor=actor, after={"acknowledged_at": now.isoformat()})
    return urge


# -- extension requests (延期申请) -------------------------------------------------------------


def request_extension(
    obligation: Obligation, *, actor: User, requested_due_date: date, reason: str
) -> ExtensionRequest:
    """A liaison asks for a later due date; the coordinators are told."""
    if not can_request_extension(actor, obligation.department_id):
        raise PermissionDenied("只有本部门联络员可以申请延期。")
    if obligation.waived:
        raise ReminderError("该事项本期已豁免，无需申请延期。")
    if obligation.report is not None and obligation.report.first_submitted_at is not None:
        raise ReminderError("该事项本期已报送，无需申请延期。")
    reason = (reason or "").strip()
    if not reason:
        raise ReminderError("请填写延期理由。")
    if requested_due_date <= obligation.due_date:
        raise ReminderError(f"申请的截止日期须晚于当前截止日期 {obligation.due_date.isoformat()}。")
    if requested_due_date < clock.local_today():
        raise ReminderError("申请的截止日期不能早于今天。")
    if not report_queries.calendar().is_working_day(requested_due_date):
        raise ReminderError(f"{requested_due_date.isoformat()} 不是工作日，请选择工作日。")
    _lock(obligation)
    if reminder_queries.pending_extension(obligation.id) is not None:
        raise ReminderError("该事项已有待审批的延期申请，请等待审批结果。")
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
    for coordinator in reminder_queries.active_coordinators():
        notify(
            coordinator,
            NotificationKind.EXTENSION_REQUEST,
            words,
            obligation=obligation,
            link=link_to("reminders.extensions"),
        )
    record_event("extension.request", request, actor=actor, after=_snapshot(request))
    return request


def approve_extension(request: ExtensionRequest, *, actor: User, comment: str = ""):
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


def reject_extension(request: ExtensionRequest, *, actor: User, comment: str):
    """A coordinator rejects, saying why; the due date stays."""
    if not (comment or "").strip():
        raise ReminderError("驳回延期申请须填写意见。")
    before = _decide(request, actor, ExtensionState.REJECTED, comment)
    record_event("extension.reject", request, actor=actor, before=before, after=_snapshot(request))
    _tell_department(request)
    return request


def _decide(request: ExtensionRequest, actor: User, state: ExtensionState, comment: str) -> dict:
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
    if result.rowcount != 1:
        raise ReminderError(f"该申请已{request.state.label}，不能重复审批。")
    return before


def _tell_department(request: ExtensionRequest) -> None:
    obligation = request.obligation
    words = messages.extension_decided(obligation, request)
    for liaison in reminder_queries.active_liaisons(obligation.department_id):
        notify(
            liaison,
            NotificationKind.EXTENSION_DECISION,
            words,
            obligation=obligation,
            link=obligation_link(obligation),
        )


def _snapshot(request: ExtensionRequest) -> dict:
    return {
        "obligation_id": request.obligation_id,
        "state": request.state.value,
        "requested_due_date": request.requested_due_date.isoformat(),
        "previous_due_date": request.previous_due_date.isoformat(),
        "reason": request.reason,
        "comment": request.comment,
    }


# -- the outbox ------------------------------------------------------------------------------


RETRYABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.GAVE_UP)


def retry_message(message: OutboxMessage, *, actor: User) -> OutboxMessage:
    """An admin sends a failed (or waiting) message again, with a fresh count of attempts."""
    if message.status not in RETRYABLE:
        raise ReminderError(f"该邮件状态为“{message.status.label}”，无需重试。")
    before = {"status": message.status.value, "attempts": message.attempts}
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = clock.utcnow()
    message.locked_until = None
    db.session.flush()
    record_event(
        "outbox.retry",
        message,
        actor=actor,
        before=before,
        after={"status": message.status.value, "attempts": 0},
    )
    return message


# -- helpers ---------------------------------------------------------------------------------


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


def _local(moment) -> str:
    return moment.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
