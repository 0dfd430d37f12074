"""One row per obligation: the :class:`Cell` with its item (:class:`TaskRef`), read from the
scope's source in item order. The matrix, the lists and the API's cells all read through
:func:`cells_query` and :func:`read_cells`, given the scope's source once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from tracker.catalogue.models import PolicyDocument, Role, Task
from tracker.dashboard.queries.scope import Scope, department_filters, make_scope, task_where
from tracker.dashboard.queries.source import Source, source_for
from tracker.dashboard.rag import Light, Rag
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports.models import ReportState

_T: sa.Table = Task.__table__
_D: sa.Table = PolicyDocument.__table__
_TASK_COLUMNS = (_T.c.document_id, _D.c.number, _T.c.number, _T.c.section, _T.c.text)


@dataclass(frozen=True)
class TaskRef:
    """An item as the dashboard shows it."""

    id: int
    document_id: int
    document_number: str
    number: int
    section: str | None
    text: str

    @property
    def section_part(self) -> str | None:
        """The main-text part (二 / 三 / 四) of the item's section."""
        return self.section.split("(", 1)[0] if self.section else None


@dataclass(frozen=True)
class Cell:
    """One obligation on the matrix: a department's role and light on one item."""

    obligation_id: int | None
    task_id: int
    department_id: int
    role: Role
    due_date: date
    light: Light
    # Frozen periods only: Beijing date of a first submission made after the snapshot.
    arrived_late: date | None = None
    current_state: ReportState | None = None  # the live state, when it differs from the frozen

    @property
    def rag(self) -> Rag:
        """The cell's colour."""
        return self.light.rag

    @property
    def label(self) -> str:
        """The light's text, with the late arrival's date when there is one."""
        text = self.light.label
        if self.arrived_late:
            text += f" · {self.arrived_late.isoformat()}补报"
        return text


def cells_query(scope: Scope, source: Source, *, with_rag: bool = True) -> sa.Select[Any]:
    """One row per obligation in scope, with task and document, in item order."""
    table = source.table
    query = (
        sa.select(
            source.obligation_id,
            table.c.task_id,
            table.c.department_id,
            table.c.role,
            table.c.due_date,
            *source.light_columns(),
            *_TASK_COLUMNS,
        )
        .select_from(
            source.cells_from()
            .join(_T, _T.c.id == table.c.task_id)
            .join(_D, _D.c.id == _T.c.document_id)
        )
        .where(source.rows())
    )
    query = department_filters(task_where(query, scope), scope, table)
    if with_rag and scope.rag is not None:
        query = query.where(source.has_colour(scope.rag))
    return query.order_by(_T.c.document_id, _T.c.number, table.c.department_id)


def read_cells(query: sa.Select[Any], source: Source) -> list[tuple[Cell, TaskRef]]:
    """Run a :func:`cells_query` (narrowed as the caller likes) into cells and their items."""
    return [cell_of(row, source) for row in db.session.execute(query)]


def cells_with_tasks(scope: Scope) -> list[tuple[Cell, TaskRef]]:
    """Every cell of the scope with its item, in item order (one query)."""
    source = source_for(scope)
    return read_cells(cells_query(scope, source), source)


def cell_of(row: sa.Row[Any], source: Source) -> tuple[Cell, TaskRef]:
    """One :func:`cells_query` row as a cell and its item."""
    values = tuple(row)
    ob_id, task_id, dept, role, due = values[:5]
    reading = source.light(due, values[5:-5])
    task = TaskRef(task_id, *values[-5:])
    return Cell(ob_id, task_id, dept, Role(role), due, *reading), task


def cells(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    **filters: Any,
) -> list[Cell]:
    """Every cell of the scope (the whole matrix, unpaged), in item order."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return [cell for cell, _ in cells_with_tasks(scope)]
