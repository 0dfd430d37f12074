"""Quarter snapshots: the matrix and scorecards of a closed period, frozen once.

A period closes ``TRACKER_SNAPSHOT_GRACE_DAYS`` working days after its due date. The snapshot
holds every obligation's light as it stood at the end of the closing day (Beijing time), so a
past quarter's dashboard never shifts when late reports arrive; those still show, marked late,
from the live reports. Rows are written once by :mod:`tracker.dashboard.services` and never
changed: the ORM refuses updates and deletes of them (see ``_refuse_changes``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship

from tracker.catalogue.models import Role
from tracker.dashboard.rag import Rag, Reason
from tracker.db import UTCDateTime, utcnow
from tracker.delivery.models import DeliveryStep
from tracker.extensions import Model
from tracker.reports.models import Obligation


def _enum(kind: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(
        kind, name=name, native_enum=False, create_constraint=True, length=16,
        values_callable=lambda members: [m.value for m in members],
    )  # fmt: skip


def _step_column() -> sa.Enum:
    return sa.Enum(
        DeliveryStep, native_enum=False, create_constraint=False, length=16,
        values_callable=lambda members: [m.value for m in members],
    )  # fmt: skip


class Snapshot(Model):
    """One closed period's frozen dashboard."""

    __tablename__ = "dashboard_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(6), unique=True)
    closes_on: Mapped[date]  # the due date plus the grace: the day the lights were judged on
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)  # end of ``closes_on``, Beijing time
    grace_days: Mapped[int]
    cell_count: Mapped[int] = mapped_column(default=0)
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Snapshot {self.period} as of {self.closes_on}>"


class SnapshotCell(Model):
    """One obligation's light in a snapshot, with what the scorecard needs to recount it."""

    __tablename__ = "dashboard_snapshot_cell"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dashboard_snapshot.id", ondelete="CASCADE")
    )
    # The live obligation, to show reports that arrived after the snapshot (marked late).
    obligation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("obligation.id", ondelete="SET NULL"), index=True
    )
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("policy_document.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "snapshot_role"))
    due_date: Mapped[date]
    state: Mapped[str | None] = mapped_column(sa.String(16))  # report state at the close
    reason: Mapped[Reason] = mapped_column(_enum(Reason, "snapshot_reason"))
    rag: Mapped[Rag] = mapped_column(_enum(Rag, "snapshot_rag"))
    submitted_on: Mapped[date | None]  # Beijing date of the first submission, if by the close
    days_late: Mapped[int] = mapped_column(default=0)
    late: Mapped[bool] = mapped_column(default=False)
    returns: Mapped[int] = mapped_column(default=0)
    # The item's delivery light as it stood at freezing (the same on each of the item's cells):
    # the suggestion and the coordinator's judgement, each None when there was none.
    # (No CHECK constraint: columns added to a filled table, the writer is this module alone.)
    delivery_suggested: Mapped[DeliveryStep | None] = mapped_column(_step_column())
    delivery_judged: Mapped[DeliveryStep | None] = mapped_column(_step_column())

    __table_args__ = (
        sa.UniqueConstraint("snapshot_id", "obligation_id"),
        sa.Index("ix_dashboard_snapshot_cell_snapshot_task", "snapshot_id", "task_id"),
    )


class SnapshotDepartment(Model):
    """A department's frozen totals in a snapshot: urges received, and the trend's counts."""

    __tablename__ = "dashboard_snapshot_department"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dashboard_snapshot.id", ondelete="CASCADE")
    )
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), index=True)
    obligations: Mapped[int] = mapped_column(default=0)
    judged: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    red: Mapped[int] = mapped_column(default=0)
    urges: Mapped[int] = mapped_column(default=0)
    acknowledged: Mapped[int] = mapped_column(default=0)

    snapshot: Mapped[Snapshot] = relationship()

    __table_args__ = (sa.UniqueConstraint("snapshot_id", "department_id"),)


class PeriodVersion(Model):
    """The version of a period's figures: the dashboard's cache key.

    Replaced with a new random token by :mod:`tracker.dashboard.freshness` in the same
    transaction as every change to what the aggregate reads; ``period`` is a quarter's key, or
    ``"*"`` for a change that may touch any quarter (the catalogue, a bulk statement). A reader
    that sees a version sees every change committed with it, so an answer cached under it is
    never older than the data.
    """

    __tablename__ = "period_version"

    period: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<PeriodVersion {self.period} {self.version}>"


# The dashboard finds an item's lead and a page of items' cells by (task, period); the reports
# domain indexes those columns only one at a time. Declared here, created by migration 0004.
sa.Index("ix_obligation_task_id_period", Obligation.task_id, Obligation.period)


class SnapshotImmutable(RuntimeError):
    """Raised when code tries to change or delete a frozen snapshot row."""


_FROZEN = (Snapshot, SnapshotCell, SnapshotDepartment)


@sa.event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Snapshots are written once: modifying or deleting their rows is a programming error."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, _FROZEN) and (obj in session.deleted or session.is_modified(obj)):
            raise SnapshotImmutable(f"快照数据不可修改：{obj!r}")
