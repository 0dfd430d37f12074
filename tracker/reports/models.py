"""Quarterly reporting: obligations per period, reports, their versions, figures and evidence."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalogue.models import Assignment, Department, Role, Task
from tracker.db import UTCDateTime, utcnow
from tracker.delivery.models import Indicator, Milestone
from tracker.extensions import Model


def _enum(kind: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        kind, name=name, native_enum=False, create_constraint=True, length=16,
        values_callable=lambda members: [m.value for m in members],
    )  # fmt: skip


class ProgressStatus(enum.StrEnum):
    """The department's own assessment of the item (and the coordinator's confirmed one)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ONGOING = "ongoing"

    @property
    def label(self) -> str:
        return {
            "not_started": "未启动",
            "in_progress": "推进中",
            "completed": "已完成",
            "ongoing": "常态化推进",
        }[self.value]


class ReportState(enum.StrEnum):
    """Where a report is in the review workflow."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return {
            "draft": "草稿",
            "submitted": "已报送待审核",
            "returned": "已退回",
            "accepted": "已审核通过",
        }[self.value]


class Obligation(Model):
    """One department's duty to report on one item for one quarter.

    Created for every assignment when a period is opened; ``due_date`` starts as the computed
    date and moves only through an approved extension (``original_due_date`` keeps the first).
    """

    __tablename__ = "obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True
    )
    period: Mapped[str] = mapped_column(sa.String(6), index=True)
    # Denormalised from the assignment so that dashboards group without joins.
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "obligation_role"))
    due_date: Mapped[date]
    original_due_date: Mapped[date]
    waived: Mapped[bool] = mapped_column(default=False)
    waiver_reason: Mapped[str | None] = mapped_column(sa.Text)
    waived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship()
    task: Mapped[Task] = relationship()
    department: Mapped[Department] = relationship(lazy="joined")
    report: Mapped[Report | None] = relationship(back_populates="obligation", uselist=False)

    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "period"),
        # A department's obligations of one quarter: its /reports page and its to-do block
        # read these without scanning every department's quarter (docs/performance.md).
        sa.Index("ix_obligation_department_id_period", "department_id", "period"),
    )

    def __repr__(self) -> str:
        return f"<Obligation {self.period} task={self.task_id} dept={self.department_id}>"


class Report(Model):
    """The report filed for one obligation; edited in place, every save kept as a version."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[ReportState] = mapped_column(
        _enum(ReportState, "report_state"), default=ReportState.DRAFT, index=True
    )
    status: Mapped[ProgressStatus | None] = mapped_column(_enum(ProgressStatus, "self_status"))
    confirmed_status: Mapped[ProgressStatus | None] = mapped_column(
        _enum(ProgressStatus, "confirmed_status")
    )
    progress: Mapped[str] = mapped_column(sa.Text, default="")
    problems: Mapped[str] = mapped_column(sa.Text, default="")
    practices: Mapped[str] = mapped_column(sa.Text, default="")
    suggestions: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps: Mapped[str] = mapped_column(sa.Text, default="")
    return_reason: Mapped[str | None] = mapped_column(sa.Text)
    review_comment: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Sign-off inside the department (审核签发, tracker/reports/signoff.py): a liaison sends
    # the draft to the department's approver (requested_*; the draft is then locked), who
    # approves it, which submits it (approved_*), or returns it with a reason.
    approval_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approval_requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    signoff_return_reason: Mapped[str | None] = mapped_column(sa.Text)

    obligation: Mapped[Obligation] = relationship(back_populates="report")
    figures: Mapped[list[KeyFigure]] = relationship(
        back_populates="report", order_by="KeyFigure.position", cascade="all, delete-orphan"
    )
    # The files still attached: a removed one stays as a tombstone row (Evidence.removed_at),
    # which this collection leaves out; the database deletes all of them with the report.
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="report",
        primaryjoin="and_(Report.id == Evidence.report_id, Evidence.removed_at.is_(None))",
        order_by="Evidence.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number", cascade="all, delete-orphan"
    )
    # The plan's indicators and milestones as this report states them (tracker/delivery).
    indicator_values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="report", order_by="IndicatorValue.id", cascade="all, delete-orphan"
    )
    milestone_statuses: Mapped[list[MilestoneStatus]] = relationship(
        back_populates="report", order_by="MilestoneStatus.id", cascade="all, delete-orphan"
    )
    reviewer = relationship("User", foreign_keys=[reviewer_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    approval_requested_by = relationship("User", foreign_keys=[approval_requested_by_id])
    approved_by = relationship("User", foreign_keys=[approved_by_id])

    __table_args__ = (
        # The review queue: how many reports wait, and the ones waiting longest, read from the
        # index instead of every report of every quarter (docs/performance.md).
        sa.Index("ix_report_state_submitted_at", "state", "submitted_at"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - a stale write raises StaleDataError

    @property
    def awaiting_approval(self) -> bool:
        """Sent to the department's approver and not yet approved or returned."""
        return self.approval_requested_at is not None and self.state in (
            ReportState.DRAFT,
            ReportState.RETURNED,
        )

    @property
    def state_label(self) -> str:
        """The state as pages say it: a draft with the approver reads 待本部门审核签发."""
        return "待本部门审核签发" if self.awaiting_approval else self.state.label

    @property
    def status_disagrees(self) -> bool:
        """The coordinator's confirmed status differs from the department's own assessment."""
        return self.confirmed_status is not None and self.confirmed_status != self.status

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.state}>"


class KeyFigure(Model):
    """An optional figure reported with the narrative (e.g. 培训人次 1200 人次)."""

    __tablename__ = "key_figure"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    value: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))
    unit: Mapped[str] = mapped_column(sa.String(20), default="")

    report: Mapped[Report] = relationship(back_populates="figures")


class Evidence(Model):
    """A file attached to a report, stored outside the static folder under a random name.

    Removing it keeps the row as a tombstone (``removed_at``, ``removed_by``), so that the
    audit trail's stored name and hash still point at a known file.
    """

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    report: Mapped[Report] = relationship(back_populates="evidence")
    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
    removed_by = relationship("User", foreign_keys=[removed_by_id])


class ReportVersion(Model):
    """A frozen copy of a report at one save or transition; versions are never changed."""

    __tablename__ = "report_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("report.id", ondelete="CASCADE"))
    number: Mapped[int]
    action: Mapped[str] = mapped_column(sa.String(32))
    state: Mapped[str] = mapped_column(sa.String(16))
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="versions")
    actor = relationship("User")

    __table_args__ = (sa.UniqueConstraint("report_id", "number"),)


