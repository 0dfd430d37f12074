"""Synthetic portfolios for demonstrations and the benchmark (``flask demo-data``).

Everything written here is clearly marked: documents carry ``synthetic = True``, a number of
the form ``演示〔2099〕N号`` and titles and report texts starting with 【演示数据】. The generator
refuses to touch a database that holds real reports (reports on a non-synthetic document).

Rows are inserted in bulk (Core ``INSERT … RETURNING`` in batches), one quarter at a time, so
that a portfolio of 200 documents × 30 items × 20 quarters (about 360,000 obligations, each
with a report and its versions) builds in a few minutes on SQLite. The outcomes follow each
department's seeded "diligence", drifting across quarters, so trends and ranks have shape.
Every item gets an approved delivery plan (version 1, proposed by its lead, or on a joint item
by its first joint department for its share) with two to four milestones and one to three
indicators; each report carries a value for every indicator its department reports (the
planned line's share, scaled by the department's diligence and some noise) and a status for
every milestone it answers for that is due by the report's quarter.
Like every service, it flushes and never commits; the command commits.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from tracker import clock
from tracker.audit.services import record_event
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import national_jurisdiction
from tracker.dashboard.models import Snapshot, SnapshotCell
from tracker.dashboard.services import freeze_snapshot
from tracker.delivery.models import (
    Combine,
    DeliveryPlan,
    Direction,
    Indicator,
    Milestone,
    PlanState,
)
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import (
    IndicatorValue,
    MilestoneProgress,
    MilestoneStatus,
    Obligation,
    ProgressStatus,
    Report,
    ReportState,
    ReportVersion,
)
from tracker.reports.services import due_dates_for

DEMO_PREFIX = "【演示数据】"
DEMO_YEAR = 2099  # in document numbers only: no real document is numbered 〔2099〕
SECTIONS = (
    "二(一)",
    "二(二)",
    "二(三)",
    "二(四)",
    "三(一)",
    "三(二)",
    "三(三)",
    "四(一)",
    "四(二)",
)
BATCH = 2000
# (name, unit, direction, baseline choices, target choices) of the synthetic indicators.
INDICATORS = (
    ("开展关爱服务的县（市、区）", "个", Direction.HIGHER, (0,), (200, 500, 800)),
    ("走访慰问农村留守妇女", "人次", Direction.HIGHER, (0,), (50_000, 120_000, 300_000)),
    ("培训基层工作人员", "人次", Direction.HIGHER, (0,), (5_000, 20_000)),
    ("建立互助组织", "个", Direction.HIGHER, (10, 50), (600, 1_500)),
    ("尚未完成摸底排查的县", "个", Direction.LOWER, (300, 600), (0,)),
)
MILESTONES = ("制定工作方案", "完成摸底排查", "召开工作推进会", "开展督导检查", "形成总结报告")

# (assignment id, task id, department id, role): one assignment, as each quarter reads it.
AssignmentRow = tuple[int, int, int, Role]
# (draft_at, submit_at, review): a report's history plan; a submitted plan has a review.
Plan = tuple[datetime, datetime | None, str | None]
# (action, state, moment): one report version.
HistoryStep = tuple[str, str, datetime]


class DemoDataError(RuntimeError):
    """The database is not one demo data may be written to."""


@dataclass
class DemoSummary:
    """What one run created."""

    documents: int = 0
    tasks: int = 0
    assignments: int = 0
    obligations: int = 0
    reports: int = 0
    versions: int = 0
    plans: int = 0
    milestones: int = 0
    indicators: int = 0
    indicator_values: int = 0
    milestone_statuses: int = 0
    periods: list[str] | None = None


@dataclass(frozen=True)
class DemoIndicator:
    """What a quarter needs of a synthetic indicator to write its values."""

    id: int
    key: str
    department_ids: frozenset[int]
    combine: Combine
    baseline: int
    target: int
    baseline_date: date
    target_date: date

    def value(self, period: Period, performance: float) -> int:
        """One department's value: the line's value at the quarter's end, progress scaled by
        ``performance``, a sum's share split between the reporting departments."""
        span = (self.target_date - self.baseline_date).days
        share = min(1.0, max(0.0, (period.end - self.baseline_date).days / span))
        value = self.baseline + (self.target - self.baseline) * share * performance
        if self.combine == Combine.SUM:
            value /= len(self.department_ids)
        return max(0, round(value))


