"""Notifications, the reminder log, the e-mail outbox, urges, extension requests, the lease.

Every reminder the ladder sends is claimed in :class:`ReminderLog` under a unique key, so a pass
run twice (or by two processes at once) sends nothing twice. E-mail is written to
:class:`OutboxMessage` in the same transaction as the notification and delivered after the
commit by :mod:`tracker.reminders.outbox`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import db
from tracker.reports.models import Obligation


def _enum(kind: type[enum.Enum], name: str, length: int = 16) -> sa.Enum:
    return sa.Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class NotificationKind(enum.StrEnum):
    """What a notification is about."""

    REMINDER = "reminder"
    URGE = "urge"
    URGE_ACK = "urge_ack"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_DECISION = "extension_decision"

    @property
    def label(self) -> str:
        return {
            "reminder": "催报提醒",
            "urge": "催办",
            "urge_ack": "催办签收",
            "extension_request": "延期申请",
            "extension_decision": "延期审批",
        }[self.value]


class Notification(db.Model):
    """One in-app message to one user; ``read_at`` is set when the user marks it read."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        _enum(NotificationKind, "notification_kind", length=32)
    )
    obligation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    link: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The e-mail that carries it (several reminders of one pass share one message).
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True
    )

    user: Mapped[User] = relationship()
    obligation: Mapped[Obligation | None] = relationship()

    # The bell counts a user's unread notifications on every page.
    __table_args__ = (sa.Index("ix_notification_user_unread", "user_id", "read_at"),)

    def __repr__(self) -> str:
        return f"<Notification {self.kind} user={self.user_id}>"


class ReminderLog(db.Model):
    """A ladder rung sent to one recipient for one obligation: at most once, ever.

    The rung is named (``upcoming_7``, ``due``, ``overdue_w2``…) and counted from ``due_date``,
    the obligation's due date when it was sent: an approved extension starts a new ladder.
    """

    __tablename__ = "reminder_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(sa.ForeignKey("obligation.id", ondelete="CASCADE"))
    due_date: Mapped[date]
    rung: Mapped[str] = mapped_column(sa.String(32))
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification.id", ondelete="SET NULL")
    )
    sent_on: Mapped[date]  # the Beijing-time day of the pass
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("obligation_id", "due_date", "rung", "recipient_id"),)


class OutboxStatus(enum.StrEnum):
    """Where an e-mail is on its way out."""

    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a sender (until ``locked_until``)
    SENT = "sent"
    FAILED = "failed"  # refused permanently (5xx); an admin may retry
    GAVE_UP = "gave_up"  # temporary failures until the attempts ran out

    @property
    def label(self) -> str:
        return {
            "pending": "待发送",
            "sending": "发送中",
            "sent": "已发送",
            "failed": "发送失败",
            "gave_up": "已放弃重试",
        }[self.value]


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as its notification, sent after the commit."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(sa.String(255))
    to_name: Mapped[str] = mapped_column(sa.String(64), default="")
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User | None] = relationship()

    # The sender asks for due messages: status first, then the time they are due.
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.status} to={self.to_address}>"


class Urge(db.Model):
    """催办: a coordinator's nudge on one obligation, and its 签收 by the department."""

    __tablename__ = "urge"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(sa.ForeignKey("obligation.id", ondelete="CASCADE"))
    urged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )

    obligation: Mapped[Obligation] = relationship()
    urged_by: Mapped[User | None] = relationship(foreign_keys=[urged_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])

    # The minimum interval is checked against an obligation's latest urge.
    __table_args__ = (sa.Index("ix_urge_obligation_created", "obligation_id", "created_at"),)


class ExtensionState(enum.StrEnum):
    """Where an extension request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"pending": "待审批", "approved": "已批准", "rejected": "已驳回"}[self.value]


class ExtensionRequest(db.Model):
    """延期申请: a liaison asks for a later due date; a coordinator approves or rejects it."""

    __tablename__ = "extension_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    requested_due_date: Mapped[date]
    previous_due_date: Mapped[date]  # the due date when the request was made (or approved)
    reason: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[ExtensionState] = mapped_column(
        _enum(ExtensionState, "extension_state"), default=ExtensionState.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)

    obligation: Mapped[Obligation] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class SchedulerLease(db.Model):
    """A named lease held by one scheduler process and renewed by its heartbeat.

    Another process takes it over only once ``expires_at`` has passed, i.e. when the holder
    stopped renewing it (it died or hung).
    """

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
