"""Dashboard reads: headline figures, the RAG matrix, overdue list, scorecards, trends.

The public functions below are the dashboard's interface for other domains (the Excel export
and the JSON API call them); their signatures and result types are kept stable:

* :func:`headline`, :func:`scorecard`, :func:`matrix`, :func:`overdue`, :func:`cells`,
  :func:`lead_items`, :func:`lead_summary`, :func:`trend`, :func:`item_history` and
  :func:`dashboard_data` (one JSON-ready ``dict``).
* Each takes a :class:`~tracker.periods.Period`, an optional ``document_id`` and an
  optional set of ``department_ids`` (``None``: every department; pass
  :func:`tracker.auth.permissions.visible_department_ids` of the user), plus keyword filters.

Every figure is counted in SQL with a fixed number of queries whatever the data size: one
``GROUP BY`` over the period's obligations (:func:`_groups`) feeds the headline, the scorecard
and the lead-department summary; the matrix reads one page of items. Working days late need
China's official calendar, so SQL groups obligations by due date and submission date and
Python turns the few distinct date pairs into working days.

A period whose snapshot is frozen (:mod:`tracker.dashboard.services`) is read from the
snapshot, so its figures no longer move; reports that arrived after the snapshot still show,
marked late (``Cell.arrived_late``).
"""

from __future__ import annotations

import enum
import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument, Role, Task
from tracker.dashboard.models import Snapshot, SnapshotCell, SnapshotDepartment
from tracker.dashboard.rag import (
    Light,
    Rag,
    Reason,
    Thresholds,
    overdue_sql,
    rag_for,
    reason_sql,
    reasons_of,
    working_days_late,
)
from tracker.extensions import db
from tracker.followups import queries as followup_queries
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, Report, ReportState, ReportVersion

SECTION_PARTS = catalogue_queries.SECTION_PARTS  # 二 / 三 / 四, the main text's parts
MATRIX_PAGE_SIZE = 50
# A supporting input in these states holds its lead department up.
PENDING_REASONS = (Reason.OVERDUE.value, Reason.RETURNED.value)
OVERDUE_LIMIT = 50

_O = Obligation.__table__
_R = Report.__table__
_T = Task.__table__
_D = PolicyDocument.__table__
_C = SnapshotCell.__table__


# -- small value types ----------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentRef:
    """A department as the dashboard shows it (plain values, JSON-ready)."""

    id: int
    code: str
    name: str
    short_name: str
    position: int = 0  # place in the documents' list of departments


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
        return self.light.rag

    @property
    def label(self) -> str:
        text = self.light.label
        if self.arrived_late:
            text += f" · {self.arrived_late.isoformat()}补报"
        return text


class Change(enum.StrEnum):
    """An item's state against the previous quarter."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    NONE = "none"  # nothing comparable (not yet due, or no obligation then)

    @property
    def label(self) -> str:
        return {"better": "好转", "same": "持平", "worse": "退步", "none": "—"}[self.value]

    @property
    def arrow(self) -> str:
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


# -- scope -------------------------------------------------------------------------------------


_LOOK_UP = object()


@dataclass(frozen=True)
class Scope:
    """What a dashboard shows: a period, filters, the judging day and the period's snapshot."""

    period: Period
    document_id: int | None = None
    department_ids: frozenset[int] | None = None
    section: str | None = None
    role: Role | None = None
    rag: Rag | None = None  # narrows the matrix and lists, never the figures
    today: date = field(default_factory=clock.local_today)
    snapshot: Snapshot | None = None

    @property
    def frozen(self) -> bool:
        return self.snapshot is not None

    @property
    def judged_on(self) -> date:
        """The day the lights are judged on: the closing day when frozen, else today."""
        return self.snapshot.closes_on if self.snapshot else self.today

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds.on(self.judged_on, report_queries.calendar(), amber_working_days())


def make_scope(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    section: str | None = None,
    role: Role | str | None = None,
    rag: Rag | str | None = None,
    today: date | None = None,
    snapshot=_LOOK_UP,
) -> Scope:
    """Build a :class:`Scope`; looks the period's snapshot up unless one (or None) is given."""
    if snapshot is _LOOK_UP:
        snapshot = snapshot_for(period)
    return Scope(
        period=period,
        document_id=document_id,
        department_ids=frozenset(department_ids) if department_ids is not None else None,
        section=section or None,
        role=Role(role) if role else None,
        rag=Rag(rag) if rag else None,
        today=today or clock.local_today(),
        snapshot=snapshot,
    )


def amber_working_days() -> int:
    return int(current_app.config["TRACKER_AMBER_WORKING_DAYS"])


def snapshot_for(period: Period) -> Snapshot | None:
    """The period's frozen snapshot, if it has one."""
    return db.session.scalar(sa.select(Snapshot).where(Snapshot.period == period.key))


def snapshots() -> dict[str, Snapshot]:
    """Every snapshot by period key (a handful of rows: one per closed quarter)."""
    return {s.period: s for s in db.session.scalars(sa.select(Snapshot))}


def document_choices() -> list[tuple[int, str]]:
    """(id, number) of every document, newest issue first, for the filter menus."""
    return [
        (doc_id, number)
        for doc_id, number in db.session.execute(
            sa.select(PolicyDocument.id, PolicyDocument.number).order_by(
                PolicyDocument.issued.desc().nulls_last(), PolicyDocument.id
            )
        )
    ]