@dataclass(frozen=True)
class DemoMilestone:
    """What a quarter needs of a synthetic milestone to write its statuses."""

    id: int
    key: str
    department_id: int
    due_period: str


@dataclass
class DemoPlans:
    """The plans' indicators and milestones by item."""

    indicators: dict[int, list[DemoIndicator]]
    milestones: dict[int, list[DemoMilestone]]


@dataclass
class RemovalSummary:
    """What :func:`remove` deleted, and which closed quarters it froze again."""

    documents: int = 0
    tasks: int = 0
    obligations: int = 0
    reports: int = 0
    snapshots: list[str] | None = None
    refrozen: list[str] | None = None


def remove() -> RemovalSummary:
    """Delete every row demo data wrote, and nothing else.

    The synthetic documents go, and with them (the database's ``ON DELETE CASCADE``) their
    tasks, assignments, obligations, reports, versions and whatever the scheduler attached to
    those obligations (reminders, notifications, urges). A frozen quarter whose snapshot holds
    demo cells is deleted whole, because its department totals count demo work too, and is
    frozen again from the real reports' history if it is still a tracked quarter. The audit
    log keeps ``demo.generate`` and gains ``demo.remove``.
    """
    synthetic = sa.select(PolicyDocument.id).where(PolicyDocument.synthetic.is_(True))
    counts = _demo_counts(synthetic)
    summary = RemovalSummary(
        documents=counts["documents"],
        tasks=counts["tasks"],
        obligations=counts["obligations"],
        reports=counts["reports"],
    )
    if not summary.documents:
        return summary
    tainted = sa.select(SnapshotCell.snapshot_id).where(SnapshotCell.document_id.in_(synthetic))
    periods = sorted(db.session.scalars(sa.select(Snapshot.period).where(Snapshot.id.in_(tainted))))
    # Snapshots are never changed through the ORM; this deletes whole rows on purpose.
    db.session.execute(sa.delete(Snapshot.__table__).where(Snapshot.period.in_(periods)))
    db.session.execute(sa.delete(PolicyDocument.__table__).where(PolicyDocument.synthetic))
    db.session.expire_all()
    tracked = {period.key for period in report_queries.tracked_periods()}
    summary.snapshots = periods
    summary.refrozen = []
    for key in periods:
        if key in tracked and freeze_snapshot(Period.parse(key)) is not None:
            summary.refrozen.append(key)
    record_event(
        "demo.remove",
        object_type="demo",
        before={"documents": summary.documents, "reports": summary.reports},
        after={"snapshots_deleted": periods, "snapshots_refrozen": summary.refrozen},
    )
    return summary


def _demo_counts(synthetic: sa.Select[int]) -> dict[str, int]:
    """How many documents, tasks, obligations and reports the demo data holds."""
    tasks = sa.select(Task.id).where(Task.document_id.in_(synthetic))
    obligations = sa.select(Obligation.id).where(Obligation.task_id.in_(tasks))
    counts = {
        "documents": sa.select(sa.func.count()).select_from(synthetic.subquery()),
        "tasks": sa.select(sa.func.count()).select_from(tasks.subquery()),
        "obligations": sa.select(sa.func.count()).select_from(obligations.subquery()),
        "reports": sa.select(sa.func.count(Report.id)).where(Report.obligation_id.in_(obligations)),
    }
    return {name: db.session.scalar(query) or 0 for name, query in counts.items()}


