"""The whole dashboard page (:func:`dashboard`) and its JSON twin (:func:`dashboard_data`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.aggregate import (
    Headline,
    LeadSummary,
    ScoreRow,
    count_groups,
    headline_of,
    lead_summary_of,
    ranked,
    scorecard_of,
    urge_counts,
)
from tracker.dashboard.queries.cache import cached, snapshot_key
from tracker.dashboard.queries.cell import cells_query, read_cells
from tracker.dashboard.queries.delivery import ItemDelivery, for_period, item_deliveries
from tracker.dashboard.queries.grid import MATRIX_PAGE_SIZE, Matrix, matrix_page
from tracker.dashboard.queries.lists import (
    OVERDUE_LIMIT,
    LeadItem,
    OverdueRow,
    items_led_by,
    overdue_rows,
)
from tracker.dashboard.queries.scope import DepartmentRef, Scope, department_refs, make_scope
from tracker.dashboard.queries.source import source_for
from tracker.periods import Period


@dataclass
class Dashboard:
    """Everything the dashboard page shows, computed with a fixed number of queries."""

    scope: Scope
    headline: Headline
    scorecard: list[ScoreRow]
    leads: list[LeadSummary]
    matrix: Matrix
    overdue: list[OverdueRow]
    overdue_total: int
    departments: list[DepartmentRef]
    lead_items: list[LeadItem] = field(default_factory=list)
    ranked: int = 0  # departments ranked on the scorecard (the "of N" of a rank)
    # The delivery light of the matrix's and the lead list's items, by task id.
    delivery: dict[int, ItemDelivery] = field(default_factory=dict)


def dashboard(
    scope: Scope,
    *,
    previous: Snapshot | None,
    departments: list[DepartmentRef] | None = None,
    page: int = 1,
    per_page: int = MATRIX_PAGE_SIZE,
    overdue_limit: int | None = OVERDUE_LIMIT,
    lead_department_id: int | None = None,
) -> Dashboard:
    """The dashboard page's figures for a scope (``previous``: last quarter's snapshot).

    With ``lead_department_id``, also that department's lead items (the department view).
    """
    departments = department_refs() if departments is None else departments
    extra = (snapshot_key(previous), tuple(departments), page, per_page, overdue_limit,
             lead_department_id)  # fmt: skip
    found = cached(
        "page", scope, extra,
        lambda: _dashboard(scope, previous, departments, page, per_page, overdue_limit,
                           lead_department_id),
        also=(scope.period.previous(),),
    )  # fmt: skip
    return found if found.scope is scope else replace(found, scope=scope)


def _dashboard(
    scope: Scope,
    previous: Snapshot | None,
    departments: list[DepartmentRef],
    page: int,
    per_page: int,
    overdue_limit: int | None,
    lead_department_id: int | None,
) -> Dashboard:
    groups = count_groups(scope)
    head = headline_of(groups, scope)
    rows = ranked(groups, scope, urge_counts(scope), departments)
    wanted = scope.department_ids
    grid = matrix_page(scope, departments, page=page, per_page=per_page, previous=previous)
    lead_items = items_led_by(scope, lead_department_id) if lead_department_id else []
    task_ids = sorted({r.task.id for r in grid.rows} | {i.task.id for i in lead_items})
    frozen = {scope.period.key: scope.snapshot, scope.period.previous().key: previous}
    return Dashboard(
        scope=scope,
        headline=head,
        scorecard=[r for r in rows if wanted is None or r.department.id in wanted],
        ranked=len(rows),
        leads=lead_summary_of(groups, scope, departments),
        matrix=grid,
        overdue=overdue_rows(scope, departments, overdue_limit) if head.overdue else [],
        overdue_total=head.overdue,
        departments=departments,
        lead_items=lead_items,
        delivery=for_period(item_deliveries(task_ids, [scope.period], frozen), scope.period),
    )  # fmt: skip


def dashboard_data(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    **filters: Any,
) -> dict[str, Any]:
    """The dashboard as a JSON-ready ``dict`` (for the API): headline, scorecard, every cell.

    ``{"period", "frozen", "judged_on", "headline": {...}, "scorecard": [{...}],
    "cells": [{"task_number", "document", "department", "role", "state", "rag", ...}]}``.
    """
    # The counted groups and urges come from the cache; the cells (one row per obligation of
    # the period, megabytes at portfolio scale) are read each time rather than kept.
    scope = make_scope(period, document_id, department_ids, **filters)
    departments = department_refs()
    source = source_for(scope)
    by_id = {d.id: d for d in departments}
    groups = count_groups(scope)
    rows = read_cells(cells_query(scope, source), source)
    return {
        "period": period.key,
        "frozen": scope.frozen,
        "judged_on": scope.judged_on.isoformat(),
        "headline": headline_of(groups, scope).as_dict(),
        "scorecard": [
            row.as_dict() for row in scorecard_of(groups, scope, urge_counts(scope), departments)
        ],
        "cells": [
            {
                "obligation_id": cell.obligation_id,
                "task_id": task.id,
                "task_number": task.number,
                "document": task.document_number,
                "section": task.section,
                "department": by_id[cell.department_id].code,
                "role": cell.role.value,
                "state": cell.light.reason.value,
                "rag": cell.rag.value,
                "label": cell.label,
                "due_date": cell.due_date.isoformat(),
                "days_late": cell.light.days_late,
                "late": cell.light.late,
                "arrived_late": cell.arrived_late.isoformat() if cell.arrived_late else None,
            }
            for cell, task in rows
        ],
    }
