"""Writing notifications and e-mail: the bell's messages, the outbox, an admin's retry.

Every function here flushes and never commits. E-mail is only *written* here, to the outbox, in
the caller's transaction; it is delivered after the commit by :mod:`tracker.notifications.outbox`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.db import ON_CONFLICT_INSERT, rows_changed
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.notifications import messages, queries
from tracker.notifications.models import (
    DigestEntry,
    MailDigest,
    MailMode,
    MailSetting,
    Notification,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
)
from tracker.reports.models import Obligation


def link_to(endpoint: str, **values: Any) -> str:
    """An application path (``/obligations/7``), built without a request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def absolute(path: str) -> str:
    """A path made absolute with ``TRACKER_BASE_URL``, for e-mail."""
    base = current_app.config["TRACKER_BASE_URL"].rstrip("/")
    return f"{base}{path}"


def obligation_link(obligation: Obligation) -> str:
    return link_to("reports.obligation", obligation_id=obligation.id)


def notify(
    user: User,
    kind: NotificationKind,
    message: messages.Message,
    *,
    obligation: Obligation | None = None,
    link: str = "",
    email_subject: str | None = None,
    email_parts: list[tuple[str, str, str]] | None = None,
) -> Notification:
    """An in-app notification and, as the user chose for its kind, its e-mail.

    The e-mail goes to the outbox now, or waits for the user's daily digest, or is not written
    at all (in the app only, or no address). ``email_subject`` and ``email_parts`` (title,
    body, application path triples) replace the notification's own words in a mail sent now.
    """
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
    route_email(
        user,
        note,
        email_subject or message.title,
        email_parts or [(message.title, message.body, link)],
    )
    return note


@dataclass(frozen=True)
class Outgoing:
    """One notification of a bulk write (:func:`notify_all`), with its e-mail's words."""

    user: User
    message: messages.Message
    obligation_id: int | None = None
    link: str = ""
    email_subject: str | None = None
    email_parts: list[tuple[str, str, str]] | None = None


@dataclass(frozen=True)
class Written:
    """The rows one :class:`Outgoing` became: its notification, and its e-mail if sent now."""

    notification_id: int
    outbox_message_id: int | None


def notify_all(kind: NotificationKind, outgoing: list[Outgoing]) -> list[Written]:
    """:func:`notify` for many notifications at once, in a fixed number of statements.

    The same choices as :func:`route_email` (no address or in the app only: no e-mail; the
    digest: a digest entry; otherwise an outbox message), but the mail choices are read for
    every user in two queries and the outbox messages, notifications and digest entries are
    each written by one bulk ``INSERT … RETURNING``; at most one per user. Returns one
    :class:`Written` per ``outgoing``, in order.
    """
    if not outgoing:
        return []
    if len({item.user.id for item in outgoing}) != len(outgoing):
        raise ValueError("notify_all writes at most one notification per user")
    choices = queries.mail_choices([o.user.id for o in outgoing], kind)
    now = clock.utcnow()
    mails: list[dict[str, Any]] = []
    mailed: list[int] = []
    digested: list[int] = []
    for index, item in enumerate(outgoing):
        address = (item.user.email or "").strip()
        choice = choices[item.user.id]
        if not address or not choice.email:
            continue
        if choice.mode == MailMode.DIGEST:
            digested.append(index)
            continue
        parts = item.email_parts or [(item.message.title, item.message.body, item.link)]
        mails.append(
            {
                "recipient_id": item.user.id,
                "to_address": address,
                "to_name": item.user.display_name,
                "subject": (item.email_subject or item.message.title)[:255],
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "body": messages.email_body(
                    item.user.display_name,
                    [(title, body, absolute(path) if path else "") for title, body, path in parts],
                ),
            }
        )
        mailed.append(index)
    outbox: list[int | None] = [None] * len(outgoing)
    for index, message_id in zip(
        mailed, _insert_returning(OutboxMessage, "recipient_id", mails), strict=True
    ):
        outbox[index] = message_id
    notes = [
        {
            "user_id": item.user.id,
            "kind": kind,
            "obligation_id": item.obligation_id,
            "title": item.message.title[:255],
            "body": item.message.body,
            "link": item.link,
            "created_at": now,
            "outbox_message_id": outbox[index],
        }
        for index, item in enumerate(outgoing)
    ]
    note_ids = _insert_returning(Notification, "user_id", notes)
    if digested:
        db.session.execute(
            sa.insert(DigestEntry.__table__),
            [
                {"notification_id": note_ids[i], "user_id": outgoing[i].user.id, "created_at": now}
                for i in digested
            ],
        )
    return [Written(n, m) for n, m in zip(note_ids, outbox, strict=True)]