def real_report_count() -> int:
    """Reports on documents that are not synthetic: real work that demo data must not touch."""
    count = db.session.scalar(
        sa.select(sa.func.count(Report.id))
        .join(Obligation, Obligation.id == Report.obligation_id)
        .join(Task, Task.id == Obligation.task_id)
        .join(PolicyDocument, PolicyDocument.id == Task.document_id)
        .where(PolicyDocument.synthetic.is_(False))
    )
    return count or 0


def generate(
    documents: int,
    quarters: int,
    *,
    items: int = 30,
    seed: int = 2019,
    progress: Callable[[str], None] = lambda message: None,
) -> DemoSummary:
    """Add ``documents`` synthetic documents of ``items`` items, reported over ``quarters``
    quarters up to the current one. Raises :class:`DemoDataError` on a database with real
    reports or without departments."""
    if documents < 1 or quarters < 1 or items < 1:
        raise DemoDataError("文件数、季度数和每件事项数都必须大于 0。")
    real = real_report_count()
    if real:
        raise DemoDataError(
            f"数据库中已有 {real} 份真实报告：拒绝写入演示数据。请使用单独的数据库。"
        )
    departments = list(db.session.scalars(sa.select(Department).order_by(Department.position)))
    if len(departments) < 4:
        raise DemoDataError("数据库中部门不足 4 个：请先运行 flask --app tracker seed。")
    rng = random.Random(seed)
    last = report_queries.current_period()
    periods = list(Period.range(_back(last, quarters - 1), last))
    summary = DemoSummary(periods=[p.key for p in periods])
    assignments = _catalogue(rng, departments, documents, items, periods[0], summary)
    progress(
        f"目录：{summary.documents} 件文件，{summary.tasks} 项任务，{summary.assignments} 项分工"
    )
    plans = _plans(rng, assignments, periods, summary)
    progress(
        f"落实计划：{summary.plans} 个（已批准），{summary.milestones} 个节点，"
        f"{summary.indicators} 个量化指标"
    )
    diligence = {d.id: (rng.uniform(0.55, 0.97), rng.uniform(-0.02, 0.02)) for d in departments}
    now = clock.utcnow()
    for index, period in enumerate(periods):
        _quarter(rng, period, index, assignments, diligence, now, summary, plans)
        progress(f"{period.key}：累计 {summary.obligations} 项义务，{summary.reports} 份报告")
    record_event(
        "demo.generate",
        object_type="demo",
        after={"documents": summary.documents, "periods": summary.periods, "seed": seed,
               "plans": summary.plans},
    )  # fmt: skip
    return summary


def _back(period: Period, steps: int) -> Period:
    for _ in range(steps):
        period = period.previous()
    return period


def _catalogue(
    rng: random.Random,
    departments: list[Department],
    documents: int,
    items: int,
    first: Period,
    summary: DemoSummary,
) -> list[AssignmentRow]:
    """Documents, items and assignments; returns (assignment, task, department, role) rows."""
    synthetic = sa.select(sa.func.count()).where(PolicyDocument.synthetic.is_(True))
    start = db.session.scalar(synthetic) or 0
    created = datetime.combine(first.start, time(9), tzinfo=clock.zone()).astimezone(UTC)
    docs = []
    for k in range(start + 1, start + documents + 1):
        doc = PolicyDocument(
            number=f"演示〔{DEMO_YEAR}〕{k}号", title=f"{DEMO_PREFIX}合成政策文件第{k}号",
            issuer="演示数据生成器（非真实文件）", issued=first.start - timedelta(days=30),
            synthetic=True, created_at=created,
        )  # fmt: skip
        db.session.add(doc)
        docs.append(doc)
    db.session.flush()
    task_rows = [
        {
            "document_id": doc.id,
            "number": n,
            "section": rng.choice(SECTIONS),
            "text": f"{DEMO_PREFIX}{doc.number}第{n}项任务：按计划推进相关工作并按季度报送进展。",
            "clause": "",
            "all_departments": False,
        }
        for doc in docs
        for n in range(1, items + 1)
    ]
    task_ids = _insert(Task.__table__, task_rows, Task.__table__.c.id)
    jurisdiction = national_jurisdiction()
    rows: list[dict[str, Any]] = []
    clauses: dict[int, str] = {}
    for task_id in task_ids:
        picked = _responsibility(rng, departments)
        clauses[task_id] = _clause(picked)
        for position, (department, role) in enumerate(picked):
            rows.append(
                {
                    "task_id": task_id, "department_id": department.id,
                    "jurisdiction_id": jurisdiction.id, "role": role, "position": position,
                }
            )  # fmt: skip
    assignment_ids = _insert(Assignment.__table__, rows, Assignment.__table__.c.id)
    task_table = Task.__table__
    db.session.execute(
        task_table.update()
        .where(task_table.c.id == sa.bindparam("tid"))
        .values(clause=sa.bindparam("c")),
        [{"tid": tid, "c": text} for tid, text in clauses.items()],
    )
    summary.documents, summary.tasks, summary.assignments = len(docs), len(task_ids), len(rows)
    return [
        (aid, row["task_id"], row["department_id"], row["role"])
        for aid, row in zip(assignment_ids, rows, strict=True)
    ]


