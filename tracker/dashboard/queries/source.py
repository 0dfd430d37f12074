"""Where a quarter's lights come from: the live reports, or the quarter's frozen snapshot.

Every reader of the dashboard asks the same few questions of a period's obligations: which
rows (the FROM clause and its WHERE), what each row's RAG reason is in SQL, how to turn a row
into a light, how the rows count up into :class:`Group`, how many urges each department
received, and the on-time counts of the trend. :class:`Source` is that set of questions;
:class:`LiveSource` answers them from ``obligation`` and ``report``, judging on a given day,
and :class:`FrozenSource` from ``dashboard_snapshot_cell``, joining live reports only to mark
the ones that arrived after the close. :func:`source_for` picks one for a scope, once, and
each reader is then written once against the interface.

A source may cover several periods of its kind (the trend and an item's history read every
unfrozen quarter in one query, and every frozen one in another); ``period_column`` and
:meth:`Source.period_of` say which period a row belongs to.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, NamedTuple, TypeVar

import sqlalchemy as sa

from tracker import clock
from tracker.catalogue.models import Role, Task
from tracker.dashboard.models import Snapshot, SnapshotCell, SnapshotDepartment
from tracker.dashboard.queries.scope import Scope, local_date, task_filters, thresholds_on
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
from tracker.db import without_hash_joins
from tracker.extensions import db
from tracker.followups import queries as followup_queries
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, Report, ReportState, ReportVersion

# A supporting input in these states holds its lead department up.
PENDING_REASONS = (Reason.OVERDUE.value, Reason.RETURNED.value)
# Handed in at least once: these count as judged on timeliness, as overdue ones do.
_SUBMITTED = (Reason.ACCEPTED.value, Reason.SUBMITTED.value, Reason.RETURNED.value)

_O: sa.Table = Obligation.__table__
_R: sa.Table = Report.__table__
_T: sa.Table = Task.__table__
_C: sa.Table = SnapshotCell.__table__
_LIVE_REPORT = _R.alias("live_report")  # a frozen cell's report as it is now

_Query = TypeVar("_Query", bound=sa.Select[Any])


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


class CellLight(NamedTuple):
    """What a source says of one obligation's row: its light, and for a frozen period what
    changed since the close."""

    light: Light
    arrived_late: date | None = None  # Beijing date of a first submission after the close
    current_state: ReportState | None = None  # the live state of a frozen cell's report


class Source(abc.ABC):
    """The questions the dashboard's readers ask of a period's per-obligation rows.

    ``table`` has one row per obligation with at least ``task_id``, ``department_id``,
    ``role`` and ``due_date``; queries select from :meth:`rows_from` or :meth:`cells_from`
    and narrow with :meth:`rows`.
    """

    frozen: ClassVar[bool]
    table: ClassVar[sa.Table]

    @property
    @abc.abstractmethod
    def obligation_id(self) -> sa.ColumnElement[Any]:
        """The live obligation's id of a row."""

    @property
    @abc.abstractmethod
    def period_column(self) -> sa.ColumnElement[Any]:
        """The column that tells a row's period (see :meth:`period_of`)."""

    @abc.abstractmethod
    def period_of(self, value: Any) -> str:
        """The period key of a row from its ``period_column`` value."""

    @abc.abstractmethod
    def rows(self) -> sa.ColumnElement[bool]:
        """The WHERE clause keeping this source's periods."""

    @abc.abstractmethod
    def rows_from(self, *, with_reason: bool) -> sa.FromClause:
        """The rows, joined with what :meth:`reason` needs when ``with_reason``."""

    @abc.abstractmethod
    def cells_from(self) -> sa.FromClause:
        """The rows joined with everything :meth:`light_columns` reads."""

    @abc.abstractmethod
    def reason(self) -> sa.ColumnElement[Any]:
        """A row's RAG reason (:class:`~tracker.dashboard.rag.Reason` value) in SQL."""

    def has_colour(self, rag: Rag) -> sa.ColumnElement[bool]:
        """A row shows ``rag``."""
        return self.reason().in_([r.value for r in reasons_of(rag)])

    @abc.abstractmethod
    def submitted_in_time(self) -> sa.ColumnElement[bool]:
        """A submitted row was first submitted by its due date."""

    @abc.abstractmethod
    def light_columns(self) -> tuple[sa.ColumnElement[Any], ...]:
        """The columns :meth:`light` turns into a row's light."""

    @abc.abstractmethod
    def light(self, due_date: date, values: Sequence[Any]) -> CellLight:
        """A row's light from its due date and its :meth:`light_columns` values."""

    @abc.abstractmethod
    def groups(self, scope: Scope) -> list[Group]:
        """Every obligation of the scope's period, document and part, counted (one query)."""

    @abc.abstractmethod
    def urge_counts(self, scope: Scope) -> dict[int, tuple[int, int]]:
        """Urges received per department: ``{department_id: (urges, acknowledged)}``."""

    @abc.abstractmethod
    def only_document(self, query: _Query, document_id: int) -> _Query:
        """Narrow a query over :meth:`rows_from` to one document's rows."""

    def trend_counts(self, document_id: int | None) -> list[tuple[str, int, int, int]]:
        """(period key, department id, on time, judged) for each period and department, in
        one ``GROUP BY``."""
        reason = self.reason()
        on_time = sa.and_(reason.in_(_SUBMITTED), self.submitted_in_time())
        judged = reason.in_([*_SUBMITTED, Reason.OVERDUE.value])
        department = self.table.c.department_id
        query = (
            sa.select(
                self.period_column,
                department,
                sa.func.sum(sa.case((on_time, 1), else_=0)),
                sa.func.sum(sa.case((judged, 1), else_=0)),
            )
            .select_from(self.rows_from(with_reason=True))
            .where(self.rows())
            .group_by(self.period_column, department)
        )
        if document_id is not None:
            query = self.only_document(query, document_id)
        return [
            (self.period_of(key), dept, int(on_time_n or 0), int(judged_n or 0))
            for key, dept, on_time_n, judged_n in db.session.execute(query)
        ]


