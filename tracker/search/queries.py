"""Reads for the search page: which tasks and reports match, as the user may read them.

A query is one to five terms (split on white space), every one of which must occur (AND), as a
plain substring, case-insensitive for Latin letters: all of them in the report's text, or all
of them in one of its key figures' names.

Reports are read as *streams*: ids newest first, stopped at ``COUNT_CAP + 1``, one stream per
reach (``reaches``: what the reader may read) and part (text, figures), merged in Python. So a
common word costs at most ``COUNT_CAP + 1`` rows per stream, never a count of the table.

- SQLite, three characters or more: the stream is driven from the FTS5 trigram table
  (``MATCH`` quoted phrases, ``ORDER BY rowid DESC``, which FTS5 streams).
- PostgreSQL, any length: ``ILIKE '%term%'`` over the exact expression the trigram GIN index
  is built on; the planner reads the index for three characters or more.
- Two characters (both backends): no trigram index can answer them, so they are tested on each
  row; without a period, document or item filter, only the newest ``SHORT_WINDOW`` reports are
  read, and the page says so.

Access is the same as everywhere else: tasks are read by every signed-in user; a department
reads its own reports in every state, and for the items it leads the other departments'
reports once submitted or accepted (never a draft or a returned report, never the return
reason); coordinators, admins and leaders read everything. docs/architecture.md ("Search")
gives the measurements behind these choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from tracker.auth.models import User
from tracker.auth.permissions import sees_all_departments
from tracker.catalogue.models import Assignment, Role, Task
from tracker.extensions import db
from tracker.reports.labels import FIELD_LABELS, VERSION_LABELS
from tracker.reports.models import KeyFigure, Obligation, Report, ReportState
from tracker.search import models as idx
from tracker.search.highlight import snippet

MIN_TERM = 2
MAX_QUERY = 50
MAX_TERMS = 5
COUNT_CAP = 500  # counts stop here ("500 条以上"): a common word would otherwise count all
TASKS_PER_PAGE = 10
REPORTS_PER_PAGE = 20
FTS_MIN = 3  # the trigram tokenizer's shortest match
# Reports a search with no indexable term and no bounding filter reads at most, newest first.
SHORT_WINDOW = 50_000
READABLE_BY_LEAD = (ReportState.SUBMITTED, ReportState.ACCEPTED)

T = TypeVar("T")


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: the terms and the filters (None: any)."""

    terms: tuple[str, ...]
    document_id: int | None = None
    period: str | None = None
    department_id: int | None = None
    item: int | None = None


@dataclass
class Page(Generic[T]):
    """One page of results and the capped total."""

    items: list[T]
    page: int
    per_page: int
    total: int
    capped: bool = False
    windowed: bool = False  # a two-character search read only the newest SHORT_WINDOW reports
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards in the term escaped (escape character ``\\``)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(term: str, columns: tuple[str, ...] | None = None) -> str:
    """An FTS5 query matching ``term`` as one phrase, in ``columns`` (None: every column)."""
    phrase = '"' + term.replace('"', '""') + '"'
    return f"{{{' '.join(columns)}}} : {phrase}" if columns else phrase


def _fts_ids(table: str, term: str, columns: tuple[str, ...] | None = None) -> sa.Select[int]:
    fts = sa.table(table, sa.column("rowid", sa.Integer))
    # An anonymous bound parameter: several terms put several MATCHes in one statement.
    return sa.select(fts.c.rowid).where(
        sa.literal_column(table).op("MATCH")(fts_phrase(term, columns))
    )


def _like(
    column: sa.ColumnElement[Any] | InstrumentedAttribute[Any], term: str
) -> sa.ColumnElement[bool]:
    """A substring test: ILIKE on PostgreSQL (the trigram index), LIKE on SQLite."""
    if _dialect() == "postgresql":
        return column.ilike(like_pattern(term), escape="\\")
    return column.like(like_pattern(term), escape="\\")


