"""The reminder log: every ladder rung sent, claimed under a unique key.

Every reminder the ladder sends is claimed in :class:`ReminderLog` under a unique key, so a pass
run twice (or by two processes at once) sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model
from tracker.notifications.models import Notification


class ReminderLog(Model):
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
