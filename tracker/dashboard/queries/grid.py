"""The items × departments matrix: paged in SQL, each item's change since last quarter.

(Named ``grid`` so that the module never shadows the :func:`matrix` function the package
exports.) A page is one query for the item ids (``count(*) OVER ()`` gives the total), one for
the page's cells and one for the same items' cells in the previous quarter, from whichever
source each quarter has.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tracker.catalogue.models import Task
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.cell import Cell, TaskRef, cells_query, read_cells
from tracker.dashboard.queries.scope import (
    DepartmentRef,
    Scope,
    department_filters,
    department_refs,
    make_scope,
    snapshot_for,
    task_where,
)
from tracker.dashboard.queries.source import Source, source_for
from tracker.dashboard.rag import Light
from tracker.extensions import db
from tracker.periods import Period

MATRIX_PAGE_SIZE = 50

_T: sa.Table = Task.__table__


class Change(enum.StrEnum):
    """An item's state against the previous quarter."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    NONE = "none"  # nothing comparable (not yet due, or no obligation then)

    @property
    def label(self) -> str:
        """The change in words."""
        return {"better": "好转", "same": "持平", "worse": "退步", "none": "—"}[self.value]

    @property
    def arrow(self) -> str:
        """The change as an arrow (none for nothing comparable)."""
        return {"better": "↑", "same": "→", "worse": "↓", "none": ""}[self.value]


def item_severity(lights: Iterable[Light]) -> int | None:
    """An item's state: the worst comparable colour among its cells (grey is not comparable)."""
    values = [light.rag.severity for light in lights if light.rag.severity is not None]
    return max(values) if values else None


def change_between(before: int | None, after: int | None) -> Change:
    """Better / same / worse from two :func:`item_severity` values."""
    if before is None or after is None:
        return Change.NONE
    if after < before:
        return Change.BETTER
    return Change.SAME if after == before else Change.WORSE


@dataclass
class MatrixRow:
    """One item on the matrix: its cells by department id and its change since last quarter."""

    task: TaskRef
    cells: dict[int, Cell]
    change: Change = Change.NONE


@dataclass
class Matrix:
    """A page of the items × departments matrix."""

    departments: list[DepartmentRef]
    rows: list[MatrixRow]
    page: int
    pages: int
    items: int  # items in scope, over all pages
    per_page: int


def _task_ids_query(scope: Scope, source: Source) -> sa.Select[Any]:
    """The ids of the items in scope, in item order (for paging): one index probe per item."""
    table = source.table
    # Only a colour filter needs what the reason is computed from.
    match = (
        sa.select(table.c.id)
        .select_from(source.rows_from(with_reason=scope.rag is not None))
        .where(table.c.task_id == _T.c.id, source.rows())
    )
    match = department_filters(match, scope, table)
    if scope.rag is not None:
        match = match.where(source.has_colour(scope.rag))
    query = task_where(sa.select(_T.c.id).where(match.exists()), scope)
    return query.order_by(_T.c.document_id, _T.c.number)


def page_cells(
    scope: Scope, source: Source, task_ids: list[int], *, with_rag: bool = True
) -> list[tuple[Cell, TaskRef]]:
    """The cells of some items in scope (none without items, and then no query)."""
    if not task_ids:
        return []
    query = cells_query(scope, source, with_rag=with_rag)
    return read_cells(query.where(source.table.c.task_id.in_(task_ids)), source)


def _previous_severities(
    scope: Scope, task_ids: list[int], previous: Snapshot | None
) -> dict[int, int | None]:
    """Each page item's state in the previous quarter (same departments and role)."""
    before = Scope(
        period=scope.period.previous(), department_ids=scope.department_ids, role=scope.role,
        today=scope.today, snapshot=previous,
    )  # fmt: skip
    lights: dict[int, list[Light]] = defaultdict(list)
    for cell, _ in page_cells(before, source_for(before), task_ids, with_rag=False):
        lights[cell.task_id].append(cell.light)
    return {task_id: item_severity(found) for task_id, found in lights.items()}


def _task_page(
    scope: Scope, source: Source, page: int, per_page: int
) -> tuple[list[int], int, int]:
    """One page of item ids, the number of items in scope and the page shown (two queries;
    a page past the end shows the first page, with a third).

    The page and the count are separate statements: a window count over the ordered ids
    made the database check every item of the portfolio and sort them all before the
    first page could be cut, where the page alone walks the items' index in order and
    stops at the page's end (docs/performance.md)."""
    page = max(1, page)
    ids = _task_ids_query(scope, source)
    items = db.session.scalar(sa.select(sa.func.count()).select_from(ids.order_by(None).subquery()))
    rows = db.session.scalars(ids.limit(per_page).offset((page - 1) * per_page)).all()
    if not rows and page > 1:
        page, rows = 1, db.session.scalars(ids.limit(per_page)).all()
    return list(rows), items or 0, page


def matrix_page(
    scope: Scope,
    departments: list[DepartmentRef],
    *,
    page: int,
    per_page: int,
    previous: Snapshot | None,
) -> Matrix:
    """One page of the scope's matrix (``previous``: last quarter's snapshot, if frozen)."""
    source = source_for(scope)
    page_ids, items, page = _task_page(scope, source, page, per_page)
    pages = max(1, -(-items // per_page))
    rows: dict[int, MatrixRow] = {}
    lights: dict[int, list[Light]] = defaultdict(list)
    used: set[int] = set()
    # Every cell of the page's items, so that "change" compares whole items; a colour filter
    # then only hides the other cells.
    for cell, task in page_cells(scope, source, page_ids, with_rag=False):
        lights[task.id].append(cell.light)
        row = rows.setdefault(task.id, MatrixRow(task, {}))
        if scope.rag is None or cell.rag == scope.rag:
            row.cells.setdefault(cell.department_id, cell)
            used.add(cell.department_id)
    severities = _previous_severities(scope, page_ids, previous) if page_ids else {}
    for row in rows.values():
        row.change = change_between(severities.get(row.task.id), item_severity(lights[row.task.id]))
    columns = [d for d in departments if d.id in used]
    ordered = [rows[i] for i in page_ids if i in rows]
    return Matrix(columns, ordered, page, pages, items, per_page)


def matrix(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    page: int = 1,
    per_page: int = MATRIX_PAGE_SIZE,
    **filters: Any,
) -> Matrix:
    """One page of the items × departments matrix (``rag=`` narrows it to one colour)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    previous = snapshot_for(period.previous())
    return matrix_page(scope, department_refs(), page=page, per_page=per_page, previous=previous)
