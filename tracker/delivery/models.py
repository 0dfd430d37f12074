"""Delivery plans: one per item and answering department, versioned; milestones; indicators.

A plan is proposed by the item's lead department (on a joint item 共同负责, by each joint
department for its share) and approved or returned by a 民政部 coordinator. Every version is
its own row with its own milestones and indicators, so that an approved version is never
changed: a change after approval is a new version (with the reason), which goes back for
approval while the approved one stays in force. Milestones and indicators keep a ``key``
from version to version, so that what reports said about one version's milestone or
indicator still counts under the next.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalogue.models import Department, Task
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model


def _enum(kind: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        kind, name=name, native_enum=False, create_constraint=True, length=16,
        values_callable=lambda members: [m.value for m in members],
    )  # fmt: skip


class PlanState(enum.StrEnum):
    """Where one version of a plan is."""

    PROPOSED = "proposed"  # waiting for a coordinator
    RETURNED = "returned"  # sent back with a reason; the department changes and resubmits
    APPROVED = "approved"  # in force until a later version is approved
    SUPERSEDED = "superseded"  # an approved version a later approved one replaced

    @property
    def label(self) -> str:
        return {
            "proposed": "待审核",
            "returned": "已退回",
            "approved": "已批准",
            "superseded": "已被新版本替代",
        }[self.value]


class Direction(enum.StrEnum):
    """Which way an indicator should move."""

    HIGHER = "higher"
    LOWER = "lower"

    @property
    def label(self) -> str:
        return {"higher": "越高越好", "lower": "越低越好"}[self.value]


class Combine(enum.StrEnum):
    """How the reporting departments' values of one quarter make the item's value."""

    SUM = "sum"
    AVERAGE = "average"
    LATEST = "latest"

    @property
    def label(self) -> str:
        return {"sum": "求和", "average": "平均", "latest": "取最新报送值"}[self.value]


class DeliveryPlan(Model):
    """One version of one department's delivery plan for one item."""

    __tablename__ = "delivery_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)  # the version: 1, 2, …
    state: Mapped[PlanState] = mapped_column(
        _enum(PlanState, "plan_state"), default=PlanState.PROPOSED
    )
    # Why this version changes the approved one (required from version 2 on).
    change_reason: Mapped[str | None] = mapped_column(sa.Text)
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    proposed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic locking: two coordinators deciding at once, or a resubmission meeting a
    # decision, meet at the database and the loser is told to reload.
    revision: Mapped[int] = mapped_column(default=1)

    task: Mapped[Task] = relationship()
    department: Mapped[Department] = relationship(lazy="joined")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="plan", order_by="Milestone.position", cascade="all, delete-orphan"
    )
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="plan", order_by="Indicator.position", cascade="all, delete-orphan"
    )
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    __table_args__ = (sa.UniqueConstraint("task_id", "department_id", "number"),)
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - a stale write raises StaleDataError

    @property
    def pending(self) -> bool:
        """Not (yet) in force: proposed or returned."""
        return self.state in (PlanState.PROPOSED, PlanState.RETURNED)

    def __repr__(self) -> str:
        return f"<DeliveryPlan task={self.task_id} dept={self.department_id} v{self.number}>"


class Milestone(Model):
    """A step of the plan: what, by which quarter (序时进度), and which department answers."""

    __tablename__ = "delivery_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delivery_plan.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(32), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_period: Mapped[str] = mapped_column(sa.String(6))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))

    plan: Mapped[DeliveryPlan] = relationship(back_populates="milestones")
    department: Mapped[Department] = relationship(lazy="joined")


class Indicator(Model):
    """A quantitative indicator of the item, with baseline, target and how values combine."""

    __tablename__ = "delivery_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delivery_plan.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(sa.String(32), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    unit: Mapped[str] = mapped_column(sa.String(20))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "indicator_direction"))
    baseline_value: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    baseline_date: Mapped[date]
    target_value: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    target_date: Mapped[date]
    combine: Mapped[Combine] = mapped_column(_enum(Combine, "indicator_combine"))
    # The departments that report a value each quarter (ids; a handful per item).
    department_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)

    plan: Mapped[DeliveryPlan] = relationship(back_populates="indicators")
