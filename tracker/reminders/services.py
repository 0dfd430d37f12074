"""The reminder pass: the escalation ladder's rungs due today, each sent once, ever.

The pass is set-based and commits as it goes (the one function here that commits): the rung of
each distinct due date is computed once, the database returns only the reminders owed, and
they are claimed, grouped per recipient, written and committed in chunks of about
:data:`CHUNK` reminders, so that no write lock is held for long (SQLite has one
for the whole database). A chunk's claims, notifications and e-mail commit together: a pass
killed mid-way leaves whole chunks done and the rest owed, and the next pass sends the rest.
Notifications and their e-mail are written through :mod:`tracker.notifications.services`.
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from tracker import clock, metrics
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.db import ON_CONFLICT_INSERT
from tracker.extensions import db
from tracker.notifications.models import NotificationKind
from tracker.notifications.services import Outgoing, notify_all, obligation_link
from tracker.reminders import messages
from tracker.reminders import queries as reminder_queries
from tracker.reminders.ladder import DEFAULT_LADDER, Ladder, Rung, parse_ladder
from tracker.reminders.models import ReminderLog
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation
from tracker.reports.services import open_tracked_periods

# About how many reminders one chunk claims, writes and commits (a recipient is never split).
CHUNK = 500


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
    """One reminder owed, on its way into its recipient's notification once claimed."""

    obligation: Obligation
    rung: Rung
    timing: report_queries.Timeliness


def run_reminder_pass() -> PassResult:
    """Send today's reminders (see :func:`_reminder_pass`), timed and counted for metrics."""
    with metrics.reminder_pass() as report:
        result = _reminder_pass()
        report(result.working_day, result.notifications, result.emails)
    return result


def _reminder_pass() -> PassResult:
    """Send today's reminders (Beijing time, :mod:`tracker.clock`); idempotent; commits.

    For each unsubmitted, unwaived obligation of the tracked periods the ladder names at most
    one rung, the latest whose date has come (see :mod:`tracker.reminders.ladder`); it depends
    on the due date alone, so it is computed once per distinct due date. Each recipient of
    that rung gets it unless the reminder log already holds (obligation, due date, rung,
    recipient): the database returns only those (:func:`reminder_queries.owed_reminders`).
    The claim is an ``INSERT … ON CONFLICT DO NOTHING … RETURNING`` on that unique key, so two
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
    db.session.commit()  # the periods opened, if any; the pass's reads hold no lock
    keys = [period.key for period in report_queries.tracked_periods()]
    ladder, approval = current_ladder(), approval_rung()
    rungs: dict[date, Rung] = {}
    for due in reminder_queries.unsubmitted_due_dates(keys):
        rung = ladder.current_rung(due, today, calendar)
        if rung is not None:
            rungs[due] = rung
    # The approval step's own rung, beside the ladder: the approvers hear of a draft waiting
    # for them from that working day on, once per due date.
    waiting = {
        due: approval
        for due in reminder_queries.awaiting_approval_due_dates(keys)
        if approval.date_for(due, calendar) <= today
    }
    owed = sorted(
        reminder_queries.owed_reminders(keys, rungs)
        + reminder_queries.owed_reminders(keys, waiting, awaiting_approval=True)
    )  # by recipient: a chunk takes each recipient's reminders whole
    db.session.commit()  # end the read transaction: each chunk starts afresh
    by_rung = {rung.name: rung for rung in [*rungs.values(), approval]}
    count = notifications = emails = 0
    for chunk in _chunks(owed, CHUNK):
        done = _send_chunk(chunk, today, by_rung)
        count, notifications, emails = count + done[0], notifications + done[1], emails + done[2]
        db.session.commit()
    if count:
        record_event(
            "reminders.pass",
            object_type="reminder_pass",
            after={
                "day": today.isoformat(),
                "reminders": count,
                "notifications": notifications,
                "emails": emails,
            },
        )
        db.session.commit()
    return PassResult(today, True, count, notifications, emails)


def _chunks(owed: list[reminder_queries.Owed], size: int) -> Iterator[list[reminder_queries.Owed]]:
    """``owed`` (sorted by recipient) cut into chunks of about ``size`` reminders, never
    splitting a recipient's reminders: they travel in one notification."""
    chunk: list[reminder_queries.Owed] = []
    for _, items in itertools.groupby(owed, key=lambda o: o.recipient_id):
        group = list(items)
        if chunk and len(chunk) + len(group) > size:
            yield chunk
            chunk = []
        chunk += group
    if chunk:
        yield chunk