def _key(rng: random.Random) -> str:
    """A milestone's or indicator's key (as :func:`tracker.delivery.services.new_key` makes
    them, but reproducible from the seed)."""
    return f"{rng.getrandbits(64):016x}"


def _plans(
    rng: random.Random, assignments: list[AssignmentRow], periods: list[Period],
    summary: DemoSummary,
) -> DemoPlans:  # fmt: skip
    """An approved plan (version 1) per item: its lead's, or on a joint item its first joint
    department's share; two to four milestones due between the first quarter and a year after
    the last; one to three indicators, from a baseline before the first quarter to a target a
    year after the last, reported by the item's departments (a joint share: the proposer)."""
    by_task: dict[int, list[tuple[int, Role]]] = {}
    for _, task_id, department_id, role in assignments:
        by_task.setdefault(task_id, []).append((department_id, role))
    proposed = datetime.combine(periods[0].start, time(9), tzinfo=clock.zone()).astimezone(UTC)
    plan_rows, owners = [], []
    for task_id, parts in by_task.items():
        lead = next((d for d, role in parts if role == Role.LEAD), None)
        proposer = lead if lead is not None else parts[0][0]
        reporting = [d for d, _ in parts] if lead is not None else [proposer]
        plan_rows.append(
            {"task_id": task_id, "department_id": proposer, "number": 1,
             "state": PlanState.APPROVED, "change_reason": None, "return_reason": None,
             "proposed_by_id": None, "proposed_at": proposed, "decided_by_id": None,
             "decided_at": proposed + timedelta(days=7), "revision": 1}
        )  # fmt: skip
        owners.append((task_id, reporting))
    plan_ids = _insert(DeliveryPlan.__table__, plan_rows, DeliveryPlan.__table__.c.id)
    quarters = list(Period.range(periods[0], _back(periods[-1], -4)))
    baseline_date = periods[0].start - timedelta(days=30)
    target_date = _back(periods[-1], -4).end
    milestone_rows: list[dict[str, Any]] = []
    indicator_rows: list[dict[str, Any]] = []
    for plan_id, (task_id, reporting) in zip(plan_ids, owners, strict=True):
        dues = sorted(rng.sample(quarters, min(len(quarters), rng.randint(2, 4))))
        for n, (title, due) in enumerate(zip(MILESTONES, dues, strict=False)):
            milestone_rows.append(
                {"plan_id": plan_id, "key": _key(rng), "position": n,
                 "title": f"{DEMO_PREFIX}{title}", "due_period": due.key,
                 "department_id": rng.choice(reporting), "_task": task_id}
            )  # fmt: skip
        for n, (name, unit, direction, baselines, targets) in enumerate(
            rng.sample(INDICATORS, rng.randint(1, 3))
        ):
            indicator_rows.append(
                {"plan_id": plan_id, "key": _key(rng), "position": n, "name": name,
                 "unit": unit, "direction": direction, "baseline_value": rng.choice(baselines),
                 "baseline_date": baseline_date, "target_value": rng.choice(targets),
                 "target_date": target_date, "combine": rng.choice(list(Combine)),
                 "department_ids": sorted(reporting), "_task": task_id}
            )  # fmt: skip
    plans = DemoPlans({}, {})
    tasks = [row.pop("_task") for row in milestone_rows]
    ids = _insert(Milestone.__table__, milestone_rows, Milestone.__table__.c.id)
    for milestone_id, task_id, row in zip(ids, tasks, milestone_rows, strict=True):
        plans.milestones.setdefault(task_id, []).append(
            DemoMilestone(milestone_id, row["key"], row["department_id"], row["due_period"])
        )
    tasks = [row.pop("_task") for row in indicator_rows]
    ids = _insert(Indicator.__table__, indicator_rows, Indicator.__table__.c.id)
    for indicator_id, task_id, row in zip(ids, tasks, indicator_rows, strict=True):
        plans.indicators.setdefault(task_id, []).append(
            DemoIndicator(
                indicator_id,
                row["key"],
                frozenset(row["department_ids"]),
                row["combine"],
                row["baseline_value"],
                row["target_value"],
                baseline_date,
                target_date,
            )
        )
    summary.plans, summary.milestones = len(plan_ids), len(milestone_rows)
    summary.indicators = len(indicator_rows)
    return plans