class LiveSource(Source):
    """The periods' obligations and their reports as they are now, judged on ``judged_on``."""

    frozen = False
    table = _O

    def __init__(self, periods: Sequence[Period], judged_on: date) -> None:
        self.periods = sorted(periods)
        self.judged_on = judged_on
        self.thresholds: Thresholds = thresholds_on(judged_on)

    @property
    def obligation_id(self) -> sa.ColumnElement[Any]:
        return _O.c.id

    @property
    def period_column(self) -> sa.ColumnElement[Any]:
        return _O.c.period

    def period_of(self, value: Any) -> str:
        return str(value)

    def rows(self) -> sa.ColumnElement[bool]:
        if len(self.periods) == 1:
            return _O.c.period == self.periods[0].key
        return _O.c.period.in_([p.key for p in self.periods])

    def rows_from(self, *, with_reason: bool) -> sa.FromClause:
        return _O.outerjoin(_R, _R.c.obligation_id == _O.c.id) if with_reason else _O

    def cells_from(self) -> sa.FromClause:
        return self.rows_from(with_reason=True)

    def reason(self) -> sa.ColumnElement[Any]:
        return reason_sql(_R.c.state, _O.c.waived, _O.c.due_date, self.thresholds)

    def has_colour(self, rag: Rag) -> sa.ColumnElement[bool]:
        # Red is asked for most (the overdue list): a plain predicate the planner can use.
        if rag == Rag.RED:
            return overdue_sql(_R.c.state, _O.c.waived, _O.c.due_date, self.thresholds)
        return super().has_colour(rag)

    def submitted_in_time(self) -> sa.ColumnElement[bool]:
        return local_date(_R.c.first_submitted_at, self.periods[-1]) <= _O.c.due_date

    def light_columns(self) -> tuple[sa.ColumnElement[Any], ...]:
        return (_O.c.waived, _R.c.state, _R.c.first_submitted_at)

    def light(self, due_date: date, values: Sequence[Any]) -> CellLight:
        waived, state, first = values
        return CellLight(rag_for(state, first, waived, due_date, thresholds=self.thresholds))

    def only_document(self, query: _Query, document_id: int) -> _Query:
        return query.join(_T, _T.c.id == _O.c.task_id).where(_T.c.document_id == document_id)

    def groups(self, scope: Scope) -> list[Group]:
        # SQL groups by due date and late submission date; Python turns the few distinct
        # pairs into working days with China's calendar.
        cal = report_queries.calendar()
        groups = []
        with without_hash_joins(db.session):
            rows = db.session.execute(self.group_query(scope)).all()
        for dept, role, reason, due, late_on, lead_of, n, returns in rows:
            reason, role = Reason(reason), Role(role)
            if reason == Reason.OVERDUE:
                late = working_days_late(cal, due, self.judged_on)
            elif late_on is not None:
                late = working_days_late(cal, due, late_on)
            else:
                late = 0
            late_submitted = n if late_on is not None and reason != Reason.WAIVED else 0
            groups.append(
                Group(dept, role, reason, n, late_submitted, late * n, late, int(returns), lead_of)
            )
        return groups

    def group_query(self, scope: Scope) -> sa.Select[Any]:
        """The ``GROUP BY`` behind :meth:`groups` (the benchmark times it bare).

        One row per (department, role, reason, due date, late submission date, and for
        supporting inputs that are overdue or returned the item's lead department): on-time
        submissions share a NULL submission date, so the row count stays small.
        """
        submitted_on = local_date(_R.c.first_submitted_at, scope.period)
        late_on = sa.case((submitted_on > _O.c.due_date, submitted_on))
        # Only a supporting input that holds its lead up (overdue or returned) needs the
        # lead's name, so the lookup runs for few rows.
        pending = self.reason().in_(PENDING_REASONS)
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
                self.reason().label("reason"),
                _O.c.due_date,
                late_on.label("late_on"),
                sa.case((sa.and_(_O.c.role == Role.SUPPORT, pending), lead_of)).label("lead_of"),
                _returns_of(_R).label("returns"),
            )
            .select_from(self.rows_from(with_reason=True))
            .where(self.rows())
        )
        sub = task_filters(inner, scope, _O.c.task_id).subquery()
        keys = [sub.c[name] for name in ("department_id", "role", "reason", "due_date", "late_on",
                                         "lead_of")]  # fmt: skip
        return sa.select(
            *keys, sa.func.count().label("n"), sa.func.sum(sub.c.returns).label("returns")
        ).group_by(*keys)

    def urge_counts(self, scope: Scope) -> dict[int, tuple[int, int]]:
        ids = scope_obligation_ids(scope) if scope.narrows_obligations else None
        return live_urge_counts(scope.period, obligation_ids=ids, as_of=None)


