"""Follow-ups on one obligation: 催办 (urges) with 签收, 延期申请 (extension requests), and a
lead department's 提醒报送 to a supporting department."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, enum_column, utcnow
from tracker.extensions import Model
from tracker.reports.models import Obligation


class Urge(Model):
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


class ExtensionRequest(Model):
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
        enum_column(ExtensionState, "extension_state"), default=ExtensionState.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(sa.Text)

    obligation: Mapped[Obligation] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class SupportReminder(Model):
    """提醒报送: a lead department's liaison reminds a supporting department to submit its input.

    Distinct from 催办 (a coordinator's urge, acknowledged and counted in the scorecard): it is
    one department asking another, at most once a day per supporting obligation (the unique
    constraint on the local day holds that even against two requests at once).
    """

    __tablename__ = "support_reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The supporting department's obligation that is reminded, and the lead's it reports into.
    obligation_id: Mapped[int] = mapped_column(sa.ForeignKey("obligation.id", ondelete="CASCADE"))
    lead_obligation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="CASCADE"), index=True
    )
    sent_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    sent_on: Mapped[date]  # the local (Beijing) day, for the once-a-day rule
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(default=0)  # active liaisons told

    obligation: Mapped[Obligation] = relationship(foreign_keys=[obligation_id])
    lead_obligation: Mapped[Obligation] = relationship(foreign_keys=[lead_obligation_id])
    sent_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("obligation_id", "sent_on"),)
