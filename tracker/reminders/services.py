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
from tracker.notifications.models import Notification, NotificationKind, OutboxMessage
from tracker.notifications.services import notify, obligation_link, queue_email
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
    """What one reminder pass did."""

    day: date
    working_day: bool
    notifications: int = 0
    emails: int = 0


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


def _reminder(
    user: User, obligation: Obligation, rung: Rung, timing: report_queries.Timeliness, log_id: int
) -> Notification:
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
