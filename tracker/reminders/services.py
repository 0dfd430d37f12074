"""The reminder pass: the escalation ladder's rungs due today, each sent once, ever.

Every function here flushes; none commits. Notifications and their e-mail are written through
:mod:`tracker.notifications.services` in the caller's transaction.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from tracker import clock, metrics
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.db import ON_CONFLICT_INSERT
from tracker.extensions import db
from tracker.notifications.models import Notification, NotificationKind
from tracker.notifications.services import notify, obligation_link
from tracker.reminders import messages
from tracker.reminders import queries as reminder_queries
from tracker.reminders.ladder import DEFAULT_LADDER, Ladder, Rung, parse_ladder
from tracker.reminders.models import ReminderLog
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation
from tracker.reports.services import open_tracked_periods


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> Ladder:
    return parse_ladder(text)


def current_ladder() -> Ladder:
    """The configured ladder (``TRACKER_REMINDER_LADDER``), parsed once per distinct text."""
    return _parsed(current_app.config["TRACKER_REMINDER_LADDER"] or DEFAULT_LADDER)


@dataclass(frozen=True)
class PassResult:
    """What one reminder pass did: reminders claimed, the notifications and e-mails carrying
    them (one notification per recipient, however many of its items are due)."""

    day: date
    working_day: bool
    reminders: int = 0
    notifications: int = 0
    emails: int = 0


@dataclass(frozen=True)
class Claimed:
    """One reminder claimed in the log, on its way into its recipient's notification."""

    obligation: Obligation
    rung: Rung
    timing: report_queries.Timeliness
    log_id: int


def run_reminder_pass() -> PassResult:
    """Send today's reminders (see :func:`_reminder_pass`), timed and counted for metrics."""
    with metrics.reminder_pass() as report:
        result = _reminder_pass()
        report(result.working_day, result.notifications, result.emails)
    return result


def _reminder_pass() -> PassResult:
    """Send today's reminders (Beijing time, :mod:`tracker.clock`); idempotent.

    For each unsubmitted, unwaived obligation of the tracked periods the ladder names at most
    one rung, the latest whose date has come (see :mod:`tracker.reminders.ladder`); each of
    its recipients gets it unless the reminder log already holds (obligation, due date, rung,
    recipient). The claim is an ``INSERT … ON CONFLICT DO NOTHING`` on that unique key, so two
    passes at once, even in two processes, send each reminder once. A recipient's reminders of
    one pass travel in one notification (and one e-mail, as the recipient chose); every log row
    links to it. Nothing is sent on a non-working day: what fell due stays due and goes out on
    the next working day.
    """
    today = clock.local_today()
    calendar = report_queries.calendar()
    if not calendar.is_working_day(today):
        return PassResult(today, working_day=False)
    open_tracked_periods()
    keys = [period.key for period in report_queries.tracked_periods()]
    ladder, recipients = current_ladder(), reminder_queries.reminder_recipients()
    sent = reminder_queries.sent_reminder_keys(keys)
    fresh: dict[int, list[Claimed]] = defaultdict(list)
    users: dict[int, User] = {}
    approval = approval_rung()
    for obligation in reminder_queries.unsubmitted_obligations(keys):
        rungs = [ladder.current_rung(obligation.due_date, today, calendar)]
        report = obligation.report
        # The approval step's own rung, beside the ladder: the approvers hear of a draft
        # waiting for them from that working day on, once per due date.
        waiting = report is not None and report.awaiting_approval
        if waiting and approval.date_for(obligation.due_date, calendar) <= today:
            rungs.append(approval)
        for rung in rungs:
            if rung is not None:
                _claim_rung(obligation, rung, today, recipients, sent, fresh, users)
    notes = [_notify_recipient(users[user_id], items) for user_id, items in fresh.items()]
    emails = len({note.outbox_message_id for note in notes if note.outbox_message_id})
    count = sum(len(items) for items in fresh.values())
    if count:
        record_event(
            "reminders.pass",
            object_type="reminder_pass",
            after={
                "day": today.isoformat(),
                "reminders": count,
                "notifications": len(notes),
                "emails": emails,
            },
        )
    return PassResult(today, True, count, len(notes), emails)


APPROVAL_RUNG = "approval"


def approval_rung() -> Rung:
    """The approvers' rung (``TRACKER_SIGNOFF_REMINDER_OFFSET`` working days from the due
    date, the day before it unless configured): a draft sent to them and not yet signed off."""
    offset = current_app.config["TRACKER_SIGNOFF_REMINDER_OFFSET"]
    return Rung(APPROVAL_RUNG, offset, frozenset({"approver"}))


def _claim_rung(
    obligation: Obligation,
    rung: Rung,
    today: date,
    recipients: reminder_queries.Recipients,
    sent: set[reminder_queries.ReminderKey],
    fresh: dict[int, list[Claimed]],
    users: dict[int, User],
) -> None:
    """Claim ``rung``'s reminder of ``obligation`` for each of its recipients not yet sent it."""
    timing = None
    for user in recipients.for_audience(rung.audience, obligation.department_id):
        key = (obligation.id, obligation.due_date, rung.name, user.id)
        log_id = None if key in sent else _claim(key, today)
        if log_id is None:
            continue  # sent before, by this pass or by another one
        sent.add(key)
        timing = timing or report_queries.timeliness(obligation, today)
        fresh[user.id].append(Claimed(obligation, rung, timing, log_id))
        users[user.id] = user


def _claim(key: reminder_queries.ReminderKey, today: date) -> int | None:
    """Insert the reminder-log row for ``key`` unless it exists; its id when we inserted it."""
    obligation_id, due_date, rung, recipient_id = key
    dialect = db.session.get_bind().dialect.name
    insert = ON_CONFLICT_INSERT[dialect]
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


def _notify_recipient(user: User, items: list[Claimed]) -> Notification:
    """One notification listing a recipient's reminders of this pass, linked from the log.

    One item keeps the words of a single reminder; several are listed, each with its
    department, due date, rung and link. The e-mail (sent now, in the digest, or not at all,
    as the recipient chose) carries each reminder's full text.
    """
    role = user.role.value
    words = [messages.reminder(c.obligation, c.rung, role, c.timing) for c in items]
    links = [obligation_link(c.obligation) for c in items]
    single = len(items) == 1
    message = words[0] if single else messages.grouped(items_of(items), role)
    note = notify(
        user,
        NotificationKind.REMINDER,
        message,
        obligation=items[0].obligation if single else None,
        link=links[0] if single else "",  # several items: each has its link in the body
        email_subject=message.title,
        email_parts=[(w.title, w.body, link) for w, link in zip(words, links, strict=True)],
    )
    db.session.execute(
        sa.update(ReminderLog)
        .where(ReminderLog.id.in_([c.log_id for c in items]))
        .values(notification_id=note.id)
    )
    return note


def items_of(items: list[Claimed]) -> list[messages.Item]:
    """The lines of a grouped reminder, in the order they were claimed."""
    return [
        messages.Item(c.obligation, c.rung, c.timing, obligation_link(c.obligation)) for c in items
    ]