def _responsibility(
    rng: random.Random, departments: list[Department]
) -> list[tuple[Department, Role]]:
    """A lead with supporters (55%), a sole lead (15%), or joint responsibility (30%)."""
    roll = rng.random()
    if roll < 0.55:
        lead, *support = rng.sample(departments, rng.randint(2, 4))
        return [(lead, Role.LEAD)] + [(d, Role.SUPPORT) for d in support]
    if roll < 0.70:
        return [(rng.choice(departments), Role.LEAD)]
    return [(d, Role.JOINT) for d in rng.sample(departments, rng.randint(2, 4))]


def _clause(picked: list[tuple[Department, Role]]) -> str:
    leads = [d.name for d, role in picked if role == Role.LEAD]
    others = [d.name for d, role in picked if role != Role.LEAD]
    if leads and others:
        return f"{leads[0]}牵头，{'、'.join(others)}按照职责分工负责"
    if leads:
        return f"{leads[0]}负责"
    return f"{'、'.join(others)}按照职责分工负责"


def _insert(table: sa.Table, rows: list[dict[str, Any]], returning: sa.Column[int]) -> list[int]:
    """Bulk INSERT … RETURNING in batches; returns the returned values in row order."""
    out: list[int] = []
    for i in range(0, len(rows), BATCH):
        result = db.session.execute(
            sa.insert(table).returning(returning, sort_by_parameter_order=True),
            rows[i : i + BATCH],
        )
        out.extend(result.scalars())
    return out


@functools.cache
def _shift(due: date, working_days: int) -> date:
    return report_queries.calendar().add_working_days(due, working_days)


def _moment(rng: random.Random, day: date) -> datetime:
    """A working-hours moment on a Beijing day, as UTC."""
    local = datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59)), clock.zone())
    return local.astimezone(UTC)


