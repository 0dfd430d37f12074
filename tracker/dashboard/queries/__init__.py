"""Dashboard reads: headline figures, the RAG matrix, overdue list, scorecards, trends.

The names exported here are the dashboard's interface for other domains (the Excel export,
the JSON API, the dashboard's own routes and services); their signatures and result types are
kept stable. Each reader takes a :class:`~tracker.periods.Period`, an optional
``document_id`` and an optional set of ``department_ids`` (``None``: every department; pass
:func:`tracker.auth.permissions.visible_department_ids` of the user), plus keyword filters.

The modules, lowest first (each imports only those above it):

``scope``
    :class:`Scope` and :func:`make_scope` (period, filters, judging day, snapshot), the
    thresholds, the SQL filters on document, part, department and role, the period's snapshot
    look-up, and the document and department lists (:class:`DepartmentRef`).
``source``
    :class:`~.source.Source`, the one interface over a quarter's rows, with
    :class:`~.source.LiveSource` (the reports now) and :class:`~.source.FrozenSource` (the
    quarter's snapshot), chosen once per scope by :func:`~.source.source_for`: the FROM
    clause, the RAG reason in SQL, a row's light, the counted :class:`~.source.Group` rows
    (the live ``GROUP BY`` is :func:`aggregate_query`), the urge counts and the trend's counts.
``cell``
    :class:`Cell` and :class:`~.cell.TaskRef`, one row per obligation in item order
    (:func:`cells`).
``aggregate``
    :class:`~.aggregate.Tally`, :class:`Headline`, :class:`ScoreRow`, the ranking and the
    lead summary, all from the one ``GROUP BY`` (:func:`headline`, :func:`scorecard`,
    :func:`headline_and_scorecard`, :func:`lead_summary`, :func:`sort_scorecard`).
``grid``
    The items × departments matrix, paged in SQL, with each item's :class:`Change` since the
    previous quarter (:func:`matrix`).
``lists``
    The overdue list (:func:`overdue`) and one department's lead items (:func:`lead_items`).
``trends``
    On-time rates across the due quarters, with their denominators (:func:`trend`).
``items``
    One item's lights across quarters (:func:`item_history`).
``page``
    The whole dashboard page (:func:`dashboard`) and its JSON twin (:func:`dashboard_data`).

Every figure is counted in SQL with a fixed number of queries whatever the data size: one
``GROUP BY`` over the period's obligations feeds the headline, the scorecard and the
lead-department summary; the matrix reads one page of items. Working days late need China's
official calendar, so the live source groups obligations by due date and submission date and
Python turns the few distinct date pairs into working days.

A period whose snapshot is frozen (:mod:`tracker.dashboard.services`) is read from the
snapshot, so its figures no longer move; reports that arrived after the snapshot still show,
marked late (``Cell.arrived_late``).
"""

from tracker.dashboard.queries.aggregate import (
    SCORE_SORTS,
    Headline,
    ScoreRow,
    headline,
    headline_and_scorecard,
    lead_summary,
    scorecard,
    sort_scorecard,
)
from tracker.dashboard.queries.cell import Cell, cells
from tracker.dashboard.queries.grid import Change, matrix
from tracker.dashboard.queries.items import item_history
from tracker.dashboard.queries.lists import lead_items, overdue
from tracker.dashboard.queries.page import dashboard, dashboard_data
from tracker.dashboard.queries.scope import (
    SECTION_PARTS,
    Scope,
    amber_working_days,
    department_refs,
    describe_filters,
    document_choices,
    make_scope,
    snapshot_for,
    snapshots,
)
from tracker.dashboard.queries.source import aggregate_query, live_urge_counts
from tracker.dashboard.queries.trends import Trend, TrendCell, trend

__all__ = [
    "SCORE_SORTS",
    "SECTION_PARTS",
    "Cell",
    "Change",
    "Headline",
    "Scope",
    "ScoreRow",
    "Trend",
    "TrendCell",
    "aggregate_query",
    "amber_working_days",
    "cells",
    "dashboard",
    "dashboard_data",
    "department_refs",
    "describe_filters",
    "document_choices",
    "headline",
    "headline_and_scorecard",
    "item_history",
    "lead_items",
    "lead_summary",
    "live_urge_counts",
    "make_scope",
    "matrix",
    "overdue",
    "scorecard",
    "snapshot_for",
    "snapshots",
    "sort_scorecard",
    "trend",
]