def task_match(term: str) -> sa.ColumnElement[bool]:
    """Where ``term`` occurs in an item's text, its clause or its main-text note."""
    if _dialect() == "postgresql":
        return _like(sa.literal_column(idx.PG_TASK_TEXT), term)
    if len(term) >= FTS_MIN:
        return Task.id.in_(_fts_ids("search_task_fts", term))
    return sa.or_(*(_like(getattr(Task, c), term) for c in idx.TASK_COLUMNS))


def lead_task_ids(department_id: int) -> sa.Select[int]:
    """The items a department leads (牵头, or alone 负责)."""
    return sa.select(Assignment.task_id).where(
        Assignment.department_id == department_id, Assignment.role == Role.LEAD
    )


@dataclass(frozen=True)
class Reach:
    """One part of what a reader may search: which reports, and which of their text columns."""

    where: sa.ColumnElement[bool]
    columns: tuple[str, ...]


def reaches(user: User) -> list[Reach]:
    """What ``user`` may search in reports, as the report pages let them read it."""
    if sees_all_departments(user):
        return [Reach(sa.true(), idx.REPORT_COLUMNS)]
    if user.department_id is None:
        return []
    own = Reach(Obligation.department_id == user.department_id, idx.REPORT_COLUMNS)
    as_lead = Reach(
        sa.and_(
            Obligation.department_id != user.department_id,
            Report.state.in_(READABLE_BY_LEAD),
            Obligation.task_id.in_(lead_task_ids(user.department_id)),
        ),
        idx.REPORT_NARRATIVE_COLUMNS,  # never the return reason of another department
    )
    return [own, as_lead]


def _filters(query: SearchQuery) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if query.document_id is not None:
        found.append(Task.document_id == query.document_id)
    if query.period is not None:
        found.append(Obligation.period == query.period)
    if query.department_id is not None:
        found.append(Obligation.department_id == query.department_id)
    if query.item is not None:
        found.append(Task.number == query.item)
    return found


def _narrowed(query: SearchQuery) -> bool:
    """Do the filters bound a scan (a period, a document or an item)?"""
    return any(v is not None for v in (query.document_id, query.period, query.item))


def _text_like(term: str, columns: tuple[str, ...]) -> sa.ColumnElement[bool]:
    if _dialect() == "postgresql":
        if columns == idx.REPORT_NARRATIVE_COLUMNS:
            return _like(sa.literal_column(idx.PG_REPORT_NARRATIVE), term)
        return sa.or_(
            _like(sa.literal_column(idx.PG_REPORT_NARRATIVE), term),
            _like(Report.return_reason, term),
        )
    return sa.or_(*(_like(getattr(Report, c), term) for c in columns))


def _fts_match(
    table: str, terms: list[str], columns: tuple[str, ...] | None
) -> sa.ColumnElement[bool]:
    expression = " AND ".join(fts_phrase(t, columns) for t in terms)
    return sa.literal_column(table).op("MATCH")(expression)


def _base(stmt: sa.Select[int], query: SearchQuery, reach: Reach) -> sa.Select[int]:
    return (
        stmt.join(Obligation, Obligation.id == Report.obligation_id)
        .join(Task, Task.id == Obligation.task_id)
        .where(reach.where, *_filters(query))
    )