class FrozenSource(Source):
    """One or several closed periods, read from their snapshots.

    The lights are the ones frozen at the close; the live reports are joined only to mark
    first submissions made after it (``arrived_late``) and the report's state now.
    """

    frozen = True
    table = _C

    def __init__(self, *snapshots: Snapshot) -> None:
        if not snapshots:
            raise ValueError("a frozen source needs at least one snapshot")
        self.snapshots = {snapshot.id: snapshot for snapshot in snapshots}

    @property
    def obligation_id(self) -> sa.ColumnElement[Any]:
        return _C.c.obligation_id

    @property
    def period_column(self) -> sa.ColumnElement[Any]:
        return _C.c.snapshot_id

    def period_of(self, value: Any) -> str:
        return self.snapshots[value].period

    def rows(self) -> sa.ColumnElement[bool]:
        if len(self.snapshots) == 1:
            return _C.c.snapshot_id == next(iter(self.snapshots))
        return _C.c.snapshot_id.in_(list(self.snapshots))

    def rows_from(self, *, with_reason: bool) -> sa.FromClause:
        return _C  # the reason is frozen in the row itself

    def cells_from(self) -> sa.FromClause:
        return _C.outerjoin(_LIVE_REPORT, _LIVE_REPORT.c.obligation_id == _C.c.obligation_id)

    def reason(self) -> sa.ColumnElement[Any]:
        return _C.c.reason

    def submitted_in_time(self) -> sa.ColumnElement[bool]:
        return _C.c.late.is_(False)

    def light_columns(self) -> tuple[sa.ColumnElement[Any], ...]:
        return (
            _C.c.reason,
            _C.c.days_late,
            _C.c.late,
            _LIVE_REPORT.c.state,
            _LIVE_REPORT.c.first_submitted_at,
            _C.c.snapshot_id,
        )

    def light(self, due_date: date, values: Sequence[Any]) -> CellLight:
        reason, days_late, late, state, first, snapshot_id = values
        as_of = self.snapshots[snapshot_id].as_of
        arrived = clock.local_date(first) if first is not None and first > as_of else None
        return CellLight(
            Light(Reason(reason), days_late, bool(late)),
            arrived,
            ReportState(state) if state else None,
        )

    def only_document(self, query: _Query, document_id: int) -> _Query:
        return query.where(_C.c.document_id == document_id)

    def groups(self, scope: Scope) -> list[Group]:
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
        ).where(self.rows())  # fmt: skip
        sub = task_filters(inner, scope, _C.c.task_id).subquery()
        keys = [sub.c.department_id, sub.c.role, sub.c.reason, sub.c.lead_of]
        query: sa.Select[Any] = sa.select(
            *keys,
            sa.func.count(),
            sa.func.sum(sa.case((sub.c.late.is_(True), 1), else_=0)),
            sa.func.sum(sub.c.days_late),
            sa.func.max(sub.c.days_late),
            sa.func.sum(sub.c.returns),
        ).group_by(*keys)
        return [
            Group(dept, Role(role), Reason(reason), n, int(late or 0), int(days or 0),
                  int(most or 0), int(returns or 0), lead_of)
            for dept, role, reason, lead_of, n, late, days, most, returns
            in db.session.execute(query)
        ]  # fmt: skip

    def urge_counts(self, scope: Scope) -> dict[int, tuple[int, int]]:
        # What was recorded when it froze: the totals kept in the snapshot when unfiltered,
        # else the urges made (and acknowledged) by the freezing moment.
        snapshot = self._only_snapshot()
        if not scope.narrows_obligations:
            rows = db.session.execute(
                sa.select(
                    SnapshotDepartment.department_id,
                    SnapshotDepartment.urges,
                    SnapshotDepartment.acknowledged,
                ).where(SnapshotDepartment.snapshot_id == snapshot.id)
            )
            return {dept: (urges, ack) for dept, urges, ack in rows}
        return live_urge_counts(
            scope.period, obligation_ids=scope_obligation_ids(scope), as_of=snapshot.frozen_at
        )

    def trend_counts(self, document_id: int | None) -> list[tuple[str, int, int, int]]:
        if document_id is not None:
            return super().trend_counts(document_id)
        # The whole period's counts were kept per department when it froze.
        rows = db.session.execute(
            sa.select(
                SnapshotDepartment.snapshot_id,
                SnapshotDepartment.department_id,
                SnapshotDepartment.on_time,
                SnapshotDepartment.judged,
            ).where(SnapshotDepartment.snapshot_id.in_(list(self.snapshots)))
        )
        return [
            (self.period_of(snapshot_id), dept, int(on_time or 0), int(judged or 0))
            for snapshot_id, dept, on_time, judged in rows
        ]

    def _only_snapshot(self) -> Snapshot:
        if len(self.snapshots) != 1:
            raise ValueError("a scope reads exactly one snapshot")
        return next(iter(self.snapshots.values()))