def _insert_returning(
    model: type[Notification] | type[OutboxMessage], user_column: str, rows: list[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` (at most one per user) into ``model``'s table in bulk; their ids, in the
    order of ``rows``. Matched back by user: an ordered ``RETURNING`` of an autoincrement key
    would make SQLAlchemy insert row by row."""
    if not rows:
        return []
    table = model.__table__
    statement = sa.insert(table).returning(table.c.id, table.c[user_column])
    ids = {user_id: row_id for row_id, user_id in db.session.execute(statement, rows)}
    return [ids[row[user_column]] for row in rows]


def route_email(
    user: User, note: Notification, subject: str, parts: list[tuple[str, str, str]]
) -> OutboxMessage | DigestEntry | None:
    """Write a notification's e-mail as the user chose: now, into the digest, or not at all."""
    if not (user.email or "").strip():
        return None
    choice = queries.mail_choice(user.id, note.kind)
    if not choice.email:
        return None
    if choice.mode == MailMode.DIGEST:
        entry = DigestEntry(notification_id=note.id, user_id=user.id, created_at=note.created_at)
        db.session.add(entry)
        db.session.flush()
        return entry
    queued = queue_email(user, subject, parts)
    note.outbox_message_id = queued.id if queued else None
    db.session.flush()
    return queued


def queue_email(
    user: User, subject: str, parts: list[tuple[str, str, str]], *, digest: bool = False
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
            user.display_name,
            [(title, body, absolute(path) if path else "") for title, body, path in parts],
            digest=digest,
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


def mark_all_read(user: User, kind: NotificationKind | None = None) -> int:
    """Mark every unread notification of a user (of one kind, if given) read; how many."""
    query = sa.update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if kind is not None:
        query = query.where(Notification.kind == kind)
    result = db.session.execute(query.values(read_at=clock.utcnow()))
    return rows_changed(result)


RETRYABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.GAVE_UP)


def retry_message(message: OutboxMessage, *, actor: User) -> OutboxMessage:
    """An admin sends a failed (or waiting) message again, with a fresh count of attempts."""
    if message.status not in RETRYABLE:
        raise Conflict(f"该邮件状态为“{message.status.label}”，无需重试。")
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


# -- preferences -------------------------------------------------------------------------------


def save_preferences(
    user: User, emails: dict[NotificationKind, bool], mode: MailMode
) -> dict[str, Any]:
    """Store a user's choice per kind (in the app only, or also by e-mail) and mail mode.

    Returns what changed (kind → new choice, ``mode``), which is also audited; nothing is
    written when nothing changed.
    """
    before_emails, before_mode = queries.email_choices(user.id), queries.mail_mode(user.id)
    now = clock.utcnow()
    changed: dict[str, Any] = {}
    for kind, email in emails.items():
        if before_emails[kind] == email:
            continue
        row = db.session.get(NotificationPreference, (user.id, kind))
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=kind)
            db.session.add(row)
        row.email, row.updated_at = email, now
        changed[kind.value] = email
    if mode != before_mode:
        setting = db.session.get(MailSetting, user.id)
        if setting is None:
            setting = MailSetting(user_id=user.id)
            db.session.add(setting)
        setting.mode, setting.updated_at = mode, now
        changed["mode"] = mode.value
    if changed:
        db.session.flush()
        record_event(
            "notifications.preferences",
            actor=user,
            object_type="user",
            object_id=user.id,
            before={
                **{k: before_emails[NotificationKind(k)] for k in changed if k != "mode"},
                **({"mode": before_mode.value} if "mode" in changed else {}),
            },
            after=changed,
        )
    return changed


# -- the daily digest --------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRun:
    """What one digest run did."""

    day: date
    digests: int = 0
    notifications: int = 0


def digest_time() -> time:
    """``TRACKER_DIGEST_AT`` (Beijing time), validated when the settings were read."""
    hours, minutes = (int(part) for part in current_app.config["TRACKER_DIGEST_AT"].split(":"))
    return time(hours, minutes)


def digest_day(now: datetime, at: time) -> date:
    """The latest day whose digest time has come at ``now`` (today, or else yesterday)."""
    local = now.astimezone(clock.zone())
    return local.date() if local.time() >= at else local.date() - timedelta(days=1)


def send_digests() -> DigestRun:
    """Write each user's daily digest mail to the outbox: once per user and day; idempotent.

    The digest of a day carries every queued notification written before that day's digest
    time. The day is the latest whose time has come, so a run after downtime sends one digest
    with everything still queued and never one for each missed day. Each digest is claimed
    under the unique key (user, day) with ``INSERT … ON CONFLICT DO NOTHING``, and entries are
    taken with a conditional update, so two runs at once send nothing twice.
    """
    at = digest_time()
    day = digest_day(clock.utcnow(), at)
    cutoff = datetime.combine(day, at, tzinfo=clock.zone()).astimezone(UTC)
    digests = carried = 0
    for user_id in queries.users_with_pending_digest(cutoff):
        digest_id = _claim_digest(user_id, day)
        if digest_id is None:
            continue  # today's digest is already out: the rest waits for tomorrow's
        db.session.execute(
            sa.update(DigestEntry)
            .where(
                DigestEntry.user_id == user_id,
                DigestEntry.digest_id.is_(None),
                DigestEntry.created_at < cutoff,
            )
            .values(digest_id=digest_id)
            .execution_options(synchronize_session=False)
        )
        notes = queries.digest_notifications(digest_id)
        user = db.session.get(User, user_id)
        if not notes or user is None:
            continue
        queued = queue_email(
            user,
            messages.digest_subject(day, len(notes)),
            [(n.title, absolute_links(n.body), n.link) for n in notes],
            digest=True,
        )
        db.session.execute(
            sa.update(MailDigest)
            .where(MailDigest.id == digest_id)
            .values(items=len(notes), outbox_message_id=queued.id if queued else None)
        )
        if queued is not None:
            for note in notes:
                note.outbox_message_id = queued.id
        db.session.flush()
        digests, carried = digests + 1, carried + len(notes)
    return DigestRun(day, digests, carried)


def _claim_digest(user_id: int, day: date) -> int | None:
    """Insert the digest row of (user, day) unless it exists; its id when we inserted it."""
    insert = ON_CONFLICT_INSERT[db.session.get_bind().dialect.name]
    statement = (
        insert(MailDigest)
        .values(user_id=user_id, day=day, items=0, created_at=clock.utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "day"])
        .returning(MailDigest.id)
    )
    return db.session.scalar(statement)


_PATH_LINE = re.compile(r"^(\s*链接：)(/\S*)$", re.MULTILINE)


def absolute_links(body: str) -> str:
    """A notification body with its ``链接：/path`` lines made absolute, for e-mail."""
    return _PATH_LINE.sub(lambda match: match.group(1) + absolute(match.group(2)), body)