def department_refs() -> list[DepartmentRef]:
    """Every department in the documents' order, as plain values."""
    rows = db.session.execute(
        sa.select(Department.id, Department.code, Department.name, Department.short_name).order_by(
            Department.position, Department.id
        )
    )
    return [DepartmentRef(*row, position=i) for i, row in enumerate(rows)]


# -- SQL building blocks -----------------------------------------------------------------------


def local_date(column, period: Period) -> sa.ColumnElement:
    """The Beijing-time (``TRACKER_TIMEZONE``) calendar date of a stored UTC timestamp.

    PostgreSQL converts with the zone's rules; SQLite adds the zone's UTC offset at the
    period's end, which is exact for zones without daylight saving (Asia/Shanghai).
    """
    zone = clock.zone()
    if _dialect() == "postgresql":
        return sa.cast(sa.func.timezone(zone.key, sa.func.timezone("UTC", column)), sa.Date)
    return sa.func.date(column, f"{_offset_minutes(period):+d} minutes", type_=sa.Date)


def _offset_minutes(period: Period) -> int:
    offset = datetime.combine(period.end, time(12), tzinfo=clock.zone()).utcoffset()
    return int(offset.total_seconds() // 60)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _task_filters(query, scope: Scope, task_id_column):
    """Narrow to a document and a main-text part (these need the task)."""
    if scope.document_id is None and not scope.section:
        return query
    query = query.join(_T, _T.c.id == task_id_column)
    if scope.document_id is not None:
        query = query.where(_T.c.document_id == scope.document_id)
    if scope.section:
        query = query.where(
            sa.or_(_T.c.section == scope.section, _T.c.section.startswith(scope.section + "("))
        )
    return query


def _cell_filters(query, scope: Scope, table, *, with_rag: bool, reason=None):
    """Narrow cells to the scope's departments, role and (optionally) colour."""
    if scope.department_ids is not None:
        query = query.where(table.c.department_id.in_(sorted(scope.department_ids)))
    if scope.role is not None:
        query = query.where(table.c.role == scope.role)
    if with_rag and scope.rag == Rag.RED and table is _O:
        query = query.where(overdue_sql(_R.c.state, _O.c.waived, _O.c.due_date, scope.thresholds))
    elif with_rag and scope.rag is not None:
        query = query.where(reason.in_([r.value for r in reasons_of(scope.rag)]))
    return query


def _live_reason(scope: Scope) -> sa.ColumnElement:
    return reason_sql(_R.c.state, _O.c.waived, _O.c.due_date, scope.thresholds)


def _live_from():
    return _O.outerjoin(_R, _R.c.obligation_id == _O.c.id)


# -- the aggregate -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Alike obligations of one department and role, counted in SQL."""

    department_id: int
    role: Role
    reason: Reason
    count: int
    late_submitted: int  # of which first submitted after the due date
    days_late: int  # working days late, summed over the group
    max_days_late: int
    returns: int = 0
    lead_department_id: int | None = None  # supporting groups: who leads their items


def aggregate_query(scope: Scope) -> sa.Select:
    """The one ``GROUP BY`` every live figure rests on (the benchmark times it bare).

    One row per (department, role, reason, due date, late submission date, and for supporting
    inputs that are overdue or returned the item's lead department): on-time submissions share
    a NULL submission date, so the row count stays small.
    """
    submitted_on = local_date(_R.c.first_submitted_at, scope.period)
    late_on = sa.case((submitted_on > _O.c.due_date, submitted_on))
    # Only a supporting input that holds its lead up (overdue or returned) needs the lead's
    # name, so the lookup runs for few rows.
    pending = _live_reason(scope).in_(PENDING_REASONS)
    lead = _O.alias("lead")
    lead_of = (
        sa.select(sa.func.min(lead.c.department_id))
        .where(
            lead.c.task_id == _O.c.task_id,
            lead.c.period == _O.c.period,
            lead.c.role == Role.LEAD,
        )
        .scalar_subquery()
    )
    inner = (
        sa.select(
            _O.c.department_id,
            _O.c.role,
            _live_reason(scope).label("reason"),
            _O.c.due_date,
            late_on.label("late_on"),
            sa.case((sa.and_(_O.c.role == Role.SUPPORT, pending), lead_of)).label("lead_of"),
            _returns_of(_R).label("returns"),
        )
        .select_from(_live_from())
        .where(_O.c.period == scope.period.key)
    )
    inner = _task_filters(inner, scope, _O.c.task_id).subquery()
    keys = [inner.c[name] for name in ("department_id", "role", "reason", "due_date", "late_on",
                                        "lead_of")]  # fmt: skip
    return sa.select(
        *keys, sa.func.count().label("n"), sa.func.sum(inner.c.returns).label("returns")
    ).group_by(*keys)


def _returns_of(report) -> sa.ColumnElement:
    """How many times a report was returned, as a column (0 without a report).

    Only reports ever returned carry a return reason (it is never cleared), so the versions
    are counted for those few alone.
    """
    version = ReportVersion.__table__
    count = (
        sa.select(sa.func.count())
        .where(version.c.report_id == report.c.id, version.c.action == "return")
        .scalar_subquery()
    )
    return sa.case((report.c.return_reason.is_not(None), count), else_=0)


def _groups(scope: Scope) -> list[Group]:
    """Every obligation of the scope's period and document, counted (one query)."""
    if scope.frozen:
        return _frozen_groups(scope)
    cal = report_queries.calendar()
    groups = []
    rows = db.session.execute(aggregate_query(scope))
    for dept, role, reason, due, late_on, lead_of, n, returns in rows:
        reason, role = Reason(reason), Role(role)
        if reason == Reason.OVERDUE:
            late = working_days_late(cal, due, scope.judged_on)
        elif late_on is not None:
            late = working_days_late(cal, due, late_on)
        else:
            late = 0
        late_submitted = n if late_on is not None and reason != Reason.WAIVED else 0
        groups.append(
            Group(dept, role, reason, n, late_submitted, late * n, late, int(returns), lead_of)
        )
    return groups


def _frozen_groups(scope: Scope) -> list[Group]:
    """The same counts read from the snapshot (one query)."""
    lead = _C.alias("lead")
    lead_of = (
        sa.select(sa.func.min(lead.c.department_id))
        .where(
            lead.c.snapshot_id == _C.c.snapshot_id,
            lead.c.task_id == _C.c.task_id,
            lead.c.role == Role.LEAD,
        )
        .scalar_subquery()
    )
    inner = sa.select(
        _C.c.department_id, _C.c.role, _C.c.reason, _C.c.late, _C.c.days_late, _C.c.returns,
        sa.case(
            (sa.and_(_C.c.role == Role.SUPPORT, _C.c.reason.in_(PENDING_REASONS)), lead_of)
        ).label("lead_of"),
    ).where(_C.c.snapshot_id == scope.snapshot.id)  # fmt: skip
    inner = _task_filters(inner, scope, _C.c.task_id).subquery()
    keys = [inner.c.department_id, inner.c.role, inner.c.reason, inner.c.lead_of]
    query = sa.select(
        *keys,
        sa.func.count(),
        sa.func.sum(sa.case((inner.c.late.is_(True), 1), else_=0)),
        sa.func.sum(inner.c.days_late),
        sa.func.max(inner.c.days_late),
        sa.func.sum(inner.c.returns),
    ).group_by(*keys)
    return [
        Group(dept, Role(role), Reason(reason), n, int(late or 0), int(days or 0),
              int(most or 0), int(returns or 0), lead_of)
        for dept, role, reason, lead_of, n, late, days, most, returns in db.session.execute(query)
    ]  # fmt: skip


# -- headline and scorecard --------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over a set of obligations; rates and averages derive from them."""

    obligations: int = 0  # not waived
    waived: int = 0
    submitted: int = 0  # handed in at least once (submitted, returned or accepted)
    accepted: int = 0
    pending_review: int = 0  # blue
    returned: int = 0  # currently returned (amber)
    due_soon: int = 0  # amber, not submitted
    not_due: int = 0  # grey, not submitted
    overdue: int = 0  # red
    on_time: int = 0  # first submitted by the due date
    late: int = 0  # first submitted after the due date, or overdue and not submitted
    days_late: int = 0  # working days, summed over ``late``
    max_days_late: int = 0
    returns: int = 0  # times a report was returned for revision
    urges: int = 0
    acknowledged: int = 0

    def add(self, group: Group) -> None:
        n, reason = group.count, group.reason
        self.returns += group.returns
        if reason == Reason.WAIVED:
            self.waived += n
            return
        self.obligations += n
        if reason in (Reason.ACCEPTED, Reason.SUBMITTED, Reason.RETURNED):
            self.submitted += n
            self.accepted += n if reason == Reason.ACCEPTED else 0
            self.pending_review += n if reason == Reason.SUBMITTED else 0
            self.returned += n if reason == Reason.RETURNED else 0
            self.on_time += n - group.late_submitted
            self.late += group.late_submitted
        elif reason == Reason.OVERDUE:
            self.overdue += n
            self.late += n
        elif reason == Reason.DUE_SOON:
            self.due_soon += n
        else:
            self.not_due += n
        if group.late_submitted or reason == Reason.OVERDUE:
            self.days_late += group.days_late
            self.max_days_late = max(self.max_days_late, group.max_days_late)

    @property
    def judged(self) -> int:
        """Obligations whose timeliness is known: submitted, or overdue."""
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        """On-time submissions over judged obligations; None while nothing is judged."""
        return self.on_time / self.judged if self.judged else None

    @property
    def avg_days_late(self) -> float | None:
        """Mean working days late over the late and overdue obligations; None if none."""
        return self.days_late / self.late if self.late else None

    @property
    def red_share(self) -> float:
        """Share of red (overdue) among the obligations."""
        return self.overdue / self.obligations if self.obligations else 0.0


@dataclass(frozen=True)
class Headline:
    """The dashboard's top figures."""

    obligations: int
    submitted: int
    accepted: int
    on_time_rate: float | None
    overdue: int
    returned: int
    pending_review: int
    due_soon: int
    waived: int
    judged: int
    on_time: int
    avg_days_late: float | None

    @classmethod
    def of(cls, t: Tally) -> Headline:
        return cls(
            obligations=t.obligations, submitted=t.submitted, accepted=t.accepted,
            on_time_rate=t.on_time_rate, overdue=t.overdue, returned=t.returned,
            pending_review=t.pending_review, due_soon=t.due_soon, waived=t.waived,
            judged=t.judged, on_time=t.on_time, avg_days_late=t.avg_days_late,
        )  # fmt: skip

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoreRow:
    """One department's 考核 line for a period."""

    department: DepartmentRef
    obligations: int
    on_time_rate: float | None
    avg_days_late: float | None
    returns: int
    urges: int
    red_share: float
    rank: int
    on_time: int = 0
    judged: int = 0
    late: int = 0
    overdue: int = 0
    submitted: int = 0
    accepted: int = 0
    acknowledged: int = 0
    lead_items: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        data["department"] = self.department.code
        data["department_name"] = self.department.name
        return data


SCORE_SORTS = {
    "rank": lambda row: row.rank,
    "department": lambda row: row.department.position,
    "obligations": lambda row: row.obligations,
    "on_time_rate": lambda row: -1 if row.on_time_rate is None else row.on_time_rate,
    "avg_days_late": lambda row: row.avg_days_late or 0,
    "returns": lambda row: row.returns,
    "urges": lambda row: row.urges,
    "red_share": lambda row: row.red_share,
}


def rank_key(t: Tally) -> tuple:
    """The ranking: on-time rate (higher first; none yet last), then fewer red, fewer days
    late, fewer returns, fewer urges. Equal keys share a rank."""
    rate = t.on_time_rate
    return (
        rate is None,
        -(rate or 0.0),
        round(t.red_share, 9),
        round(t.avg_days_late or 0.0, 9),
        t.returns,
        t.urges,
    )


def _filtered(groups: Iterable[Group], scope: Scope, *, departments: bool) -> list[Group]:
    out = [g for g in groups if scope.role is None or g.role == scope.role]
    if departments and scope.department_ids is not None:
        out = [g for g in out if g.department_id in scope.department_ids]
    return out


def _tally(groups: Iterable[Group]) -> Tally:
    tally = Tally()
    for group in groups:
        tally.add(group)
    return tally


def _headline(groups: list[Group], scope: Scope) -> Headline:
    return Headline.of(_tally(_filtered(groups, scope, departments=True)))


def _scorecard(groups: list[Group], scope: Scope, urges: dict, departments) -> list[ScoreRow]:
    """Rank every department in the scope, then keep the asked-for ones."""
    rows = _ranked(groups, scope, urges, departments)
    if scope.department_ids is not None:
        rows = [row for row in rows if row.department.id in scope.department_ids]
    return rows


def _ranked(groups: list[Group], scope: Scope, urges: dict, departments) -> list[ScoreRow]:
    """Every department with obligations in the scope, ranked (see :func:`rank_key`)."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    lead_items: dict[int, int] = defaultdict(int)
    for group in _filtered(groups, scope, departments=False):
        tallies[group.department_id].add(group)
        if group.role == Role.LEAD and group.reason != Reason.WAIVED:
            lead_items[group.department_id] += group.count
    for dept_id, tally in tallies.items():
        tally.urges, tally.acknowledged = urges.get(dept_id, (0, 0))
    by_id = {d.id: d for d in departments}
    place = {d.id: i for i, d in enumerate(departments)}  # ties: in the documents' order
    ordered = sorted(
        (t for t in tallies.items() if t[1].obligations),
        key=lambda item: (rank_key(item[1]), place[item[0]]),
    )
    rows, previous_key, rank = [], None, 0
    for position, (dept_id, t) in enumerate(ordered, start=1):
        key = rank_key(t)
        if key != previous_key:
            rank, previous_key = position, key
        rows.append(
            ScoreRow(
                department=by_id[dept_id], obligations=t.obligations, on_time_rate=t.on_time_rate,
                avg_days_late=t.avg_days_late, returns=t.returns, urges=t.urges,
                red_share=t.red_share, rank=rank, on_time=t.on_time, judged=t.judged,
                late=t.late, overdue=t.overdue, submitted=t.submitted, accepted=t.accepted,
                acknowledged=t.acknowledged, lead_items=lead_items[dept_id],
            )
        )  # fmt: skip
    return rows


def sort_scorecard(rows: list[ScoreRow], key: str = "rank", descending: bool = False):
    """Rows sorted by one column (ties by rank); unknown keys sort by rank."""
    getter = SCORE_SORTS.get(key, SCORE_SORTS["rank"])
    return sorted(rows, key=getter, reverse=descending)  # stable: ties keep the rank order


def urge_counts(scope: Scope) -> dict[int, tuple[int, int]]:
    """Urges received per department in the scope: ``{department_id: (urges, acknowledged)}``.

    Only urges on the obligations the scope's document, part and role filters keep are
    counted, as for every other figure of the scorecard. A frozen period counts what was
    recorded when it froze: the totals kept in the snapshot when unfiltered, else the urges
    made (and acknowledged) by the freezing moment. Live periods ask the follow-ups domain
    (``tracker.followups.queries.urge_counts``).
    """
    filtered = scope.document_id is not None or bool(scope.section) or scope.role is not None
    if scope.frozen and not filtered:
        rows = db.session.execute(
            sa.select(
                SnapshotDepartment.department_id,
                SnapshotDepartment.urges,
                SnapshotDepartment.acknowledged,
            ).where(SnapshotDepartment.snapshot_id == scope.snapshot.id)
        )
        return {dept: (urges, ack) for dept, urges, ack in rows}
    return live_urge_counts(
        scope.period,
        obligation_ids=_scope_obligation_ids(scope) if filtered else None,
        as_of=scope.snapshot.frozen_at if scope.frozen else None,
    )


def _scope_obligation_ids(scope: Scope) -> sa.Select:
    """The ids of the period's obligations that the scope's document, part and role keep."""
    query = sa.select(_O.c.id).where(_O.c.period == scope.period.key)
    if scope.role is not None:
        query = query.where(_O.c.role == scope.role)
    return _task_filters(query, scope, _O.c.task_id)


def live_urge_counts(period: Period, **options) -> dict[int, tuple[int, int]]:
    """The follow-ups domain's urge counts for a period (``options``: its ``obligation_ids``
    and ``as_of``)."""
    counts = followup_queries.urge_counts(period.key, **options)
    return {int(k): (int(v[0]), int(v[1])) for k, v in counts.items()}


def headline(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> Headline:
    """Headline figures: obligations, submitted, accepted, on-time rate, overdue, returned."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return _headline(_groups(scope), scope)


