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


class DeliveryStep(enum.StrEnum):
    """The coordinator's five-step scale of an item's delivery in a quarter (best first).

    A suggested light maps onto it (:data:`tracker.dashboard.delivery_light.SUGGESTED_STEP`):
    green → 按序时推进, amber → 存在滞后风险, red → 明显滞后; 基本按序时 and 严重滞后 are the
    coordinator's own shades either side of the middle and the bottom.
    """

    ON_PACE = "on_pace"
    MOSTLY = "mostly"
    AT_RISK = "at_risk"
    BEHIND = "behind"
    SEVERE = "severe"

    @property
    def label(self) -> str:
        return _STEP_LABELS[self.value]

    @property
    def severity(self) -> int:
        """0 (按序时推进) to 4 (严重滞后), for "better / worse" comparisons."""
        return _STEP_SEVERITY[self.value]

    @property
    def lagging(self) -> bool:
        """存在滞后风险 or worse: the scorecard counts it as lagging."""
        return self.severity >= 2

    @property
    def css_class(self) -> str:
        """The stylesheet class of the colour the step is shown in (the filing lights')."""
        return ("state-green", "state-green", "state-amber", "state-red", "state-red")[
            self.severity
        ]


# Looked up, not rebuilt, on each use: a provinces matrix shows a step in hundreds of cells.
_STEP_LABELS = {
    "on_pace": "按序时推进",
    "mostly": "基本按序时",
    "at_risk": "存在滞后风险",
    "behind": "明显滞后",
    "severe": "严重滞后",
}
_STEP_SEVERITY = {step.value: n for n, step in enumerate(DeliveryStep)}


class DeliveryJudgement(Model):
    """A 民政部 coordinator's judgement of one item's delivery in one quarter.

    ``suggested`` keeps the suggested step at judging time (None: no plan was in force), so
    that a judgement that departs from it shows what it departed from; ``reason`` is required
    then. Judging again changes the row (audited with before and after); ``revision`` makes
    two coordinators judging at once meet at the database.
    """

    __tablename__ = "delivery_judgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(sa.String(6), index=True)
    step: Mapped[DeliveryStep] = mapped_column(_enum(DeliveryStep, "delivery_step"))
    suggested: Mapped[DeliveryStep | None] = mapped_column(
        _enum(DeliveryStep, "delivery_suggested_step")
    )
    reason: Mapped[str | None] = mapped_column(sa.Text)
    judged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    judged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)

    judged_by = relationship("User", foreign_keys=[judged_by_id])

    __table_args__ = (sa.UniqueConstraint("task_id", "period"),)
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - a stale write raises StaleDataError

    def __repr__(self) -> str:
        return f"<DeliveryJudgement task={self.task_id} {self.period} {self.step.value}>"