def source_for(scope: Scope) -> Source:
    """The scope's source: its snapshot when the period is frozen, else the live reports."""
    if scope.snapshot is not None:
        return FrozenSource(scope.snapshot)
    return LiveSource([scope.period], scope.judged_on)


def sources_for(
    periods: Iterable[Period], frozen: dict[str, Snapshot], today: date
) -> list[Source]:
    """At most two sources over ``periods``: the unfrozen ones live (judged on ``today``),
    then those with a snapshot in ``frozen`` (by period key)."""
    ordered = sorted(set(periods))
    live = [p for p in ordered if p.key not in frozen]
    snaps = [frozen[p.key] for p in ordered if p.key in frozen]
    sources: list[Source] = []
    if live:
        sources.append(LiveSource(live, today))
    if snaps:
        sources.append(FrozenSource(*snaps))
    return sources


def aggregate_query(scope: Scope) -> sa.Select[Any]:
    """The live ``GROUP BY`` every live figure rests on (see :meth:`LiveSource.group_query`)."""
    return LiveSource([scope.period], scope.judged_on).group_query(scope)


def _returns_of(report: sa.Table) -> sa.ColumnElement[int]:
    """How many times a report was returned, as a column (0 without a report).

    Only reports ever returned carry a return reason (it is never cleared), so the versions
    are counted for those few alone.
    """
    version: sa.Table = ReportVersion.__table__
    count = (
        sa.select(sa.func.count())
        .where(version.c.report_id == report.c.id, version.c.action == "return")
        .scalar_subquery()
    )
    return sa.case((report.c.return_reason.is_not(None), count), else_=0)


def scope_obligation_ids(scope: Scope) -> sa.Select[tuple[int]]:
    """The ids of the period's obligations that the scope's document, part and role keep."""
    query = sa.select(_O.c.id).where(_O.c.period == scope.period.key)
    if scope.role is not None:
        query = query.where(_O.c.role == scope.role)
    return task_filters(query, scope, _O.c.task_id)


def live_urge_counts(period: Period, **options: Any) -> dict[int, tuple[int, int]]:
    """The follow-ups domain's urge counts for a period (``options``: its ``obligation_ids``
    and ``as_of``)."""
    counts = followup_queries.urge_counts(period.key, **options)
    return {int(k): (int(v[0]), int(v[1])) for k, v in counts.items()}