def scorecard(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> list[ScoreRow]:
    """The 考核 scorecard: one ranked row per department (ranks over all departments)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return _scorecard(_groups(scope), scope, urge_counts(scope), department_refs())


def headline_and_scorecard(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> tuple[Headline, list[ScoreRow]]:
    """Both :func:`headline` and :func:`scorecard` from one aggregate query (for exports)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    groups = _groups(scope)
    return _headline(groups, scope), _scorecard(
        groups, scope, urge_counts(scope), department_refs()
    )


# -- lead departments --------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadSummary:
    """A lead department's standing on the items it leads (牵头 or sole)."""

    department: DepartmentRef
    items: int  # lead obligations (not waived)
    by_rag: dict[Rag, int]
    days_late: int  # working days late, summed over its late and overdue lead reports
    max_days_late: int
    support_pending: int  # supporting inputs on its items that are overdue or returned

    @property
    def behind(self) -> int:
        return self.by_rag.get(Rag.RED, 0) + self.by_rag.get(Rag.AMBER, 0)


def _lead_summary(groups, scope: Scope, departments) -> list[LeadSummary]:
    by_id = {d.id: d for d in departments}
    support_pending: dict[int, int] = defaultdict(int)
    for group in groups:
        if group.lead_department_id and group.reason in PENDING_REASONS:
            support_pending[group.lead_department_id] += group.count
    tallies: dict[int, Tally] = defaultdict(Tally)
    rags: dict[int, dict[Rag, int]] = defaultdict(lambda: defaultdict(int))
    for group in groups:
        if group.role != Role.LEAD or group.reason == Reason.WAIVED:
            continue
        if scope.department_ids is not None and group.department_id not in scope.department_ids:
            continue
        tallies[group.department_id].add(group)
        rags[group.department_id][group.reason.rag] += group.count
    rows = [
        LeadSummary(by_id[dept], t.obligations, dict(rags[dept]), t.days_late, t.max_days_late,
                    support_pending.get(dept, 0))
        for dept, t in tallies.items()
    ]  # fmt: skip
    return sorted(
        rows, key=lambda s: (-s.behind, -s.days_late, -s.support_pending, s.department.id)
    )


def lead_summary(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> list[LeadSummary]:
    """Lead departments, those furthest behind first."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return _lead_summary(_groups(scope), scope, department_refs())


# -- cells, the matrix and the overdue list ----------------------------------------------------


def _cells_query(scope: Scope, *, with_rag: bool = True) -> sa.Select:
    """One row per obligation in scope, with task and document, in item order."""
    task_columns = (_T.c.document_id, _D.c.number, _T.c.number, _T.c.section, _T.c.text)
    if scope.frozen:
        live = _R.alias("live_report")
        query = (
            sa.select(
                _C.c.obligation_id,
                _C.c.task_id,
                _C.c.department_id,
                _C.c.role,
                _C.c.due_date,
                _C.c.reason,
                _C.c.days_late,
                _C.c.late,
                live.c.state,
                live.c.first_submitted_at,
                *task_columns,
            )
            .select_from(
                _C.join(_T, _T.c.id == _C.c.task_id)
                .join(_D, _D.c.id == _T.c.document_id)
                .outerjoin(live, live.c.obligation_id == _C.c.obligation_id)
            )
            .where(_C.c.snapshot_id == scope.snapshot.id)
        )
        table, reason = _C, _C.c.reason
    else:
        reason = _live_reason(scope)
        query = (
            sa.select(
                _O.c.id,
                _O.c.task_id,
                _O.c.department_id,
                _O.c.role,
                _O.c.due_date,
                _O.c.waived,
                _R.c.state,
                _R.c.first_submitted_at,
                *task_columns,
            )
            .select_from(
                _live_from().join(_T, _T.c.id == _O.c.task_id).join(_D, _D.c.id == _T.c.document_id)
            )
            .where(_O.c.period == scope.period.key)
        )
        table = _O
    if scope.document_id is not None:
        query = query.where(_T.c.document_id == scope.document_id)
    if scope.section:
        query = query.where(
            sa.or_(_T.c.section == scope.section, _T.c.section.startswith(scope.section + "("))
        )
    query = _cell_filters(query, scope, table, with_rag=with_rag, reason=reason)
    return query.order_by(_T.c.document_id, _T.c.number, table.c.department_id)


def _cell_of(row, scope: Scope, thresholds: Thresholds) -> tuple[Cell, TaskRef]:
    task = TaskRef(row[1], row[-5], row[-4], row[-3], row[-2], row[-1])
    role = Role(row[3])
    if scope.frozen:
        light = _frozen_light(Reason(row[5]), row[6], row[7])
        state, first = (ReportState(row[8]) if row[8] else None), row[9]
        arrived = None
        if first is not None and first > scope.snapshot.as_of:
            arrived = clock.local_date(first)
        return Cell(row[0], row[1], row[2], role, row[4], light, arrived, state), task
    light = rag_for(row[6], row[7], row[5], row[4], thresholds=thresholds)
    return Cell(row[0], row[1], row[2], role, row[4], light), task


def _frozen_light(reason: Reason, days_late: int, late: bool) -> Light:
    return Light(reason, days_late, bool(late))


def _read_cells(query, scope: Scope) -> list[tuple[Cell, TaskRef]]:
    thresholds = scope.thresholds
    return [_cell_of(row, scope, thresholds) for row in db.session.execute(query)]


def cells(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> list[Cell]:
    """Every cell of the scope (the whole matrix, unpaged), in item order."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return [cell for cell, _ in _read_cells(_cells_query(scope), scope)]


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


def _task_ids_query(scope: Scope) -> sa.Select:
    """The ids of the items in scope, in item order (for paging): one index probe per item."""
    if scope.frozen:
        match = sa.select(_C.c.id).where(
            _C.c.snapshot_id == scope.snapshot.id, _C.c.task_id == _T.c.id
        )
        match = _cell_filters(match, scope, _C, with_rag=True, reason=_C.c.reason)
    else:
        match = sa.select(_O.c.id).where(_O.c.task_id == _T.c.id, _O.c.period == scope.period.key)
        if scope.rag is not None:  # only a colour filter needs the reports
            match = match.select_from(_live_from())
        match = _cell_filters(match, scope, _O, with_rag=True, reason=_live_reason(scope))
    query = sa.select(_T.c.id).where(match.exists())
    if scope.document_id is not None:
        query = query.where(_T.c.document_id == scope.document_id)
    if scope.section:
        query = query.where(
            sa.or_(_T.c.section == scope.section, _T.c.section.startswith(scope.section + "("))
        )
    return query.order_by(_T.c.document_id, _T.c.number)


def _page_cells(scope: Scope, task_ids: list[int], *, with_rag: bool = True):
    if not task_ids:
        return []
    table = _C if scope.frozen else _O
    query = _cells_query(scope, with_rag=with_rag).where(table.c.task_id.in_(task_ids))
    return _read_cells(query, scope)


def _previous_severities(scope: Scope, task_ids: list[int], previous: Snapshot | None):
    """Each page item's state in the previous quarter (same departments and role)."""
    before = Scope(
        period=scope.period.previous(), department_ids=scope.department_ids, role=scope.role,
        today=scope.today, snapshot=previous,
    )  # fmt: skip
    lights: dict[int, list[Light]] = defaultdict(list)
    for cell, _ in _page_cells(before, task_ids, with_rag=False):
        lights[cell.task_id].append(cell.light)
    return {task_id: item_severity(found) for task_id, found in lights.items()}


def _task_page(scope: Scope, page: int, per_page: int) -> tuple[list[int], int, int]:
    """One page of item ids, the number of items in scope and the page shown (one query;
    a page past the end shows the first page, with a second query)."""
    page = max(1, page)
    query = _task_ids_query(scope).add_columns(sa.func.count().over()).limit(per_page)
    rows = db.session.execute(query.offset((page - 1) * per_page)).all()
    if not rows and page > 1:
        page, rows = 1, db.session.execute(query).all()
    return [row[0] for row in rows], (rows[0][1] if rows else 0), page


def _matrix(scope: Scope, departments, *, page: int, per_page: int, previous) -> Matrix:
    page_ids, items, page = _task_page(scope, page, per_page)
    pages = max(1, -(-items // per_page))
    rows: dict[int, MatrixRow] = {}
    lights: dict[int, list[Light]] = defaultdict(list)
    used: set[int] = set()
    # Every cell of the page's items, so that "change" compares whole items; a colour filter
    # then only hides the other cells.
    for cell, task in _page_cells(scope, page_ids, with_rag=False):
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
    department_ids=None,
    *,
    page: int = 1,
    per_page: int = MATRIX_PAGE_SIZE,
    **filters,
) -> Matrix:
    """One page of the items × departments matrix (``rag=`` narrows it to one colour)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    previous = snapshot_for(period.previous())
    return _matrix(scope, department_refs(), page=page, per_page=per_page, previous=previous)


@dataclass(frozen=True)
class OverdueRow:
    """An overdue obligation: not submitted after its due date."""

    cell: Cell
    task: TaskRef
    department: DepartmentRef

    @property
    def days_late(self) -> int:
        return self.cell.light.days_late


def _overdue_query(scope: Scope) -> sa.Select:
    overdue_only = replace(scope, rag=Rag.RED)
    query = _cells_query(overdue_only)
    # Most working days late first: the earliest due dates.
    table = _C if scope.frozen else _O
    return query.order_by(None).order_by(
        table.c.due_date, _T.c.document_id, _T.c.number, table.c.department_id
    )


def _overdue(scope: Scope, departments, limit: int | None) -> list[OverdueRow]:
    by_id = {d.id: d for d in departments}
    query = _overdue_query(scope)
    if limit is not None:
        query = query.limit(limit)
    return [
        OverdueRow(cell, task, by_id[cell.department_id])
        for cell, task in _read_cells(query, scope)
    ]


def overdue(
    period: Period,
    document_id: int | None = None,
    department_ids=None,
    *,
    limit: int | None = None,
    **filters,
) -> list[OverdueRow]:
    """Overdue obligations, most working days late first."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return _overdue(scope, department_refs(), limit)


# -- one department's lead items ---------------------------------------------------------------


@dataclass
class LeadItem:
    """An item a department leads: its consolidated report and each supporting input."""

    task: TaskRef
    lead: Cell
    supporting: list[Cell]
    others: list[Cell]  # joint or second lead departments, if any

    @property
    def behind(self) -> bool:
        return self.lead.rag in (Rag.RED, Rag.AMBER) or any(
            c.rag in (Rag.RED, Rag.AMBER) for c in self.supporting
        )


def lead_items(
    period: Period, department_id: int, document_id: int | None = None, **filters
) -> list[LeadItem]:
    """The items ``department_id`` leads in a period, with every department's cell on them."""
    scope = make_scope(period, document_id, None, **filters)
    return _lead_items(scope, department_id)


def _lead_items(scope: Scope, department_id: int) -> list[LeadItem]:
    table = _C if scope.frozen else _O
    led = sa.select(table.c.task_id).where(
        table.c.department_id == department_id, table.c.role == Role.LEAD
    )
    if scope.frozen:
        led = led.where(table.c.snapshot_id == scope.snapshot.id)
    else:
        led = led.where(table.c.period == scope.period.key)
    everyone = replace(scope, department_ids=None, role=None, rag=None)
    query = _cells_query(everyone).where(table.c.task_id.in_(led))
    items: dict[int, LeadItem] = {}
    for cell, task in _read_cells(query, everyone):
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


# -- trends and item history -------------------------------------------------------------------


@dataclass
class Trend:
    """On-time rate per department across quarters (oldest first)."""

    periods: list[Period]
    departments: list[DepartmentRef]
    rates: dict[int, list[float | None]]  # department id → one rate per period
    overall: list[float | None]
    frozen: list[bool]


def trend(
    periods: Iterable[Period],
    document_id: int | None = None,
    department_ids=None,
    *,
    today: date | None = None,
    known_snapshots: dict[str, Snapshot] | None = None,
) -> Trend:
    """On-time rates across ``periods``: frozen quarters from their snapshots, others live.

    At most three queries whatever the number of periods: the snapshots, their counts, and one
    live ``GROUP BY`` over the quarters not yet frozen.
    """
    ordered = sorted(set(periods))
    frozen = snapshots() if known_snapshots is None else known_snapshots
    counts: dict[tuple[str, int], Tally] = defaultdict(Tally)
    frozen_keys = [p.key for p in ordered if p.key in frozen]
    live = [p for p in ordered if p.key not in frozen]
    if frozen_keys:
        _frozen_trend_counts(frozen, frozen_keys, document_id, counts)
    if live:
        _live_trend_counts(live, document_id, today or clock.local_today(), counts)
    departments = department_refs()
    if department_ids is not None:
        wanted = set(department_ids)
        departments = [d for d in departments if d.id in wanted]
    present = {dept for (_, dept) in counts}
    departments = [d for d in departments if d.id in present]
    rates = {d.id: [counts[(p.key, d.id)].on_time_rate for p in ordered] for d in departments}
    overall = []
    for p in ordered:
        total = Tally()
        for d in departments:
            t = counts.get((p.key, d.id))
            if t:
                total.on_time += t.on_time
                total.late += t.late
        overall.append(total.on_time_rate)
    return Trend(ordered, departments, rates, overall, [p.key in frozen for p in ordered])


def _frozen_trend_counts(frozen, keys, document_id, counts) -> None:
    ids = {frozen[key].id: key for key in keys}
    if document_id is None:
        rows = db.session.execute(
            sa.select(
                SnapshotDepartment.snapshot_id,
                SnapshotDepartment.department_id,
                SnapshotDepartment.on_time,
                SnapshotDepartment.judged,
            ).where(SnapshotDepartment.snapshot_id.in_(list(ids)))
        )
    else:
        submitted = [Reason.ACCEPTED, Reason.SUBMITTED, Reason.RETURNED]
        on_time = sa.and_(_C.c.reason.in_(submitted), _C.c.late.is_(False))
        judged = sa.or_(_C.c.reason.in_(submitted), _C.c.reason == Reason.OVERDUE)
        rows = db.session.execute(
            sa.select(
                _C.c.snapshot_id,
                _C.c.department_id,
                sa.func.sum(sa.case((on_time, 1), else_=0)),
                sa.func.sum(sa.case((judged, 1), else_=0)),
            )
            .where(_C.c.snapshot_id.in_(list(ids)), _C.c.document_id == document_id)
            .group_by(_C.c.snapshot_id, _C.c.department_id)
        )
    for snapshot_id, dept, on_time_n, judged_n in rows:
        tally = counts[(ids[snapshot_id], dept)]
        tally.on_time += int(on_time_n or 0)
        tally.late += int(judged_n or 0) - int(on_time_n or 0)


def _live_trend_counts(periods: list[Period], document_id, today: date, counts) -> None:
    """On-time and judged counts of unfrozen quarters, in one ``GROUP BY``."""
    thresholds = Thresholds.on(today, report_queries.calendar(), amber_working_days())
    reason = reason_sql(_R.c.state, _O.c.waived, _O.c.due_date, thresholds)
    submitted_on = local_date(_R.c.first_submitted_at, periods[-1])
    submitted = [Reason.ACCEPTED.value, Reason.SUBMITTED.value, Reason.RETURNED.value]
    on_time = sa.and_(reason.in_(submitted), submitted_on <= _O.c.due_date)
    judged = reason.in_([*submitted, Reason.OVERDUE.value])
    query = (
        sa.select(
            _O.c.period,
            _O.c.department_id,
            sa.func.sum(sa.case((on_time, 1), else_=0)),
            sa.func.sum(sa.case((judged, 1), else_=0)),
        )
        .select_from(_live_from())
        .where(_O.c.period.in_([p.key for p in periods]))
        .group_by(_O.c.period, _O.c.department_id)
    )
    if document_id is not None:
        query = query.join(_T, _T.c.id == _O.c.task_id).where(_T.c.document_id == document_id)
    for key, dept, on_time_n, judged_n in db.session.execute(query):
        tally = counts[(key, dept)]
        tally.on_time += int(on_time_n or 0)
        tally.late += int(judged_n or 0) - int(on_time_n or 0)


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
    department_ids=None,
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
    today = today or clock.local_today()
    known = snapshots() if known_snapshots is None else known_snapshots
    frozen = {p.key: known[p.key] for p in ordered if p.key in known}
    found: dict[tuple[str, int], Cell] = {}
    roles: dict[int, Role] = {}
    # Live periods: one query for every unfrozen period.
    live_keys = [p.key for p in ordered if p.key not in frozen]
    if live_keys:
        thresholds = Thresholds.on(today, report_queries.calendar(), amber_working_days())
        rows = db.session.execute(
            sa.select(
                _O.c.period,
                _O.c.id,
                _O.c.department_id,
                _O.c.role,
                _O.c.due_date,
                _O.c.waived,
                _R.c.state,
                _R.c.first_submitted_at,
            )
            .select_from(_live_from())
            .where(_O.c.task_id == task_id, _O.c.period.in_(live_keys))
        )
        for key, ob_id, dept, role, due, waived, state, first in rows:
            light = rag_for(state, first, waived, due, thresholds=thresholds)
            found[(key, dept)] = Cell(ob_id, task_id, dept, Role(role), due, light)
            roles.setdefault(dept, Role(role))
    if frozen:
        by_id = {snap.id: snap for snap in frozen.values()}
        live = _R.alias("live_report")
        rows = db.session.execute(
            sa.select(
                _C.c.snapshot_id,
                _C.c.obligation_id,
                _C.c.department_id,
                _C.c.role,
                _C.c.due_date,
                _C.c.reason,
                _C.c.days_late,
                _C.c.late,
                live.c.state,
                live.c.first_submitted_at,
            )
            .select_from(_C.outerjoin(live, live.c.obligation_id == _C.c.obligation_id))
            .where(_C.c.task_id == task_id, _C.c.snapshot_id.in_(list(by_id)))
        )
        for snap_id, ob_id, dept, role, due, reason, days, late, state, first in rows:
            snap = by_id[snap_id]
            arrived = clock.local_date(first) if first and first > snap.as_of else None
            light = _frozen_light(Reason(reason), days, late)
            found[(snap.period, dept)] = Cell(
                ob_id, task_id, dept, Role(role), due, light, arrived,
                ReportState(state) if state else None,
            )  # fmt: skip
            roles.setdefault(dept, Role(role))
    if department_ids is not None:
        wanted = set(department_ids)
        found = {k: v for k, v in found.items() if k[1] in wanted}
    refs = {d.id: d for d in department_refs()}
    present = sorted({dept for (_, dept) in found}, key=lambda d: (roles[d] != Role.LEAD, d))
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
    return ItemHistory(
        task=TaskRef(*task_row), periods=ordered,
        departments=[(refs[d], roles[d]) for d in present], cells=found, changes=changes,
        department_changes=department_changes, frozen=set(frozen),
    )  # fmt: skip


# -- the whole dashboard -----------------------------------------------------------------------


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
    groups = _groups(scope)
    head = _headline(groups, scope)
    ranked = _ranked(groups, scope, urge_counts(scope), departments)
    wanted = scope.department_ids
    return Dashboard(
        scope=scope,
        headline=head,
        scorecard=[r for r in ranked if wanted is None or r.department.id in wanted],
        ranked=len(ranked),
        leads=_lead_summary(groups, scope, departments),
        matrix=_matrix(scope, departments, page=page, per_page=per_page, previous=previous),
        overdue=_overdue(scope, departments, overdue_limit) if head.overdue else [],
        overdue_total=head.overdue,
        departments=departments,
        lead_items=_lead_items(scope, lead_department_id) if lead_department_id else [],
    )  # fmt: skip


def dashboard_data(
    period: Period, document_id: int | None = None, department_ids=None, **filters
) -> dict:
    """The dashboard as a JSON-ready ``dict`` (for the API): headline, scorecard, every cell.

    ``{"period", "frozen", "judged_on", "headline": {...}, "scorecard": [{...}],
    "cells": [{"task_number", "document", "department", "role", "state", "rag", ...}]}``.
    """
    scope = make_scope(period, document_id, department_ids, **filters)
    departments = department_refs()
    by_id = {d.id: d for d in departments}
    groups = _groups(scope)
    rows = _read_cells(_cells_query(scope), scope)
    return {
        "period": period.key,
        "frozen": scope.frozen,
        "judged_on": scope.judged_on.isoformat(),
        "headline": _headline(groups, scope).as_dict(),
        "scorecard": [
            row.as_dict() for row in _scorecard(groups, scope, urge_counts(scope), departments)
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
