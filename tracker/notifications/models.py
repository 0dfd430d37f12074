"""In-app notifications (the bell) and the e-mail outbox.

E-mail is written to :class:`OutboxMessage` in the same transaction as the notification and
delivered after the commit by :mod:`tracker.notifications.outbox`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, enum_column, utcnow
from tracker.extensions import Model
from tracker.reports.models import Obligation


class NotificationKind(enum.StrEnum):
    """What a notification is about."""

    REMINDER = "reminder"
    URGE = "urge"
    URGE_ACK = "urge_ack"
    EXTENSION_REQUEST = "extension_request"
    EXTENSION_DECISION = "extension_decision"
    SUPPORT_REMINDER = "support_reminder"
    SIGNOFF = "signoff"

    @property
    def label(self) -> str:
        return {
            "reminder": "催报提醒",
            "urge": "催办",
            "urge_ack": "催办签收",
            "extension_request": "延期申请",
            "extension_decision": "延期审批",
            "support_reminder": "提醒报送",
            "signoff": "审核签发",
        }[self.value]


class Notification(Model):
    """One in-app message to one user; ``read_at`` is set when the user marks it read."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind", length=32)
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


class OutboxMessage(Model):
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
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
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


# Per kind: whether the notification also goes out by e-mail when a user has chosen nothing.
# 催办签收 stays in the app unless asked for: the coordinator sees it on the item anyway.
EMAIL_BY_DEFAULT: dict[NotificationKind, bool] = {kind: True for kind in NotificationKind}
EMAIL_BY_DEFAULT[NotificationKind.URGE_ACK] = False


class NotificationPreference(Model):
    """One user's choice for one kind: in the app only, or in the app and by e-mail.

    A kind without a row follows :data:`EMAIL_BY_DEFAULT`.
    """

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_preference_kind", length=32),
        primary_key=True,
    )
    email: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailMode(enum.StrEnum):
    """How the e-mail a user asked for is sent."""

    EACH = "each"  # one mail per notification (a reminder pass: one mail per pass)
    DIGEST = "digest"  # one mail a day, at TRACKER_DIGEST_AT, with everything since the last

    @property
    def label(self) -> str:
        return {"each": "每次发送", "digest": "每日汇总"}[self.value]


class MailSetting(Model):
    """One user's mail mode; a user without a row gets :attr:`MailMode.EACH`."""

    __tablename__ = "mail_setting"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[MailMode] = mapped_column(enum_column(MailMode, "mail_mode"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailDigest(Model):
    """The daily digest of one user for one (Beijing) day: claimed once under a unique key.

    ``day`` is the digest day whose time had come when it was sent; after downtime the one
    digest of the latest such day carries everything still queued, so nothing goes twice.
    """

    __tablename__ = "mail_digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    day: Mapped[date]
    items: Mapped[int] = mapped_column(default=0)
    outbox_message_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "day"),)


class DigestEntry(Model):
    """A notification waiting for (or carried by) its user's daily digest mail.

    Its own table rather than a column of ``notification``: a later migration that copies
    ``notification`` on SQLite would empty this table through its ON DELETE CASCADE, so such a
    migration must read these rows first and write them back, as 0010 does for the reminder log.
    """

    __tablename__ = "digest_entry"

    notification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("mail_digest.id", ondelete="CASCADE")
    )

    notification: Mapped[Notification] = relationship()

    # The digest job asks for each user's entries not yet sent.
    __table_args__ = (sa.Index("ix_digest_entry_user_pending", "user_id", "digest_id"),)
