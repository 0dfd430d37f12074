"""Delivery lights of many items and quarters at once: suggested, judged, and the change.

Beside each item's filing lights the dashboard shows its delivery light for the quarter: the
coordinator's judgement (:class:`~tracker.delivery.models.DeliveryJudgement`) where there is
one, else the suggestion (:mod:`tracker.dashboard.delivery_light`) marked 建议, and 好转 / 持平 /
退步 against the previous quarter. :func:`item_deliveries` reads them for a page of items in a
fixed number of queries, whatever the number of items, plans or reports: the milestones and
the indicators in force (two), what submitted reports said of the milestones (one, only when
there are milestones), the indicators' values (one, only when there are indicators), the
judgements (one) and, for frozen quarters, what their snapshot kept (one).

A suggestion for quarter Q counts, as the item page's does for the latest quarter:

- the milestones in force due by Q whose quarter has passed (before today's calendar quarter),
  and of those the ones a submitted or accepted report of Q or an earlier quarter says are
  已完成;
- each indicator's latest combined value of Q and the three quarters before it, against the
  line from baseline to target at the end of that value's quarter.

A frozen quarter shows what its snapshot kept at freezing (:mod:`tracker.dashboard.services`);
a quarter frozen before snapshots kept delivery lights shows none.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tracker.catalogue.models import Task
from tracker.dashboard.delivery_light import SUGGESTED_STEP, delivery_light, latest_pace
from tracker.dashboard.models import Snapshot, SnapshotCell
from tracker.dashboard.queries.cache import cached
from tracker.dashboard.queries.grid import Change, change_between
from tracker.dashboard.queries.scope import make_scope
from tracker.db import IN_CHUNK, chunked, unindexed
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import DeliveryStep, Indicator, Milestone
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports.models import (
    IndicatorValue,
    MilestoneProgress,
    MilestoneStatus,
    Obligation,
    Report,
    ReportState,
)
from tracker.reports.queries import IndicatorResult, combine

# Quarters of indicator values a suggestion looks back over (the quarter and three before).
WINDOW = 4
_SAID = (ReportState.SUBMITTED, ReportState.ACCEPTED)


@dataclass(frozen=True)
class ItemDelivery:
    """One item's delivery light in one quarter (plain values: answers are cached)."""

    task_id: int
    period: str
    suggested: DeliveryStep | None  # None: no plan in force (or a quarter frozen without)
    judged: DeliveryStep | None
    reason: str | None = None
    revision: int | None = None  # the judgement's, for the form's stale check
    frozen: bool = False
    change: Change = Change.NONE

    @property
    def shown(self) -> DeliveryStep | None:
        """The judgement where there is one, else the suggestion."""
        return self.judged or self.suggested

    @property
    def is_suggestion(self) -> bool:
        """Shown from the suggestion (marked 建议), not judged."""
        return self.judged is None and self.suggested is not None

    @property
    def differs(self) -> bool:
        """The judgement departs from the suggestion."""
        return self.judged is not None and self.judged != self.suggested


@dataclass
class PlanFacts:
    """What the suggestions of some items rest on, read once."""

    milestones: dict[int, list[Milestone]]
    indicators: dict[int, list[Indicator]]
    done_in: dict[str, str]  # milestone key → first quarter a submitted report says 已完成
    values: list[tuple[str, int, str, int, Decimal]]  # key, task, quarter, department, value
    said: dict[tuple[str, int, str], list[tuple[int, Decimal]]] = field(init=False)
    planned: set[int] = field(init=False)  # items with a plan in force

    def __post_init__(self) -> None:
        self.planned = set(self.milestones) | set(self.indicators)
        # (key, task, quarter) → [(department, value)] in the order reports were submitted:
        # each suggestion looks up its few values instead of scanning every value read.
        self.said = defaultdict(list)
        for key, task_id, quarter, department_id, value in self.values:
            self.said[(key, task_id, quarter)].append((department_id, Decimal(str(value))))

    def milestone_record(self, department_id: int, period: Period, now: Period) -> tuple[int, int]:
        """(done on time, overdue) of the department's milestones due by ``period``: done on
        time when a report of the milestone's quarter or earlier says 已完成; overdue when its
        quarter has passed and no report of ``period`` or earlier says so."""
        on_time = overdue = 0
        for found in self.milestones.values():
            for m in found:
                if m.department_id != department_id or m.due_period > period.key:
                    continue
                done = self.done_in.get(m.key)
                if done is not None and done <= m.due_period:
                    on_time += 1
                elif m.due_period < now.key and (done is None or done > period.key):
                    overdue += 1
        return on_time, overdue