class MilestoneProgress(enum.StrEnum):
    """What a department says of a milestone due by the report's quarter."""

    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not_done"

    @property
    def label(self) -> str:
        return {"done": "已完成", "partly": "部分完成", "not_done": "未完成"}[self.value]


class IndicatorValue(Model):
    """A department's value of one plan indicator in one report (typed, in the indicator's
    unit); the free-form key figures stay beside these as extras."""

    __tablename__ = "report_indicator_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report.id", ondelete="CASCADE"), index=True
    )
    indicator_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delivery_indicator.id", ondelete="CASCADE"), index=True
    )
    # The indicator's key, kept across plan versions (see tracker/delivery/models.py).
    indicator_key: Mapped[str] = mapped_column(sa.String(32), index=True)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(20, 4))

    report: Mapped[Report] = relationship(back_populates="indicator_values")
    indicator: Mapped[Indicator] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("report_id", "indicator_key"),)


class MilestoneStatus(Model):
    """A department's word on one milestone in one report: done, partly, not done, and why."""

    __tablename__ = "report_milestone_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int] = mapped_column(
        sa.ForeignKey("delivery_milestone.id", ondelete="CASCADE"), index=True
    )
    milestone_key: Mapped[str] = mapped_column(sa.String(32), index=True)
    progress: Mapped[MilestoneProgress] = mapped_column(
        _enum(MilestoneProgress, "milestone_progress")
    )
    note: Mapped[str] = mapped_column(sa.Text, default="")

    report: Mapped[Report] = relationship(back_populates="milestone_statuses")
    milestone: Mapped[Milestone] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("report_id", "milestone_key"),)