def _quarter(
    rng: random.Random,
    period: Period,
    index: int,
    assignments: list[AssignmentRow],
    diligence: dict[int, tuple[float, float]],
    now: datetime,
    summary: DemoSummary,
    plans: DemoPlans | None = None,
) -> None:
    """One quarter: an obligation per assignment, and reports as the departments would file,
    with their plan indicators' values and due milestones' statuses."""
    due, support_due = due_dates_for(period)
    created = datetime.combine(period.start, time(9), tzinfo=clock.zone()).astimezone(UTC)
    obligation_rows: list[dict[str, Any]] = []
    outcomes: list[Plan | Literal["waived"] | None] = []
    keen: list[float] = []  # each obligation's department's diligence this quarter
    for assignment_id, task_id, department_id, role in assignments:
        when = support_due if role == Role.SUPPORT else due
        base, drift = diligence[department_id]
        keen.append(min(0.99, max(0.2, base + drift * index)))
        outcome = _outcome(rng, role, when, keen[-1], now)
        obligation_rows.append(
            {
                "assignment_id": assignment_id, "period": period.key, "task_id": task_id,
                "department_id": department_id, "role": role, "due_date": when,
                "original_due_date": when, "waived": outcome == "waived",
                "waiver_reason": f"{DEMO_PREFIX}本期无相关工作" if outcome == "waived" else None,
                "waived_at": _moment(rng, when) if outcome == "waived" else None,
                "created_at": created,
            }
        )  # fmt: skip
        outcomes.append(outcome)
    ids = _insert(Obligation.__table__, obligation_rows, Obligation.__table__.c.id)
    summary.obligations += len(ids)
    reports: list[dict[str, Any]] = []
    histories: list[list[HistoryStep]] = []
    filers: list[tuple[int, int, float]] = []  # (task, department, diligence) per report
    for obligation_id, outcome, row, k in zip(ids, outcomes, assignments, keen, strict=True):
        if not isinstance(outcome, tuple):  # nothing filed, or waived
            continue
        report, history = _report(rng, obligation_id, outcome)
        reports.append(report)
        histories.append(history)
        filers.append((row[1], row[2], k))
    report_ids = _insert(Report.__table__, reports, Report.__table__.c.id)
    if plans is not None:
        _plan_answers(rng, period, plans, report_ids, filers, summary)
    versions = [
        {"report_id": report_id, "number": n, "action": action, "state": state,
         "content": {"state": state, "demo": True}, "actor_id": None, "created_at": at}
        for report_id, history in zip(report_ids, histories, strict=True)
        for n, (action, state, at) in enumerate(history, start=1)
    ]  # fmt: skip
    for i in range(0, len(versions), BATCH):
        db.session.execute(sa.insert(ReportVersion.__table__), versions[i : i + BATCH])
    summary.reports += len(report_ids)
    summary.versions += len(versions)


def _plan_answers(
    rng: random.Random,
    period: Period,
    plans: DemoPlans,
    report_ids: list[int],
    filers: list[tuple[int, int, float]],
    summary: DemoSummary,
) -> None:
    """Each report's indicator values and its department's due milestones' statuses (drafts
    too: they count only once submitted, as with real reports)."""
    values: list[dict[str, Any]] = []
    statuses: list[dict[str, Any]] = []
    for report_id, (task_id, department_id, diligence) in zip(report_ids, filers, strict=True):
        for i in plans.indicators.get(task_id, ()):
            if department_id in i.department_ids:
                performance = rng.uniform(0.5, 1.25) * (0.6 + 0.4 * diligence)
                value = i.value(period, performance)
                values.append(
                    {"report_id": report_id, "indicator_id": i.id, "indicator_key": i.key,
                     "value": value}
                )  # fmt: skip
        for m in plans.milestones.get(task_id, ()):
            if m.department_id == department_id and m.due_period <= period.key:
                progress = _milestone_progress(rng, diligence, overdue=m.due_period < period.key)
                note = "" if progress == MilestoneProgress.DONE else MILESTONE_NOTE
                statuses.append(
                    {"report_id": report_id, "milestone_id": m.id, "milestone_key": m.key,
                     "progress": progress, "note": note}
                )  # fmt: skip
    for table, rows in ((IndicatorValue.__table__, values), (MilestoneStatus.__table__, statuses)):
        for start in range(0, len(rows), BATCH):
            db.session.execute(sa.insert(table), rows[start : start + BATCH])
    summary.indicator_values += len(values)
    summary.milestone_statuses += len(statuses)


