"""One item's history: each department's light on it, quarter by quarter, and its changes."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from tracker import clock
from tracker.catalogue.models import PolicyDocument, Role, Task
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.cell import Cell, TaskRef
from tracker.dashboard.queries.grid import Change, change_between, item_severity
from tracker.dashboard.queries.scope import DepartmentRef, department_refs, snapshots
from tracker.dashboard.queries.source import Source, sources_for
from tracker.extensions import db
from tracker.periods import Period

_T: sa.Table = Task.__table__
_D: sa.Table = PolicyDocument.__table__


@dataclass
class ItemHistory:
    """One item across quarters: each department's cell per period, and the item's change."""

    task: TaskRef
    periods: list[Period]  # newest first
    departments: list[tuple[DepartmentRef, Role]]
    cells: dict[tuple[str, int], Cell]  # (period key, department id) → cell
    changes: dict[str, Change]  # period key → item change against the period before
    department_changes: dict[tuple[str, int], Change]
    frozen: set[str]


def item_history(
    task_id: int,
    periods: Iterable[Period],
    department_ids: Iterable[int] | None = None,
    *,
    today: date | None = None,
    known_snapshots: dict[str, Snapshot] | None = None,
) -> ItemHistory | None:
    """An item's lights across ``periods`` (three queries: task, live cells, frozen cells)."""
    ordered = sorted(set(periods), reverse=True)
    task_row = db.session.execute(
        sa.select(_T.c.id, _T.c.document_id, _D.c.number, _T.c.number, _T.c.section, _T.c.text)
        .join(_D, _D.c.id == _T.c.document_id)
        .where(_T.c.id == task_id)
    ).first()
    if task_row is None:
        return None
    known = snapshots() if known_snapshots is None else known_snapshots
    frozen = {p.key: known[p.key] for p in ordered if p.key in known}
    found: dict[tuple[str, int], Cell] = {}
    roles: dict[int, Role] = {}
    for source in sources_for(ordered, frozen, today or clock.local_today()):
        for key, cell in _item_cells(source, task_id):
            found[(key, cell.department_id)] = cell
            roles.setdefault(cell.department_id, cell.role)
    if department_ids is not None:
        wanted = set(department_ids)
        found = {k: v for k, v in found.items() if k[1] in wanted}
    refs = {d.id: d for d in department_refs()}
    present = sorted({dept for (_, dept) in found}, key=lambda d: (roles[d] != Role.LEAD, d))
    changes, department_changes = _changes(ordered, found, present)
    return ItemHistory(
        task=TaskRef(*task_row), periods=ordered,
        departments=[(refs[d], roles[d]) for d in present], cells=found, changes=changes,
        department_changes=department_changes, frozen=set(frozen),
    )  # fmt: skip


def _item_cells(source: Source, task_id: int) -> list[tuple[str, Cell]]:
    """The item's cells in every period of ``source``, with their period keys (one query)."""
    table = source.table
    rows = db.session.execute(
        sa.select(
            source.period_column,
            source.obligation_id,
            table.c.department_id,
            table.c.role,
            table.c.due_date,
            *source.light_columns(),
        )
        .select_from(source.cells_from())
        .where(table.c.task_id == task_id, source.rows())
    )
    found = []
    for key, ob_id, dept, role, due, *values in rows:
        cell = Cell(ob_id, task_id, dept, Role(role), due, *source.light(due, values))
        found.append((source.period_of(key), cell))
    return found


def _changes(
    ordered: list[Period], found: dict[tuple[str, int], Cell], present: list[int]
) -> tuple[dict[str, Change], dict[tuple[str, int], Change]]:
    """The item's change, and each department's, from each period to the next newer one."""
    changes, department_changes = {}, {}
    for newer, older in itertools.pairwise(ordered):
        now = item_severity(c.light for (k, _), c in found.items() if k == newer.key)
        then = item_severity(c.light for (k, _), c in found.items() if k == older.key)
        changes[newer.key] = change_between(then, now)
        for dept in present:
            a, b = found.get((older.key, dept)), found.get((newer.key, dept))
            department_changes[(newer.key, dept)] = change_between(
                a.light.rag.severity if a else None, b.light.rag.severity if b else None
            )
    return changes, department_changes