def plan_facts(task_ids: list[int], periods: Iterable[Period]) -> PlanFacts:
    """The plans in force of the items, and what reports of ``periods``' windows said."""
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    for task_id, m in delivery_queries.milestones_in_force(task_ids):
        milestones[task_id].append(m)
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    for task_id, i in delivery_queries.indicators_in_force(task_ids):
        indicators[task_id].append(i)
    done_in: dict[str, str] = {}
    for keys in chunked(m.key for found in milestones.values() for m in found):
        rows = db.session.execute(
            sa.select(MilestoneStatus.milestone_key, sa.func.min(Obligation.period))
            .join(Report, MilestoneStatus.report_id == Report.id)
            .join(Obligation, Report.obligation_id == Obligation.id)
            .where(
                MilestoneStatus.milestone_key.in_(keys),
                MilestoneStatus.progress == MilestoneProgress.DONE,
                unindexed(Report.state).in_(_SAID),
            )
            .group_by(MilestoneStatus.milestone_key)
        )
        done_in.update({key: first for key, first in rows})
    values: list[Any] = []
    window = sorted({w.key for p in periods for w in _window(p)})
    # A chunk of items with their indicators' keys: an item's values all come in one chunk,
    # in submission order.
    for chunk in chunked(indicators, IN_CHUNK // 4) if window else []:
        indicator_keys = [i.key for task_id in chunk for i in indicators[task_id]]
        values.extend(
            db.session.execute(
                sa.select(
                    IndicatorValue.indicator_key, Obligation.task_id, Obligation.period,
                    Obligation.department_id, IndicatorValue.value,
                )
                .join(Report, IndicatorValue.report_id == Report.id)
                .join(Obligation, Report.obligation_id == Obligation.id)
                .where(
                    Obligation.task_id.in_(chunk), Obligation.period.in_(window),
                    unindexed(Report.state).in_(_SAID),
                    unindexed(IndicatorValue.indicator_key).in_(indicator_keys),
                )
                .order_by(Report.submitted_at, Report.id)
            )
        )  # fmt: skip
    return PlanFacts(dict(milestones), dict(indicators), done_in, values)


@functools.cache
def _window(period: Period) -> tuple[Period, ...]:
    """The quarter and the ones before it that an indicator's latest value is looked for in,
    newest first (a period is immutable, so each window is built once)."""
    found = [period]
    while len(found) < WINDOW:
        found.append(found[-1].previous())
    return tuple(found)


def suggested_step(
    facts: PlanFacts, task_id: int, period: Period, now: Period
) -> DeliveryStep | None:
    """The suggested step of one item in one quarter (None without a plan in force)."""
    if task_id not in facts.planned:
        return None
    due = [
        m for m in facts.milestones.get(task_id, [])
        if m.due_period <= period.key and m.due_period < now.key
    ]  # fmt: skip
    done = sum(1 for m in due if facts.done_in.get(m.key, "9999Q9") <= period.key)
    paces = []
    for i in facts.indicators.get(task_id, []):
        reporters = set(i.department_ids or [])
        # Newest quarter first: the pace is the newest quarter's with a combined value
        # (latest_pace's rule), so the older quarters are combined only when needed.
        for p in _window(period):
            said = [
                (department_id, value)
                for department_id, value in facts.said.get((i.key, task_id, p.key), [])
                if department_id in reporters
            ]
            result = IndicatorResult(i, said, combine(i.combine, said))
            if (pace := latest_pace(i, {p.key: result}, [p])) is not None:
                paces.append(pace)
                break
    return SUGGESTED_STEP[delivery_light(len(due), done, paces).rag]


def _frozen_steps(
    task_ids: list[int], snapshots: list[Snapshot]
) -> dict[tuple[int, str], tuple[DeliveryStep | None, DeliveryStep | None]]:
    """(suggested, judged) of the items as their quarters' snapshots kept them: one query."""
    if not snapshots or not task_ids:
        return {}
    by_id = {s.id: s.period for s in snapshots}
    c = SnapshotCell.__table__
    rows = [
        row
        for chunk in chunked(task_ids)
        for row in db.session.execute(
            sa.select(c.c.snapshot_id, c.c.task_id, c.c.delivery_suggested, c.c.delivery_judged)
            .where(c.c.snapshot_id.in_(list(by_id)), c.c.task_id.in_(chunk))
            .distinct()
        )
    ]
    return {
        (task_id, by_id[snapshot_id]): (
            DeliveryStep(suggested) if suggested else None,
            DeliveryStep(judged) if judged else None,
        )
        for snapshot_id, task_id, suggested, judged in rows
    }


def item_deliveries(
    task_ids: list[int],
    periods: Iterable[Period],
    snapshots: Mapping[str, Snapshot | None] | None = None,
    *,
    facts: PlanFacts | None = None,
) -> dict[tuple[int, str], ItemDelivery]:
    """Each item's delivery light in each quarter and the one before it, by (task id, key).

    ``snapshots`` gives the frozen quarters' snapshots by key (those missing are read live).
    The change compares a quarter with the one before it (both are in the answer).
    """
    asked = set(periods)
    wanted = sorted(asked | {p.previous() for p in asked})
    snapshots = snapshots or {}
    frozen = [s for p in wanted if (s := snapshots.get(p.key)) is not None]
    frozen_keys = {s.period for s in frozen}
    live = [p for p in wanted if p.key not in frozen_keys]
    kept = _frozen_steps(task_ids, frozen)
    if facts is None:
        facts = plan_facts(task_ids, live) if live and task_ids else PlanFacts({}, {}, {}, [])
    judged = delivery_queries.judgements(task_ids, [p.key for p in live])
    now = delivery_queries.current_quarter()
    found: dict[tuple[int, str], ItemDelivery] = {}
    for task_id in task_ids:
        for p in wanted:
            if p.key in frozen_keys:
                suggested, step = kept.get((task_id, p.key), (None, None))
                found[(task_id, p.key)] = ItemDelivery(task_id, p.key, suggested, step, frozen=True)
                continue
            j = judged.get((task_id, p.key))
            found[(task_id, p.key)] = ItemDelivery(
                task_id, p.key, suggested_step(facts, task_id, p, now),
                j.step if j else None, j.reason if j else None, j.revision if j else None,
            )  # fmt: skip
    for (task_id, key), item in list(found.items()):
        before = found.get((task_id, Period.parse(key).previous().key))
        if before is not None:
            found[(task_id, key)] = _with_change(item, before)
    return found


def _with_change(item: ItemDelivery, before: ItemDelivery) -> ItemDelivery:
    then = before.shown.severity if before.shown else None
    now = item.shown.severity if item.shown else None
    return replace(item, change=change_between(then, now))


def for_period(
    found: dict[tuple[int, str], ItemDelivery], period: Period
) -> dict[int, ItemDelivery]:
    """One quarter's lights by task id."""
    return {task_id: item for (task_id, key), item in found.items() if key == period.key}


@dataclass(frozen=True)
class DeliveryRecord:
    """A department's delivery record in a quarter (the scorecard): the items it leads or
    shares (牵头 / 共同负责) by their delivery light, and its milestones due by the quarter."""

    department_id: int
    items: int
    on_pace: int  # 按序时推进 or 基本按序时
    lagging: int  # 存在滞后风险 or worse
    judged: int  # of the items with a light, those a coordinator judged
    milestones_on_time: int
    milestones_overdue: int

    @property
    def unlit(self) -> int:
        """Items without a delivery light (no plan in force, nothing judged)."""
        return self.items - self.on_pace - self.lagging


def delivery_records(
    period: Period,
    document_id: int | None,
    department_ids: set[int] | None,
    snapshot: Snapshot | None,
) -> dict[int, DeliveryRecord]:
    """Each department's delivery record, by department id, in a fixed number of queries:
    the quarter's lead and joint obligations (one), the items' lights (as
    :func:`item_deliveries`; a frozen quarter's from its snapshot) and the milestones with
    what reports said of them (two or three); none while the quarter's data and the day are
    unchanged (the answer is cached as the dashboard's are)."""
    scope = make_scope(period, document_id, department_ids, snapshot=snapshot)
    extra = (tuple(sorted(department_ids)) if department_ids is not None else None,)
    return cached(
        "delivery_records", scope, extra,
        lambda: _delivery_records(period, document_id, department_ids, snapshot),
        also=(period.previous(),),
    )  # fmt: skip


def _delivery_records(
    period: Period,
    document_id: int | None,
    department_ids: set[int] | None,
    snapshot: Snapshot | None,
) -> dict[int, DeliveryRecord]:
    o = Obligation.__table__
    query = sa.select(o.c.department_id, o.c.task_id).where(
        o.c.period == period.key, o.c.role.in_(("lead", "joint"))
    )
    if document_id is not None:
        t = Task.__table__
        query = query.join(t, t.c.id == o.c.task_id).where(t.c.document_id == document_id)
    if department_ids is not None:
        query = query.where(o.c.department_id.in_(sorted(department_ids)))
    led: dict[int, set[int]] = defaultdict(set)
    for department_id, task_id in db.session.execute(query):
        led[department_id].add(task_id)
    task_ids = sorted({t for found in led.values() for t in found})
    # The previous quarter is read live (its change), this one from its snapshot if frozen:
    # one reading of the plans serves both the lights and the milestone record.
    live = [period.previous()] + ([] if snapshot is not None else [period])
    facts = plan_facts(task_ids, live) if task_ids else PlanFacts({}, {}, {}, [])
    lights = for_period(
        item_deliveries(task_ids, [period], {period.key: snapshot}, facts=facts), period
    )
    now = delivery_queries.current_quarter()
    records = {}
    for department_id, found in led.items():
        shown = [lights[t] for t in found if t in lights and lights[t].shown is not None]
        on_time, overdue = facts.milestone_record(department_id, period, now)
        records[department_id] = DeliveryRecord(
            department_id, len(found),
            sum(1 for d in shown if d.shown and not d.shown.lagging),
            sum(1 for d in shown if d.shown and d.shown.lagging),
            sum(1 for d in shown if d.judged is not None), on_time, overdue,
        )  # fmt: skip
    return records