MILESTONE_NOTE = f"{DEMO_PREFIX}正在推进，下季度完成。"


def _milestone_progress(
    rng: random.Random, diligence: float, *, overdue: bool
) -> MilestoneProgress:
    """Done as often as the department is diligent (less in the milestone's own quarter)."""
    done = diligence if overdue else diligence * 0.7
    roll = rng.random()
    if roll < done:
        return MilestoneProgress.DONE
    if roll < done + (1 - done) * 0.7:
        return MilestoneProgress.PARTLY
    return MilestoneProgress.NOT_DONE


def _outcome(
    rng: random.Random, role: Role, due: date, diligence: float, now: datetime
) -> Plan | Literal["waived"] | None:
    """What happened to one obligation: None (nothing filed), "waived", or a history plan
    ``(draft_at, submit_at, review)`` with moments that are never in the future."""
    if role == Role.SUPPORT and rng.random() < 0.02:
        return "waived" if _moment(rng, due) <= now else None
    roll = rng.random()
    if roll < diligence:
        submit_day = due - timedelta(days=rng.randint(0, 12))
    elif roll < diligence + (1 - diligence) * 0.75:
        submit_day = _shift(due, min(25, int(rng.expovariate(1 / 4)) + 1))
    else:
        submit_day = None  # never submitted: a draft at most
    draft_at = _moment(rng, (submit_day or due) - timedelta(days=rng.randint(3, 15)))
    if draft_at > now:
        return None
    submit_at = _moment(rng, submit_day) if submit_day else None
    if submit_at is None or submit_at > now:
        return (draft_at, None, None) if rng.random() < 0.5 else None
    submit_at = max(submit_at, draft_at + timedelta(hours=1))
    review = rng.random()
    return (draft_at, submit_at, "accept" if review < 0.86 else "redo" if review < 0.94
            else "return" if review < 0.97 else "wait")  # fmt: skip


def _report(
    rng: random.Random, obligation_id: int, plan: Plan
) -> tuple[dict[str, Any], list[HistoryStep]]:
    """A report row and its version history from an outcome plan (events never in the future)."""
    draft_at, submit_at, review = plan
    now = clock.utcnow()
    history: list[HistoryStep] = [("save", ReportState.DRAFT.value, draft_at)]
    state, submitted_at = ReportState.DRAFT, submit_at
    reviewed_at: datetime | None = None
    reason: str | None = None
    if submit_at is not None:
        assert review is not None  # _outcome gives every submitted plan a review
        history.append(("submit", ReportState.SUBMITTED.value, submit_at))
        state = ReportState.SUBMITTED
        step = submit_at
        for action in {"accept": ["accept"], "redo": ["return", "resubmit", "accept"],
                       "return": ["return"], "wait": []}[review]:  # fmt: skip
            step = step + timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 5))
            if step > now:
                break
            state = {"accept": ReportState.ACCEPTED, "return": ReportState.RETURNED,
                     "resubmit": ReportState.SUBMITTED}[action]  # fmt: skip
            history.append((action, state.value, step))
            if action in ("accept", "return"):
                reviewed_at = step
            if action == "return":
                reason = f"{DEMO_PREFIX}请补充具体数据。"
            if action == "resubmit":
                submitted_at = step
    status = rng.choice(list(ProgressStatus))
    last = history[-1][2]
    report = {
        "obligation_id": obligation_id, "state": state, "status": status,
        "confirmed_status": status if state == ReportState.ACCEPTED else None,
        "progress": f"{DEMO_PREFIX}本季度按计划推进，完成阶段性工作。", "problems": "",
        "practices": "", "suggestions": "", "next_steps": "", "return_reason": reason,
        "review_comment": None, "version": len(history), "first_submitted_at": submit_at,
        "submitted_at": submitted_at, "reviewed_at": reviewed_at, "reviewer_id": None,
        "updated_by_id": None, "created_at": draft_at, "updated_at": last,
    }  # fmt: skip
    return report, history
