"""The figures counted from the one ``GROUP BY``: headline, scorecard and lead summary.

The scope's source counts the period's obligations into :class:`Group` rows (one query);
:class:`Tally` adds groups up, and the headline, the ranked scorecard (:func:`rank_key`) and
the lead departments' summary all derive from that one result, so they never disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from tracker.catalogue.models import Role
from tracker.dashboard.queries.cache import cached
from tracker.dashboard.queries.scope import DepartmentRef, Scope, department_refs, make_scope
from tracker.dashboard.queries.source import PENDING_REASONS, Group, source_for
from tracker.dashboard.rag import Rag, Reason
from tracker.periods import Period

DepartmentIds = Iterable[int] | None


def count_groups(scope: Scope) -> list[Group]:
    """Every obligation of the scope's period and document, counted (one query, or none while
    the period's data and the day are unchanged: :mod:`~tracker.dashboard.queries.cache`)."""
    return cached("groups", scope, (), lambda: source_for(scope).groups(scope))


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
        """Count one group in."""
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
        """The headline of a tally."""
        return cls(
            obligations=t.obligations, submitted=t.submitted, accepted=t.accepted,
            on_time_rate=t.on_time_rate, overdue=t.overdue, returned=t.returned,
            pending_review=t.pending_review, due_soon=t.due_soon, waived=t.waived,
            judged=t.judged, on_time=t.on_time, avg_days_late=t.avg_days_late,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready ``dict``."""
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

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready ``dict``, the department by code and name."""
        data = asdict(self)
        data["department"] = self.department.code
        data["department_name"] = self.department.name
        return data


SCORE_SORTS: dict[str, Callable[[ScoreRow], Any]] = {
    "rank": lambda row: row.rank,
    "department": lambda row: row.department.position,
    "obligations": lambda row: row.obligations,
    "on_time_rate": lambda row: -1 if row.on_time_rate is None else row.on_time_rate,
    "avg_days_late": lambda row: row.avg_days_late or 0,
    "returns": lambda row: row.returns,
    "urges": lambda row: row.urges,
    "red_share": lambda row: row.red_share,
}


def rank_key(t: Tally) -> tuple[bool, float, float, float, int, int]:
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


def headline_of(groups: list[Group], scope: Scope) -> Headline:
    """The headline of the scope's departments and role from the counted groups."""
    return Headline.of(_tally(_filtered(groups, scope, departments=True)))


def scorecard_of(
    groups: list[Group],
    scope: Scope,
    urges: dict[int, tuple[int, int]],
    departments: list[DepartmentRef],
) -> list[ScoreRow]:
    """Rank every department in the scope, then keep the asked-for ones."""
    rows = ranked(groups, scope, urges, departments)
    if scope.department_ids is not None:
        rows = [row for row in rows if row.department.id in scope.department_ids]
    return rows


def ranked(
    groups: list[Group],
    scope: Scope,
    urges: dict[int, tuple[int, int]],
    departments: list[DepartmentRef],
) -> list[ScoreRow]:
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
    rows: list[ScoreRow] = []
    previous_key, rank = None, 0
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


def sort_scorecard(
    rows: list[ScoreRow], key: str = "rank", descending: bool = False
) -> list[ScoreRow]:
    """Rows sorted by one column (ties by rank); unknown keys sort by rank."""
    getter = SCORE_SORTS.get(key, SCORE_SORTS["rank"])
    return sorted(rows, key=getter, reverse=descending)  # stable: ties keep the rank order


def urge_counts(scope: Scope) -> dict[int, tuple[int, int]]:
    """Urges received per department in the scope: ``{department_id: (urges, acknowledged)}``.

    Only urges on the obligations the scope's document, part and role filters keep are
    counted, as for every other figure of the scorecard; a frozen period counts what was
    recorded when it froze (see :meth:`~tracker.dashboard.queries.source.Source.urge_counts`).
    """
    return cached("urges", scope, (), lambda: source_for(scope).urge_counts(scope))


def headline(
    period: Period,
    document_id: int | None = None,
    department_ids: DepartmentIds = None,
    **filters: Any,
) -> Headline:
    """Headline figures: obligations, submitted, accepted, on-time rate, overdue, returned."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return headline_of(count_groups(scope), scope)


def scorecard(
    period: Period,
    document_id: int | None = None,
    department_ids: DepartmentIds = None,
    **filters: Any,
) -> list[ScoreRow]:
    """The 考核 scorecard: one ranked row per department (ranks over all departments)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return scorecard_of(count_groups(scope), scope, urge_counts(scope), department_refs())


def headline_and_scorecard(
    period: Period,
    document_id: int | None = None,
    department_ids: DepartmentIds = None,
    **filters: Any,
) -> tuple[Headline, list[ScoreRow]]:
    """Both :func:`headline` and :func:`scorecard` from one aggregate query (for exports)."""
    scope = make_scope(period, document_id, department_ids, **filters)
    counted = count_groups(scope)
    return headline_of(counted, scope), scorecard_of(
        counted, scope, urge_counts(scope), department_refs()
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
        """Lead obligations that are red or amber."""
        return self.by_rag.get(Rag.RED, 0) + self.by_rag.get(Rag.AMBER, 0)


def lead_summary_of(
    groups: list[Group], scope: Scope, departments: list[DepartmentRef]
) -> list[LeadSummary]:
    """Lead departments in the scope, those furthest behind first, from the counted groups."""
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
    period: Period,
    document_id: int | None = None,
    department_ids: DepartmentIds = None,
    **filters: Any,
) -> list[LeadSummary]:
    """Lead departments, those furthest behind first."""
    scope = make_scope(period, document_id, department_ids, **filters)
    return lead_summary_of(count_groups(scope), scope, department_refs())
