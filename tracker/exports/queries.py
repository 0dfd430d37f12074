"""Reading what the workbooks show: a period's obligations, streamed in the attachment's order.

The workbooks are written row by row, so these reads stream too: plain columns (no ORM
objects, no identity map) fetched in batches with ``yield_per``, which on PostgreSQL is a
server-side cursor. Memory stays flat whatever the number of obligations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.dashboard.models import SnapshotCell
from tracker.dashboard.queries.cache import cached_for_period
from tracker.delivery import queries as delivery_queries
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports.models import (
    KeyFigure,
    MilestoneProgress,
    Obligation,
    ProgressStatus,
    Report,
    ReportState,
)
from tracker.reports.services import planned_indicators, planned_milestones

BATCH = 500


@dataclass(frozen=True, slots=True)
class ObligationLine:
    """One obligation of a period with its item, department and report, flattened."""

    obligation_id: int
    document_id: int
    document_number: str
    task_id: int
    task_number: int
    section: str | None
    task_text: str
    all_departments: bool
    department_id: int
    department_name: str
    role: Role
    due_date: date
    waived: bool
    state: ReportState | None
    status: ProgressStatus | None
    confirmed_status: ProgressStatus | None
    first_submitted_at: datetime | None
    progress: str | None
    problems: str | None
    practices: str | None
    suggestions: str | None
    next_steps: str | None
    return_reason: str | None
    version: int | None
    # Who signed the report off inside the department (审核签发), and when.
    approved_by: str | None
    approved_at: datetime | None
    # The light frozen in the period's snapshot, when the period is closed (else None).
    frozen_reason: str | None = None
    frozen_days_late: int | None = None
    frozen_late: bool | None = None


Approver = aliased(User)

_LINE_COLUMNS = (
    Obligation.id, Task.document_id, PolicyDocument.number, Task.id, Task.number, Task.section,
    Task.text, Task.all_departments, Obligation.department_id, Department.name, Obligation.role,
    Obligation.due_date, Obligation.waived, Report.state, Report.status, Report.confirmed_status,
    Report.first_submitted_at, Report.progress, Report.problems, Report.practices,
    Report.suggestions, Report.next_steps, Report.return_reason, Report.version,
    Approver.display_name, Report.approved_at,
)  # fmt: skip


def obligation_lines(
    period: Period,
    *,
    document_id: int | None = None,
    department_id: int | None = None,
    snapshot_id: int | None = None,
) -> Iterator[ObligationLine]:
    """The period's obligations: by document, item number and the clause's order of names.

    With ``snapshot_id``, each line also carries its light as frozen in that snapshot.
    """
    frozen: tuple[sa.SQLColumnExpression[Any], ...] = (sa.null(), sa.null(), sa.null())
    if snapshot_id is not None:
        frozen = (SnapshotCell.reason, SnapshotCell.days_late, SnapshotCell.late)
    query = (
        sa.select(*_LINE_COLUMNS, *frozen)
        .select_from(Obligation)
        .join(Task, Obligation.task_id == Task.id)
        .join(PolicyDocument, Task.document_id == PolicyDocument.id)
        .join(Department, Obligation.department_id == Department.id)
        .join(Assignment, Obligation.assignment_id == Assignment.id)
        .outerjoin(Report, Report.obligation_id == Obligation.id)
        .outerjoin(Approver, Approver.id == Report.approved_by_id)
        .where(Obligation.period == period.key)
        .order_by(PolicyDocument.id, Task.number, Assignment.position, Obligation.id)
        .execution_options(yield_per=BATCH)
    )
    if snapshot_id is not None:
        query = query.outerjoin(
            SnapshotCell,
            sa.and_(
                SnapshotCell.obligation_id == Obligation.id,
                SnapshotCell.snapshot_id == snapshot_id,
            ),
        )
    if document_id is not None:
        query = query.where(Task.document_id == document_id)
    if department_id is not None:
        query = query.where(Obligation.department_id == department_id)
    for row in db.session.execute(query):
        # The columns are the line's fields, in order. Seen as plain values, since mypy cannot
        # spread a row type with a variadic tail over positional parameters.
        values: tuple[Any, ...] = row
        yield ObligationLine(*values)


def figures_by_obligation(
    period: Period, department_id: int
) -> dict[int, list[tuple[str, Decimal, str]]]:
    """The key figures of a department's reports in a period, by obligation id, in order."""
    rows = db.session.execute(
        sa.select(Obligation.id, KeyFigure.name, KeyFigure.value, KeyFigure.unit)
        .join(Report, Report.obligation_id == Obligation.id)
        .join(KeyFigure, KeyFigure.report_id == Report.id)
        .where(Obligation.period == period.key, Obligation.department_id == department_id)
        .order_by(Obligation.id, KeyFigure.position, KeyFigure.id)
    )
    found: dict[int, list[tuple[str, Decimal, str]]] = {}
    for obligation_id, name, value, unit in rows:
        found.setdefault(obligation_id, []).append((name, value, unit or ""))
    return found


