"""Reads of the cascade: the document export, members, received roll-ups and the provinces
matrix at the centre; adoptions, their items, the diff of a newer export and the roll-up of a
quarter at a province."""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only, selectinload

from tracker import clock, instance
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.counties.queries import CountyTotal, county_count, county_indicators, province_totals
from tracker.dashboard.delivery_light import SUGGESTED_STEP, delivery_light
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import Combine, DeliveryPlan, DeliveryStep, Indicator, PlanState
from tracker.extensions import db
from tracker.federation import wire
from tracker.federation.models import (
    AdoptedItem,
    Adoption,
    MemberInstance,
    PushMessage,
    PushStatus,
    ReceivedRollup,
    RollupItem,
)
from tracker.reports.models import (
    IndicatorValue,
    MilestoneStatus,
    Obligation,
    Report,
    ReportState,
)
from tracker.reports.queries import combine

SUBMITTED = (ReportState.SUBMITTED, ReportState.ACCEPTED)

# -- the centre -------------------------------------------------------------------------------


def members() -> list[MemberInstance]:
    """Every member instance, active ones first, by code."""
    return list(
        db.session.scalars(
            sa.select(MemberInstance).order_by(
                MemberInstance.revoked_at.is_not(None), MemberInstance.code
            )
        )
    )


