"""Writing notifications and e-mail: the bell's messages, the outbox, an admin's retry.

Every function here flushes and never commits. E-mail is only *written* here, to the outbox, in
the caller's transaction; it is delivered after the commit by :mod:`tracker.notifications.outbox`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.db import rows_changed
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.notifications import messages
from tracker.notifications.models import Notification, NotificationKind, OutboxMessage, OutboxStatus
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