def by_task(lines: Iterable[ObligationLine]) -> Iterator[list[ObligationLine]]:
    """Group consecutive lines of the same item (at most one line per department)."""
    for _, group in groupby(lines, key=lambda line: line.task_id):
        yield list(group)


def period_obligation_count(period: Period, document_id: int | None = None) -> int:
    """How many obligations the quarterly export of ``period`` reads (all departments: the
    export reads them all and keeps the reader's). Kept under the period's data version with
    the dashboard's answers: asked before every quarterly download, it is counted again only
    after a change to the quarter or the catalogue."""
    return cached_for_period(
        "obligation_count", period, (document_id,), lambda: _count(period, document_id)
    )


def _count(period: Period, document_id: int | None) -> int:
    query = sa.select(sa.func.count()).select_from(Obligation)
    query = query.where(Obligation.period == period.key)
    if document_id is not None:
        query = query.join(Task, Obligation.task_id == Task.id).where(
            Task.document_id == document_id
        )
    return int(db.session.scalar(query) or 0)


def period_task_ids(period: Period, document_id: int | None = None) -> list[int]:
    """The items with obligations in ``period`` (of one document, if given): one query."""
    query = sa.select(Obligation.task_id).where(Obligation.period == period.key).distinct()
    if document_id is not None:
        query = query.join(Task, Obligation.task_id == Task.id).where(
            Task.document_id == document_id
        )
    return sorted(db.session.scalars(query))


def document_numbers(document_id: int | None = None, limit: int = 3) -> tuple[int, list[str]]:
    """How many documents are in scope, and the numbers of the first ``limit`` of them."""
    # Not labelled "count": a row's .count is also the tuple method, and to a type checker
    # only the method.
    documents = sa.func.count().over().label("documents")
    query = sa.select(PolicyDocument.number, documents).order_by(PolicyDocument.id).limit(limit)
    if document_id is not None:
        query = query.where(PolicyDocument.id == document_id)
    rows = db.session.execute(query).all()
    return (rows[0].documents if rows else 0), [row.number for row in rows]


def obligations_by_id(ids: Iterable[int], chunk: int = 500) -> dict[int, Obligation]:
    """The obligations with these ids (missing ones are simply absent), reports loaded."""
    wanted = sorted(set(ids))
    found: dict[int, Obligation] = {}
    for start in range(0, len(wanted), chunk):
        found.update(
            (obligation.id, obligation)
            for obligation in db.session.scalars(
                sa.select(Obligation)
                .where(Obligation.id.in_(wanted[start : start + chunk]))
                .options(
                    joinedload(Obligation.task),
                    joinedload(Obligation.report).selectinload(Report.figures),
                    joinedload(Obligation.report).selectinload(Report.evidence),
                )
            ).unique()
        )
    return found


INDICATOR_KIND, MILESTONE_KIND = "量化指标", "节点"


@dataclass(frozen=True)
class PlanLine:
    """One line of the plans' sheet: an indicator (its unit) or a due milestone (its quarter)
    of one obligation, with what the report holds of it."""

    obligation_id: int
    task_number: int
    kind: str  # INDICATOR_KIND or MILESTONE_KIND
    key: str
    name: str
    unit_or_due: str
    value: Decimal | None = None
    progress: MilestoneProgress | None = None
    note: str = ""


def plan_lines(period: Period, department_id: int) -> dict[int, list[PlanLine]]:
    """The plans' sheet of a department's template, by obligation id: each indicator in force
    that it reports, then each milestone it answers for due by the quarter, with what its
    report holds of them. A few round trips per item that has a plan in force."""
    obligations = db.session.scalars(
        sa.select(Obligation)
        .where(Obligation.period == period.key, Obligation.department_id == department_id)
        .order_by(Obligation.id)
    )
    found: dict[int, list[PlanLine]] = {}
    planned_items = delivery_queries.planned_task_ids()
    for obligation in obligations:
        if obligation.task_id not in planned_items:
            continue
        report = obligation.report
        values = {v.indicator_key: v.value for v in report.indicator_values} if report else {}
        statuses = {m.milestone_key: m for m in report.milestone_statuses} if report else {}
        number = obligation.task.number
        lines = [
            PlanLine(
                obligation.id, number, INDICATOR_KIND, i.key, i.name, i.unit, values.get(i.key)
            )
            for i in planned_indicators(obligation)
        ]
        for m in planned_milestones(obligation):
            said = statuses.get(m.key)
            lines.append(
                PlanLine(
                    obligation.id, number, MILESTONE_KIND, m.key, m.title, m.due_period,
                    progress=said.progress if said else None, note=said.note if said else "",
                )
            )  # fmt: skip
        if lines:
            found[obligation.id] = lines
    return found