def member_for_token(raw: str) -> MemberInstance | None:
    """The active member whose instance token is ``raw``, else None (compared in constant
    time)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "fed":
        return None
    member = db.session.scalar(sa.select(MemberInstance).where(MemberInstance.prefix == parts[1]))
    if member is None or member.revoked_at is not None:
        return None
    if not hmac.compare_digest(member.token_hash, wire.token_digest(raw)):
        return None
    return member


def export_document(document: PolicyDocument) -> dict[str, Any]:
    """The document as ``tracker.document/1``: items, assignments and the plans in force."""
    tasks = list(
        db.session.scalars(
            sa.select(Task)
            .where(Task.document_id == document.id)
            .options(selectinload(Task.assignments))
            .order_by(Task.number)
        )
    )
    plans = list(
        db.session.scalars(
            sa.select(DeliveryPlan)
            .where(
                DeliveryPlan.task_id.in_([t.id for t in tasks]),
                DeliveryPlan.state == PlanState.APPROVED,
            )
            .options(selectinload(DeliveryPlan.milestones), selectinload(DeliveryPlan.indicators))
            .order_by(DeliveryPlan.task_id, DeliveryPlan.department_id)
        )
    )
    codes = {d.id: d for d in db.session.scalars(sa.select(Department))}
    number_of = {t.id: t.number for t in tasks}
    used = sorted(
        {a.department_id for t in tasks for a in t.assignments},
        key=lambda i: (codes[i].position, codes[i].code),
    )
    export: dict[str, Any] = {
        "format": wire.DOCUMENT_FORMAT,
        "source": instance.current().wire(),
        "document": {
            "number": document.number,
            "title": document.title,
            "issuer": document.issuer,
            "issued": document.issued.isoformat() if document.issued else None,
            "first_period": document.first_period,
        },
        "departments": [
            {"code": codes[i].code, "name": codes[i].name, "short_name": codes[i].short_name}
            for i in used
        ],
        "items": [
            {
                "number": t.number,
                "section": t.section,
                "text": t.text,
                "clause": t.clause,
                "assignments": [
                    {"department_code": codes[a.department_id].code, "role": a.role.value}
                    for a in t.assignments
                ],
            }
            for t in tasks
        ],
        "plans": [
            {
                "item_number": number_of[p.task_id],
                "department_code": codes[p.department_id].code,
                "version": p.number,
                "milestones": [
                    {
                        "key": m.key,
                        "title": m.title,
                        "due_period": m.due_period,
                        "department_code": codes[m.department_id].code,
                    }
                    for m in p.milestones
                ],
                "indicators": [
                    {
                        "key": i.key,
                        "name": i.name,
                        "unit": i.unit,
                        "direction": i.direction.value,
                        "baseline_value": _decimal(i.baseline_value),
                        "baseline_date": i.baseline_date.isoformat(),
                        "target_value": _decimal(i.target_value),
                        "target_date": i.target_date.isoformat(),
                        "combine": i.combine.value,
                        "department_codes": [
                            codes[d].code for d in i.department_ids or [] if d in codes
                        ],
                    }
                    for i in p.indicators
                ],
            }
            for p in plans
        ],
    }
    export["revision"] = wire.export_revision(export)
    export["exported_at"] = wire.iso(clock.utcnow())
    return export


def _decimal(value: Decimal) -> str:
    """``2800.0000`` → ``2800``; ``0.5000`` → ``0.5`` (never an exponent)."""
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def rollup_row(
    member_id: int, document_number: str, period: str, revision: int
) -> ReceivedRollup | None:
    return db.session.scalar(
        sa.select(ReceivedRollup).where(
            ReceivedRollup.member_id == member_id,
            ReceivedRollup.document_number == document_number,
            ReceivedRollup.period == period,
            ReceivedRollup.revision == revision,
        )
    )


def rollup(rollup_id: int) -> ReceivedRollup | None:
    return db.session.get(ReceivedRollup, rollup_id)


def previous_revision(row: ReceivedRollup) -> ReceivedRollup | None:
    """The revision before ``row`` of the same member, document and quarter."""
    return db.session.scalar(
        sa.select(ReceivedRollup)
        .where(
            ReceivedRollup.member_id == row.member_id,
            ReceivedRollup.document_number == row.document_number,
            ReceivedRollup.period == row.period,
            ReceivedRollup.revision < row.revision,
        )
        .order_by(ReceivedRollup.revision.desc())
        .limit(1)
    )


MILESTONE_WORDS = {"done": "已完成", "partly": "部分完成", "not_done": "未完成"}


def key_names(document_number: str) -> dict[str, str]:
    """What a person reads for each indicator and milestone key of the document's plans
    (``已完成摸底排查的县（个）``, a milestone's title); a later plan version's words win."""
    plans = db.session.scalars(
        sa.select(DeliveryPlan)
        .join(Task, DeliveryPlan.task_id == Task.id)
        .join(PolicyDocument, Task.document_id == PolicyDocument.id)
        .where(PolicyDocument.number == document_number)
        .order_by(DeliveryPlan.number, DeliveryPlan.id)
        .options(selectinload(DeliveryPlan.indicators), selectinload(DeliveryPlan.milestones))
    )
    names: dict[str, str] = {}
    for plan in plans:
        names.update({i.key: f"{i.name}（{i.unit}）" for i in plan.indicators})
        names.update({m.key: m.title for m in plan.milestones})
    return names


def rollup_changes(
    before: ReceivedRollup | None, after: ReceivedRollup, names: dict[str, str] | None = None
) -> list[str]:
    """What a later revision changed, one line each (in Chinese), each indicator and
    milestone named by ``names`` (``key_names``) beside its key."""
    if before is None:
        return []
    names = names or {}

    def named(key: str) -> str:
        return f"{names[key]} · " if key in names else ""

    def word(status: str | None) -> str:
        return MILESTONE_WORDS.get(status or "", "—")

    lines = []
    old = {i["item_number"]: i for i in before.body["items"]}
    for item in after.body["items"]:
        was = old.get(item["item_number"], {})
        number = item["item_number"]
        if was.get("narrative", "") != item["narrative"]:
            lines.append(f"第{number}项：进展表述有修改")
        was_values = {v["key"]: v["value"] for v in was.get("indicators", [])}
        for value in item["indicators"]:
            if was_values.get(value["key"]) != value["value"]:
                lines.append(
                    f"第{number}项 {named(value['key'])}指标 {value['key']}："
                    f"{was_values.get(value['key'], '—')} → {value['value']}"
                )
        was_status = {m["key"]: m["status"] for m in was.get("milestones", [])}
        for m in item["milestones"]:
            if was_status.get(m["key"]) != m["status"]:
                lines.append(
                    f"第{number}项 {named(m['key'])}节点 {m['key']}："
                    f"{word(was_status.get(m['key']))} → {word(m['status'])}"
                )
    return lines


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """One item of a member's latest roll-up, as the matrix shows it: plain attributes, so
    that the page reads them directly (a template's ``item.narrative`` on a dict first fails
    as an attribute, then looks the key up; over 32 members × 23 items that failure cost a
    fifth of the page's rendering). Built from the compact form (``RollupItem``), never the
    body; the narrative is not shown in the matrix and not read."""

    indicators: list[dict[str, Any]]
    units_reporting: int = 0
    # The delivery light against the centre's plan: of the central milestones due by the
    # quarter (and already past), how many the member's roll-up says are 已完成.
    due: int = 0
    done: int = 0
    delivery: DeliveryStep | None = None


@dataclass
class ProvinceRow:
    """One member's line of the matrix: per central item, its latest roll-up's item."""

    member: MemberInstance
    rollup: ReceivedRollup | None
    items: dict[int, MatrixCell] = field(default_factory=dict)


@dataclass(frozen=True)
class Share:
    """One province's value of an indicator, its share of the total, and where the
    province's value came from (``counties``: {reporting, of} for a county ledger total)."""

    name: str
    value: Decimal
    share: Decimal | None
    counties: dict[str, int] | None = None


@dataclass
class IndicatorTotal:
    """An indicator summed (or combined) over the provinces, with each province's share."""

    item_number: int
    key: str
    name: str
    unit: str
    total: Decimal | None
    shares: list[Share]


@dataclass
class Matrix:
    document: PolicyDocument
    period: str
    item_numbers: list[int]
    rows: list[ProvinceRow]
    totals: list[IndicatorTotal]


def provinces_matrix(document: PolicyDocument, period: str) -> Matrix:
    """Members × items for a quarter: whether each member's roll-up arrived (its latest
    revision), what it says per item with its delivery light against the centre's milestones,
    and the indicators combined across members. Six round trips whatever the number of
    members (items, latest roll-ups, their compact items, the milestones in force, members,
    indicators); the roll-ups' bodies are never read (``RollupItem`` holds what is shown)."""
    tasks = db.session.execute(
        sa.select(Task.id, Task.number).where(Task.document_id == document.id).order_by(Task.number)
    ).all()
    numbers = [number for _, number in tasks]
    latest = (
        sa.select(ReceivedRollup.member_id, sa.func.max(ReceivedRollup.revision).label("revision"))
        .where(ReceivedRollup.document_number == document.number, ReceivedRollup.period == period)
        .group_by(ReceivedRollup.member_id)
        .subquery()
    )
    rollups = {
        r.member_id: r
        for r in db.session.scalars(
            sa.select(ReceivedRollup)
            .join(
                latest,
                sa.and_(
                    latest.c.member_id == ReceivedRollup.member_id,
                    latest.c.revision == ReceivedRollup.revision,
                ),
            )
            .where(
                ReceivedRollup.document_number == document.number, ReceivedRollup.period == period
            )
            # Neither the body nor the member (the members are read once below).
            .options(
                load_only(ReceivedRollup.id, ReceivedRollup.member_id, ReceivedRollup.revision),
                lazyload(ReceivedRollup.member),
            )
        )
    }
    due = _due_milestones(tasks, period)
    cells: dict[int, dict[int, MatrixCell]] = defaultdict(dict)
    if rollups:
        member_of = {r.id: member_id for member_id, r in rollups.items()}
        for rollup_id, number, units, done, indicators in db.session.execute(
            sa.select(RollupItem.rollup_id, RollupItem.item_number, RollupItem.units_reporting,
                      RollupItem.done, RollupItem.indicators)
            .where(RollupItem.rollup_id.in_(list(member_of)))
            .order_by(RollupItem.rollup_id, RollupItem.position)
        ):  # fmt: skip
            # a later item of the same number wins, as when the body was read
            cells[member_of[rollup_id]][number] = _cell(units, done, indicators, due.get(number))
    rows = []
    for member in members():
        if member.revoked_at is not None and member.id not in rollups:
            continue
        row = ProvinceRow(member, rollups.get(member.id))
        if row.rollup is not None:
            row.items = cells.get(member.id, {})
        rows.append(row)
    return Matrix(document, period, numbers, rows, _totals(document, rows))


def _due_milestones(tasks: Sequence[Any], period: str) -> dict[int, list[str]]:
    """The keys of the centre's milestones in force due by ``period`` whose quarter has
    passed, by item number (the rule of the centre's own suggestions): one query."""
    number_of = {task_id: number for task_id, number in tasks}
    now = delivery_queries.current_quarter().key
    due: dict[int, list[str]] = defaultdict(list)
    for task_id, m in delivery_queries.milestones_in_force(list(number_of)):
        if m.due_period <= period and m.due_period < now:
            due[number_of[task_id]].append(m.key)
    return due


def _cell(
    units: int,
    done: list[str] | None,
    indicators: list[dict[str, Any]] | None,
    due: list[str] | None,
) -> MatrixCell:
    """One item of a roll-up (its compact row), with its delivery light against the centre's
    milestones (none while none is due: a member's own indicator targets do not travel up)."""
    if not due:
        return MatrixCell(indicators or [], units)
    said = set(done or ())
    count = sum(1 for key in due if key in said)
    step = SUGGESTED_STEP[delivery_light(len(due), count, []).rag]
    return MatrixCell(indicators or [], units, len(due), count, step)


def _totals(document: PolicyDocument, rows: list[ProvinceRow]) -> list[IndicatorTotal]:
    """Each indicator of the plans in force, combined over the members' values: one query for
    the indicators (columns, not plan objects), and each roll-up's values indexed once."""
    indicators = db.session.execute(
        sa.select(Task.number, Indicator.key, Indicator.name, Indicator.unit, Indicator.combine)
        .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
        .join(Task, DeliveryPlan.task_id == Task.id)
        .where(Task.document_id == document.id, DeliveryPlan.state == PlanState.APPROVED)
        .order_by(Task.number, DeliveryPlan.department_id, Indicator.position, Indicator.id)
    ).all()
    reported: dict[tuple[int, str], list[tuple[str, Decimal, dict[str, int] | None]]]
    reported = defaultdict(list)
    for row in rows:  # members in the matrix's order, so "latest" keeps its meaning
        for number, item in row.items.items():
            for value in item.indicators:
                reported[(number, value["key"])].append(
                    (row.member.name, Decimal(value["value"]), value.get("counties"))
                )
    totals = []
    for number, key, name, unit, rule in indicators:
        values = reported.get((number, key), [])
        total = combine(rule, [(member, value) for member, value, _ in values])
        shares = [
            Share(member, value, (value / total).quantize(Decimal("0.0001")) if total else None,
                  counties)
            for member, value, counties in values
        ]  # fmt: skip
        totals.append(IndicatorTotal(number, key, name, unit, total, shares))
    return totals


# -- a province -------------------------------------------------------------------------------


def adoptions() -> list[Adoption]:
    return list(db.session.scalars(sa.select(Adoption).order_by(Adoption.id)))


def adoption(adoption_id: int) -> Adoption | None:
    return db.session.get(Adoption, adoption_id)


def adoption_of_number(number: str) -> Adoption | None:
    return db.session.scalar(sa.select(Adoption).where(Adoption.central_number == number))


def adopted_item(item_id: int) -> AdoptedItem | None:
    return db.session.get(AdoptedItem, item_id)


def central_departments(adoption: Adoption) -> list[dict[str, str]]:
    return list(adoption.content["departments"])


def mapped_departments() -> dict[str, Department]:
    """Central department code → the local department mapped to it."""
    return {
        d.central_code: d
        for d in db.session.scalars(
            sa.select(Department).where(Department.central_code.is_not(None))
        )
        if d.central_code
    }


def pushes(adoption: Adoption) -> list[PushMessage]:
    return list(
        db.session.scalars(
            sa.select(PushMessage)
            .where(PushMessage.adoption_id == adoption.id)
            .order_by(PushMessage.period.desc(), PushMessage.revision.desc())
        )
    )


def next_revision(adoption: Adoption, period: str) -> int:
    latest = db.session.scalar(
        sa.select(sa.func.max(PushMessage.revision)).where(
            PushMessage.adoption_id == adoption.id, PushMessage.period == period
        )
    )
    return int(latest or 0) + 1


def due_push_ids(now: Any, limit: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(PushMessage.id)
            .where(
                sa.or_(
                    sa.and_(
                        PushMessage.status == PushStatus.PENDING,
                        PushMessage.next_attempt_at <= now,
                    ),
                    sa.and_(
                        PushMessage.status == PushStatus.SENDING, PushMessage.locked_until < now
                    ),
                )
            )
            .order_by(PushMessage.id)
            .limit(limit)
        )
    )


@dataclass
class ExportDiff:
    """What a newer export changes against the accepted one."""

    items_added: list[int] = field(default_factory=list)
    items_removed: list[int] = field(default_factory=list)
    items_changed: list[int] = field(default_factory=list)
    assignments_changed: list[int] = field(default_factory=list)
    plans_added: list[str] = field(default_factory=list)
    plans_removed: list[str] = field(default_factory=list)
    plans_changed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(vars(self).values())


def export_diff(before: dict[str, Any], after: dict[str, Any]) -> ExportDiff:
    """Items, assignments and plans added, removed or changed between two exports."""
    diff = ExportDiff()
    old = {i["number"]: i for i in before["items"]}
    new = {i["number"]: i for i in after["items"]}
    diff.items_added = sorted(new.keys() - old.keys())
    diff.items_removed = sorted(old.keys() - new.keys())
    for number in sorted(old.keys() & new.keys()):
        a, b = old[number], new[number]
        if (a["text"], a["clause"], a.get("section")) != (b["text"], b["clause"], b.get("section")):
            diff.items_changed.append(number)
        if a["assignments"] != b["assignments"]:
            diff.assignments_changed.append(number)

    def plans(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {f"第{p['item_number']}项·{p['department_code']}": p for p in export["plans"]}

    old_plans, new_plans = plans(before), plans(after)
    diff.plans_added = sorted(new_plans.keys() - old_plans.keys())
    diff.plans_removed = sorted(old_plans.keys() - new_plans.keys())
    diff.plans_changed = sorted(
        k
        for k in old_plans.keys() & new_plans.keys()
        if (old_plans[k]["milestones"], old_plans[k]["indicators"])
        != (new_plans[k]["milestones"], new_plans[k]["indicators"])
    )
    return diff


@dataclass
class QuarterState:
    """Whether a quarter of an adopted document is consolidated: every lead obligation of
    its items (and sub-items) submitted, accepted or waived."""

    missing: list[str]

    @property
    def consolidated(self) -> bool:
        return not self.missing


def quarter_state(adoption: Adoption, period: str) -> QuarterState:
    obligations = db.session.scalars(
        sa.select(Obligation)
        .join(Task, Obligation.task_id == Task.id)
        .where(Task.document_id == adoption.document_id, Obligation.period == period)
        .options(selectinload(Obligation.report), selectinload(Obligation.task))
    ).all()
    if not obligations:
        return QuarterState([f"{period} 尚无本文件的报送任务（该季度未开启或未映射部门）"])
    missing = sorted(
        {
            f"第{o.task.number}项 {o.department.short_name}"
            for o in obligations
            if o.role.value in ("lead", "joint")
            and not o.waived
            and (o.report is None or o.report.state not in SUBMITTED)
        }
    )
    return QuarterState(missing)


def merged_status(said: list[str]) -> str:
    """One milestone's status over the local items: the same word from all, else 部分完成
    when any says done or partly, else 未完成."""
    kinds = set(said)
    if len(kinds) == 1:
        return kinds.pop()
    return "partly" if kinds & {"done", "partly"} else "not_done"


@dataclass(frozen=True)
class CountyLedger:
    """What the county ledger gives a roll-up: the county-counted keys among the centre's,
    their exact totals of the quarter and how many counties the province has."""

    keys: frozenset[str]
    totals: dict[tuple[str, str], CountyTotal]
    of: int


def county_ledger(period: str, central_keys: set[str]) -> CountyLedger:
    """The county-counted indicators among ``central_keys`` (those the counties report: the
    indicators ``TRACKER_COUNTY_DEPARTMENT`` reports, see docs/counties.md) and their
    province totals of ``period`` (two queries, or none without county-counted keys)."""
    keys = frozenset(i.key for i in county_indicators() if i.key in central_keys)
    if not keys:
        return CountyLedger(keys, {}, 0)
    return CountyLedger(keys, province_totals([period], keys), county_count())


def build_rollup(adoption: Adoption, period: str, revision: int) -> dict[str, Any]:
    """The province's quarter of the adopted document, per central item: the lead's
    consolidated narrative, milestone statuses by key (done only when every local item says
    done) and indicator values combined over the item and its sub-items by the central
    indicator's rule.

    A county-counted indicator (one the counties report in their ledger) that at least one
    county reported this quarter goes up as the counties' exact total, with ``counties``
    {reporting, of}; the departments' values for it are then not added (they count the same
    people once more). When no county reported it, the departments' values are combined as
    for any indicator, and the value carries no ``counties``."""
    central_indicators = {
        (p["item_number"], i["key"]): i for p in adoption.content["plans"] for i in p["indicators"]
    }
    links = [item for item in adoption.items]
    task_ids = [item.task_id for item in links]
    reports = db.session.execute(
        sa.select(Obligation, Report)
        .join(Report, Report.obligation_id == Obligation.id)
        .where(
            Obligation.task_id.in_(task_ids),
            Obligation.period == period,
            Report.state.in_(SUBMITTED),
        )
        .order_by(Report.submitted_at, Report.id)
    ).all()
    report_ids = [r.id for _, r in reports]
    values = db.session.execute(
        sa.select(IndicatorValue.report_id, IndicatorValue.indicator_key, IndicatorValue.value)
        .where(IndicatorValue.report_id.in_(report_ids))
        .order_by(IndicatorValue.id)
    ).all()
    statuses = db.session.execute(
        sa.select(MilestoneStatus.report_id, MilestoneStatus.milestone_key,
                  MilestoneStatus.progress, MilestoneStatus.note)
        .where(MilestoneStatus.report_id.in_(report_ids))
        .order_by(MilestoneStatus.id)
    ).all()  # fmt: skip
    by_task: dict[int, list[tuple[Obligation, Report]]] = defaultdict(list)
    for obligation, report in reports:
        by_task[obligation.task_id].append((obligation, report))
    central_of = {item.task_id: item.central_item_number for item in links}
    ledger = county_ledger(period, {key for _, key in central_indicators})
    items = []
    for number in sorted({item.central_item_number for item in links}):
        tasks = [t for t, n in central_of.items() if n == number]
        mine = [(o, r) for t in tasks for o, r in by_task.get(t, [])]
        ids = {r.id for _, r in mine}
        leads = [r for o, r in mine if o.role.value in ("lead", "joint")]
        narrative = "\n\n".join(r.progress.strip() for r in leads if r.progress.strip())
        kinds: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for report_id, key, progress, note in statuses:
            if report_id in ids:
                kinds[key].append((progress.value, note or ""))
        milestones = [
            {
                "key": key,
                "status": merged_status([s for s, _ in said]),
                "note": "；".join(n for _, n in said if n)[:2000],
            }
            for key, said in sorted(kinds.items())
        ]
        per_key: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
        for report_id, key, value in values:
            if report_id in ids:
                per_key[key].append((report_id, Decimal(str(value))))
        indicators: list[dict[str, Any]] = []
        keys = set(per_key) | {k for k in ledger.keys if (number, k) in central_indicators}
        for key in sorted(keys):
            indicator = central_indicators.get((number, key))
            if indicator is None:
                continue  # a local indicator of a sub-item: not the centre's
            counted = ledger.totals.get((key, period))
            if counted is not None:
                # county-counted: the counties' exact total wins over what departments said
                indicators.append(
                    {"key": key, "value": str(counted.total),
                     "counties": {"reporting": counted.counties_reporting, "of": ledger.of}}
                )  # fmt: skip
                continue
            combined = combine(Combine(indicator["combine"]), per_key.get(key, []))
            if combined is not None:
                indicators.append({"key": key, "value": _decimal(combined)})
        items.append(
            {
                "item_number": number,
                "narrative": narrative,
                "milestones": milestones,
                "indicators": indicators,
                "units_reporting": len({o.department_id for o, _ in mine}),
            }
        )
    return {
        "format": wire.ROLLUP_FORMAT,
        "instance": instance.current().wire(),
        "document_number": adoption.central_number,
        "period": period,
        "revision": revision,
        "submitted_at": wire.iso(clock.utcnow()),
        "items": items,
    }


def next_rollup(adoption: Adoption, period: str) -> dict[str, Any]:
    """The roll-up 上报 of ``period`` would queue now: the next revision of the quarter, built
    by :func:`build_rollup`. Both 上报 and its preview call this, so that what the coordinator
    reads before pressing it is what goes up."""
    return build_rollup(adoption, period, next_revision(adoption, period))


@dataclass
class RollupPreview:
    """上报预览: the roll-up 上报 would queue now, whether the quarter is consolidated (else
    上报 refuses it and names the missing lead reports), and what a person reads for each key
    (the centre's words, from the adopted export)."""

    body: dict[str, Any]
    state: QuarterState
    names: dict[str, str]

    @property
    def reported(self) -> list[dict[str, Any]]:
        """The items that carry something (a unit reporting, a narrative, a value, a status)."""
        return [i for i in self.body["items"] if _carries(i)]


def _carries(item: dict[str, Any]) -> bool:
    return bool(
        item["units_reporting"] or item["narrative"] or item["indicators"] or item["milestones"]
    )


def rollup_preview(adoption: Adoption, period: str) -> RollupPreview:
    """What 上报 of ``period`` would send now (see :func:`next_rollup`); reads only."""
    names: dict[str, str] = {}
    for plan in adoption.content["plans"]:
        names.update({i["key"]: f"{i['name']}（{i['unit']}）" for i in plan["indicators"]})
        names.update({m["key"]: m["title"] for m in plan["milestones"]})
    return RollupPreview(next_rollup(adoption, period), quarter_state(adoption, period), names)
