"""Reading notifications (the bell) and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tracker.extensions import db
from tracker.notifications.models import Notification, OutboxMessage, OutboxStatus


def unread_count(user_id: int) -> int:
    """The number on the bell."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return count or 0


def notifications_for(user_id: int, *, unread_only: bool = False) -> sa.Select[Notification]:
    """A user's notifications, newest first."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def notification_of(notification_id: int, user_id: int) -> Notification | None:
    """One notification, only if it is the user's own (others' are as good as missing)."""
    return db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


def due_outbox_ids(now: datetime, limit: int = 100) -> list[int]:
    """Messages to attempt now: pending and due, or claimed by a sender whose claim lapsed."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(
                sa.or_(
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.locked_until < now,
                    ),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def outbox_query(status: OutboxStatus | None = None) -> sa.Select[OutboxMessage]:
    """The admin's view of the outbox (optionally one state), newest first, for paging."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return query


def outbox_counts() -> dict[OutboxStatus, int]:
    """How many messages are in each state (every state present, zero included)."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def _unsent() -> sa.ColumnElement[bool]:
    return OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))


def oldest_unsent_at() -> datetime | None:
    """When the oldest message still waiting to go out (pending or sending) was written."""
    return db.session.scalar(sa.select(sa.func.min(OutboxMessage.created_at)).where(_unsent()))


def overdue_outbox_count(cutoff: datetime) -> int:
    """Messages that were due (or whose sender's claim lapsed) before ``cutoff`` and wait still.

    A sender that runs every minute leaves none; a stopped or wedged sender leaves them all.
    """
    pending_late = sa.and_(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at < cutoff
    )
    claim_lapsed = sa.and_(
        OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < cutoff
    )
    statement = sa.select(sa.func.count()).where(sa.or_(pending_late, claim_lapsed))
    return int(db.session.scalar(statement) or 0)