def text_stream(query: SearchQuery, reach: Reach, limit: int) -> tuple[sa.Select[int], bool]:
    """Newest matching reports of one reach, by their text; and whether the scan was windowed.

    On SQLite a term of three characters or more drives the query from the FTS5 table in rowid
    order (it streams: a common word stops at ``limit``); shorter terms are tested on each row.
    Where no term can use an index, and no filter bounds the scan, only the newest
    :data:`SHORT_WINDOW` reports are read.
    """
    long_terms = [t for t in query.terms if len(t) >= FTS_MIN]
    short_terms = [t for t in query.terms if len(t) < FTS_MIN]
    columns = None if reach.columns == idx.REPORT_COLUMNS else reach.columns
    if _dialect() == "sqlite" and long_terms:
        fts = sa.table("search_report_fts", sa.column("rowid", sa.Integer))
        stmt = _base(
            sa.select(fts.c.rowid).select_from(fts).join(Report, Report.id == fts.c.rowid),
            query,
            reach,
        ).where(_fts_match("search_report_fts", long_terms, columns))
        stmt = stmt.where(*(_text_like(t, reach.columns) for t in short_terms))
        return stmt.order_by(fts.c.rowid.desc()).limit(limit), False
    stmt = _base(sa.select(Report.id), query, reach).where(
        *(_text_like(t, reach.columns) for t in query.terms)
    )
    windowed = not long_terms and not _narrowed(query)
    if windowed:
        newest = sa.select(sa.func.max(Report.id)).scalar_subquery()
        stmt = stmt.where(Report.id > newest - SHORT_WINDOW)
    return stmt.order_by(Report.id.desc()).limit(limit), windowed


def figure_stream(query: SearchQuery, reach: Reach, limit: int) -> sa.Select[int]:
    """Newest reports of one reach with a key figure whose name holds every term.

    The matching figures are found first (an index, or a scan of the short names), then
    their reports: driven from the reports, the scan would read every report.
    """
    long_terms = [t for t in query.terms if len(t) >= FTS_MIN]
    figures = sa.select(KeyFigure.report_id)
    terms = list(query.terms)
    if _dialect() == "sqlite" and long_terms:
        fts: sa.Select[Any] = sa.select(sa.column("rowid")).select_from(
            sa.table("search_figure_fts")
        )
        figures = figures.where(
            KeyFigure.id.in_(fts.where(_fts_match("search_figure_fts", long_terms, None)))
        )
        terms = [t for t in query.terms if len(t) < FTS_MIN]
    figures = figures.where(*(_like(KeyFigure.name, t) for t in terms))
    stmt = _base(sa.select(Report.id), query, reach).where(Report.id.in_(figures))
    return stmt.order_by(Report.id.desc()).limit(limit)


def _serial_plans() -> None:
    """No parallel workers for the rest of this transaction on PostgreSQL: each stream is an
    index scan stopped at a LIMIT, which parallel workers only delay (their start-up cost
    the planner undercounts: about 2× the time measured on two busy cores). ``SET LOCAL``
    changes no data and ends with the request's transaction."""
    if _dialect() == "postgresql":
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))


@dataclass
class ReportIds:
    """The newest matching report ids (at most ``COUNT_CAP + 1``), and how they were found."""

    ids: list[int]
    windowed: bool


def report_ids(query: SearchQuery, user: User) -> ReportIds:
    """Every reach's text and figure streams, merged newest first; each stream stops at the
    cap, so a common word costs no more than ``COUNT_CAP + 1`` rows per stream."""
    limit = COUNT_CAP + 1
    _serial_plans()
    found: set[int] = set()
    windowed = False
    for reach in reaches(user):
        stmt, short = text_stream(query, reach, limit)
        windowed = windowed or short
        found.update(db.session.scalars(stmt))
        found.update(db.session.scalars(figure_stream(query, reach, limit)))
    return ReportIds(sorted(found, reverse=True)[:limit], windowed)


def tasks_select(query: SearchQuery) -> sa.Select[int]:
    """Ids of the matching items (every signed-in user reads every item), the newest document
    first, each in its items' order; the period filter is for reports only, items have none."""
    stmt = sa.select(Task.id).where(*(task_match(term) for term in query.terms))
    if query.document_id is not None:
        stmt = stmt.where(Task.document_id == query.document_id)
    if query.department_id is not None:
        on_it = sa.select(Assignment.task_id).where(Assignment.department_id == query.department_id)
        stmt = stmt.where(sa.or_(Task.id.in_(on_it), Task.all_departments.is_(True)))
    if query.item is not None:
        stmt = stmt.where(Task.number == query.item)
    return stmt.order_by(Task.document_id.desc(), Task.number)