def _send_chunk(
    chunk: list[reminder_queries.Owed], today: date, rungs: dict[str, Rung]
) -> tuple[int, int, int]:
    """Claim a chunk's reminders and write their notifications; (reminders, notifications,
    e-mails) of those this pass claimed (another pass may have claimed some first).

    The words are written first, from reads only: the write transaction (on SQLite, the
    database's one write lock) then holds just the claim and the bulk inserts.
    """
    obligations = reminder_queries.obligations_for_messages(o.obligation_id for o in chunk)
    users = reminder_queries.recipients(o.recipient_id for o in chunk)
    timings: dict[int, report_queries.Timeliness] = {}
    owed: dict[int, list[tuple[reminder_queries.Owed, Claimed]]] = defaultdict(list)
    for item in chunk:
        obligation = obligations[item.obligation_id]
        if obligation.id not in timings:
            timings[obligation.id] = report_queries.timeliness(obligation, today)
        claimed = Claimed(obligation, rungs[item.rung], timings[obligation.id])
        owed[item.recipient_id].append((item, claimed))
    prepared = {
        user_id: _outgoing(users[user_id], [c for _, c in items]) for user_id, items in owed.items()
    }
    log_ids = _claim(chunk, today)
    if not log_ids:
        return 0, 0, 0
    outgoing: list[Outgoing] = []
    links: list[list[int]] = []
    for user_id, items in owed.items():
        mine = [(o, c) for o, c in items if o in log_ids]
        if not mine:
            continue  # all claimed by another pass
        whole = len(mine) == len(items)
        outgoing.append(
            prepared[user_id] if whole else _outgoing(users[user_id], [c for _, c in mine])
        )
        links.append([log_ids[o] for o, _ in mine])
    written = notify_all(NotificationKind.REMINDER, outgoing)
    log = ReminderLog.__table__
    db.session.execute(
        sa.update(log)
        .where(log.c.id == sa.bindparam("log_id"))
        .values(notification_id=sa.bindparam("note_id")),
        [
            {"log_id": log_id, "note_id": w.notification_id}
            for ids, w in zip(links, written, strict=True)
            for log_id in ids
        ],
    )
    emails = len({w.outbox_message_id for w in written if w.outbox_message_id})
    return len(log_ids), len(written), emails


APPROVAL_RUNG = "approval"


def approval_rung() -> Rung:
    """The approvers' rung (``TRACKER_SIGNOFF_REMINDER_OFFSET`` working days from the due
    date, the day before it unless configured): a draft sent to them and not yet signed off."""
    offset = current_app.config["TRACKER_SIGNOFF_REMINDER_OFFSET"]
    return Rung(APPROVAL_RUNG, offset, frozenset({"approver"}))


def _claim(chunk: list[reminder_queries.Owed], today: date) -> dict[reminder_queries.Owed, int]:
    """Insert the chunk's reminder-log rows unless they exist, in one ``INSERT … ON CONFLICT
    DO NOTHING … RETURNING``; the log id of each reminder we inserted."""
    insert = ON_CONFLICT_INSERT[db.session.get_bind().dialect.name]
    now = clock.utcnow()
    log = ReminderLog.__table__
    statement = (
        insert(log)
        .on_conflict_do_nothing(
            index_elements=["obligation_id", "due_date", "rung", "recipient_id"]
        )
        .returning(log.c.id, log.c.recipient_id, log.c.obligation_id, log.c.due_date, log.c.rung)
    )
    rows = [
        {
            "obligation_id": o.obligation_id,
            "due_date": o.due_date,
            "rung": o.rung,
            "recipient_id": o.recipient_id,
            "sent_on": today,
            "created_at": now,
        }
        for o in chunk
    ]
    return {
        reminder_queries.Owed(recipient, obligation, due, rung): log_id
        for log_id, recipient, obligation, due, rung in db.session.execute(statement, rows)
    }


def _outgoing(user: User, items: list[Claimed]) -> Outgoing:
    """One notification listing a recipient's reminders of this pass.

    One item keeps the words of a single reminder; several are listed, each with its
    department, due date, rung and link. The e-mail (sent now, in the digest, or not at all,
    as the recipient chose) carries each reminder's full text.
    """
    role = user.role.value
    words = [messages.reminder(c.obligation, c.rung, role, c.timing) for c in items]
    links = [obligation_link(c.obligation) for c in items]
    single = len(items) == 1
    message = words[0] if single else messages.grouped(items_of(items, links), role)
    return Outgoing(
        user,
        message,
        obligation_id=items[0].obligation.id if single else None,
        link=links[0] if single else "",  # several items: each has its link in the body
        email_subject=message.title,
        email_parts=[(w.title, w.body, link) for w, link in zip(words, links, strict=True)],
    )


def items_of(items: list[Claimed], links: list[str] | None = None) -> list[messages.Item]:
    """The lines of a grouped reminder, in the order they were claimed."""
    links = links or [obligation_link(c.obligation) for c in items]
    return [
        messages.Item(c.obligation, c.rung, c.timing, link)
        for c, link in zip(items, links, strict=True)
    ]
