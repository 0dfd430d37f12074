"""Lists of obligations: the overdue list, and the items one department leads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from tracker.catalogue.models import Role, Task
from tracker.dashboard.queries.cell import Cell, TaskRef, cells_query, read_cells
from tracker.dashboard.queries.scope import DepartmentRef, Scope, department_refs, make_scope
from tracker.dashboard.queries.source import source_for
from tracker.dashboard.rag import Rag
from tracker.periods import Period

OVERDUE_LIMIT = 50

_T: sa.Table = Task.__table__


@dataclass(frozen=True)
class OverdueRow:
    """An overdue obligation: not submitted after its due date."""

    cell: Cell
    task: TaskRef
    department: DepartmentRef

    @property
    def days_late(self) -> int:
        """Working days late, as of the judging day."""
        return self.cell.light.days_late


def overdue_rows(
    scope: Scope, departments: list[DepartmentRef], limit: int | None
) -> list[OverdueRow]:
    """The scope's overdue obligations, most working days late (earliest due) first."""
    overdue_only = replace(scope, rag=Rag.RED)
    source = source_for(overdue_only)
    table = source.table
    query = (
        cells_query(overdue_only, source)
        .order_by(None)
        .order_by(table.c.due_date, _T.c.document_id, _T.c.number, table.c.department_id)
    )
    if limit is not None:
        query = query.limit(limit)
    by_id = {d.id: d for d in departments}
    return [
        OverdueRow(cell, task, by_id[cell.department_id])
        for cell, task in read_cells(query, source)
    ]


def overdue(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    limit: int | None = None,
    **filters: Any,
) -> list[OverdueRow]:
    """Overdue obligations, most working days late first."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return overdue_rows(scope, department_refs(), limit)


@dataclass
class LeadItem:
    """An item a department leads: its consolidated report and each supporting input."""

    task: TaskRef
    lead: Cell | None  # None only while the lead cell is still being read
    supporting: list[Cell]
    others: list[Cell]  # joint or second lead departments, if any

    @property
    def behind(self) -> bool:
        """The lead report or a supporting input is red or amber."""
        cells = [self.lead, *self.supporting] if self.lead else self.supporting
        return any(c.rag in (Rag.RED, Rag.AMBER) for c in cells)


def lead_items(
    period: Period, department_id: int, document_id: int | None = None, **filters: Any
) -> list[LeadItem]:
    """The items ``department_id`` leads in a period, with every department's cell on them."""
    scope = make_scope(period, document_id, None, **filters)
    return items_led_by(scope, department_id)


def items_led_by(scope: Scope, department_id: int) -> list[LeadItem]:
    """The scope's items ``department_id`` leads, with every department's cell on them."""
    everyone = replace(scope, department_ids=None, role=None, rag=None)
    source = source_for(everyone)
    table = source.table
    led = sa.select(table.c.task_id).where(
        table.c.department_id == department_id, table.c.role == Role.LEAD, source.rows()
    )
    query = cells_query(everyone, source).where(table.c.task_id.in_(led))
    items: dict[int, LeadItem] = {}
    for cell, task in read_cells(query, source):
        item = items.get(task.id)
        if cell.department_id == department_id and cell.role == Role.LEAD:
            if item is None:
                items[task.id] = LeadItem(task, cell, [], [])
            else:
                item.lead = cell
            continue
        if item is None:
            item = items[task.id] = LeadItem(task, None, [], [])  # lead cell comes later
        (item.supporting if cell.role == Role.SUPPORT else item.others).append(cell)
    return [item for item in items.values() if item.lead is not None]