def _page_of_ids(stmt: sa.Select[int], page: int, per_page: int) -> tuple[list[int], int, bool]:
    """One page of ids and the total, counted up to :data:`COUNT_CAP`; ``page`` is clamped."""
    bounded = stmt.order_by(None).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(bounded)) or 0
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    page = max(1, min(page, max(1, math.ceil(total / per_page))))
    ids = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return ids, total, capped


def search_reports(query: SearchQuery, user: User, page: int = 1) -> Page[Report]:
    """A page of readable matching reports, loaded with their obligation, item and figures."""
    found = report_ids(query, user)
    total = min(len(found.ids), COUNT_CAP)
    page = max(1, min(page, max(1, math.ceil(total / REPORTS_PER_PAGE))))
    ids = found.ids[(page - 1) * REPORTS_PER_PAGE : page * REPORTS_PER_PAGE]
    rows = db.session.scalars(
        sa.select(Report)
        .where(Report.id.in_(ids))
        .options(
            selectinload(Report.obligation)
            .selectinload(Obligation.task)
            .selectinload(Task.document),
            selectinload(Report.figures),
        )
    ).all()
    by_id = {r.id: r for r in rows}
    result = Page([by_id[i] for i in ids if i in by_id], page, REPORTS_PER_PAGE, total,
                  capped=len(found.ids) > COUNT_CAP)  # fmt: skip
    result.windowed = found.windowed and _has_more_than_window()
    return result


def _has_more_than_window() -> bool:
    newest = db.session.scalar(sa.select(sa.func.max(Report.id))) or 0
    oldest = db.session.scalar(sa.select(sa.func.min(Report.id))) or 0
    return newest - oldest >= SHORT_WINDOW


def search_tasks(query: SearchQuery, page: int = 1) -> Page[Task]:
    """A page of matching items, loaded with their document."""
    ids, total, capped = _page_of_ids(tasks_select(query), page, TASKS_PER_PAGE)
    page = max(1, min(page, max(1, math.ceil(total / TASKS_PER_PAGE))))
    rows = db.session.scalars(
        sa.select(Task).where(Task.id.in_(ids)).options(selectinload(Task.document))
    ).all()
    by_id = {t.id: t for t in rows}
    return Page([by_id[i] for i in ids if i in by_id], page, TASKS_PER_PAGE, total, capped)


def reads_as_lead(user: User, report: Report) -> bool:
    """Does ``user`` read this report only as the item's lead (so not its return reason)?"""
    if sees_all_departments(user):
        return False
    return report.obligation.department_id != user.department_id


@dataclass(frozen=True)
class Context:
    """One field of a result where a term occurs: its label and the marked snippet."""

    label: str
    text: Markup


REPORT_LABELS = {
    **{name: FIELD_LABELS[name] for name in idx.REPORT_NARRATIVE_COLUMNS if name in FIELD_LABELS},
    "review_comment": VERSION_LABELS["review_comment"],
    "return_reason": VERSION_LABELS["return_reason"],
}
TASK_LABELS = {"text": "工作任务", "clause": "责任分工", "main_text_note": "正文说明"}


def report_context(report: Report, terms: tuple[str, ...], *, as_lead: bool) -> list[Context]:
    """The fields of ``report`` where a term occurs, as the reader may read them."""
    names = idx.REPORT_NARRATIVE_COLUMNS if as_lead else idx.REPORT_COLUMNS
    found = [
        Context(REPORT_LABELS[name], marked)
        for name in names
        if (marked := snippet(getattr(report, name), terms)) is not None
    ]
    for figure in report.figures:
        if (marked := snippet(figure.name, terms)) is not None:
            value = f" {figure.value.normalize():f} {figure.unit}".rstrip()
            found.append(Context(FIELD_LABELS["figures"], marked + value))
    return found


def task_context(task: Task, terms: tuple[str, ...]) -> list[Context]:
    """The parts of an item where a term occurs."""
    return [
        Context(TASK_LABELS[name], marked)
        for name in idx.TASK_COLUMNS
        if (marked := snippet(getattr(task, name), terms)) is not None
    ]
