"""Changing delivery plans: propose (and resubmit, and change), approve, return.

Every function flushes and records an audit event; none commits (the request does). The life
cycle of one department's plan for one item::

    propose v1 → proposed ─ return (reason) → returned ─ propose again → proposed …
                         └ approve → approved (in force)
    change (reason) → v2 proposed, v1 still in force ─ approve → v2 approved, v1 superseded

A version a coordinator approved is never edited: a change is a new version.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from tracker import clock, privacy
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.auth.permissions import can_decide_plans, can_propose_plan
from tracker.catalogue.models import Department, Task
from tracker.delivery import queries, rules
from tracker.delivery.models import (
    Combine,
    DeliveryPlan,
    Direction,
    Indicator,
    Milestone,
    PlanState,
)
from tracker.errors import Conflict, Invalid, NotAllowed
from tracker.extensions import db
from tracker.periods import Period


class PlanError(Conflict):
    """A change the plan's life cycle refuses; the message is shown as it is."""


class PlanNotAllowed(NotAllowed, PlanError):
    """The actor may not make this change (403)."""


@dataclass
class MilestoneInput:
    """One milestone as the form gives it (``key`` of the previous version's, or None)."""

    title: str
    due_period: str
    department_id: int
    key: str | None = None


@dataclass
class IndicatorInput:
    """One indicator as the form gives it."""

    name: str
    unit: str
    direction: Direction
    baseline_value: Decimal
    baseline_date: date
    target_value: Decimal
    target_date: date
    combine: Combine
    department_ids: list[int]
    key: str | None = None


@dataclass
class PlanInput:
    """A proposed plan: milestones, indicators and, for a change, why."""

    milestones: list[MilestoneInput] = field(default_factory=list)
    indicators: list[IndicatorInput] = field(default_factory=list)
    change_reason: str = ""


def new_key() -> str:
    """A key that follows a milestone or indicator from version to version."""
    return secrets.token_hex(8)


def check_personal_data(data: PlanInput) -> None:
    """Refuse (:class:`~tracker.errors.Invalid`) a plan whose text holds an ID or mobile
    number (:mod:`tracker.privacy`); the form checks the same, field by field."""
    texts: list[tuple[str, str, str]] = [("change_reason", "变更理由", data.change_reason)]
    for n, m in enumerate(data.milestones):
        texts.append((f"milestones-{n}-title", f"第{n + 1}个节点的内容", m.title))
    for n, i in enumerate(data.indicators):
        texts.append((f"indicators-{n}-name", f"第{n + 1}个指标的名称", i.name))
        texts.append((f"indicators-{n}-unit", f"第{n + 1}个指标的单位", i.unit))
    for name, label, text in texts:
        message = privacy.check_text(label, text)
        if message:
            raise Invalid(message, field=name)


def milestone_problems(m: MilestoneInput, start: Period | None) -> dict[str, str]:
    """What is wrong with one milestone, by its attribute (``title``, ``due_period``): its
    text, and a quarter from the document's start to :data:`~tracker.delivery.queries.PLAN_YEARS`
    years after it. The page's form and the API show these beside their fields."""
    problems: dict[str, str] = {}
    if not m.title.strip():
        problems["title"] = "请填写节点内容"
    elif len(m.title.strip()) > rules.MAX_TITLE:
        problems["title"] = f"节点内容不能超过 {rules.MAX_TITLE} 字"
    quarter = rules.parse_quarter(m.due_period)
    if quarter is None:
        problems["due_period"] = "请选择完成季度（形如 2026Q4）"
    elif start is not None and quarter < start:
        problems["due_period"] = f"完成季度不能早于文件的起始季度（{start.label}）"
    elif start is not None and quarter.year > start.year + queries.PLAN_YEARS:
        problems["due_period"] = f"完成季度应在文件起始后 {queries.PLAN_YEARS} 年内"
    elif start is None and quarter not in rules.quarter_choices(None):
        choices = rules.quarter_choices(None)
        problems["due_period"] = f"完成季度须在{choices[0].label}至{choices[-1].label}之间"
    return problems


def indicator_problems(i: IndicatorInput) -> dict[str, str]:
    """What is wrong with one indicator, by its attribute: name and unit, values never
    negative (at most 15 digits and 4 decimals), the target after the baseline in time and in
    the indicator's direction, at least one reporting department."""
    problems: dict[str, str] = {}
    texts = (("name", "指标名称", rules.MAX_NAME), ("unit", "单位", rules.MAX_UNIT))
    for name, label, limit in texts:
        text = getattr(i, name).strip()
        if not text:
            problems[name] = f"请填写{label}"
        elif len(text) > limit:
            problems[name] = f"{label}不能超过 {limit} 字"
    for name, label in (("baseline_value", "基线值"), ("target_value", "目标值")):
        if not rules.amount_in_range(Decimal(getattr(i, name))):
            problems[name] = label + rules.AMOUNT_MESSAGE
    if i.baseline_date >= i.target_date:
        problems["target_date"] = "目标日期应晚于基线日期"
    if "baseline_value" not in problems and "target_value" not in problems:
        if i.direction == Direction.HIGHER and i.target_value <= i.baseline_value:
            problems["target_value"] = "“越高越好”的指标，目标值应高于基线值"
        if i.direction == Direction.LOWER and i.target_value >= i.baseline_value:
            problems["target_value"] = "“越低越好”的指标，目标值应低于基线值"
    if not i.department_ids:
        problems["department_ids"] = "请选择至少一个报送部门"
    return problems


def check_plan(task: Task, data: PlanInput) -> None:
    """Refuse (:class:`~tracker.errors.Invalid`, naming the field ``milestones-0-due_period``)
    the first problem of the plan: too many rows, a row's :func:`milestone_problems` or
    :func:`indicator_problems`, a change reason too long."""
    if len(data.milestones) > rules.MAX_MILESTONES:
        raise Invalid(f"最多 {rules.MAX_MILESTONES} 个节点。", field="milestones")
    if len(data.indicators) > rules.MAX_INDICATORS:
        raise Invalid(f"最多 {rules.MAX_INDICATORS} 个指标。", field="indicators")
    start = queries.document_start(task)
    problems = [
        ("milestones", n, milestone_problems(m, start)) for n, m in enumerate(data.milestones)
    ] + [("indicators", n, indicator_problems(i)) for n, i in enumerate(data.indicators)]
    for kind, n, found in problems:
        for name, message in found.items():
            raise Invalid(f"第{n + 1}个{_KIND[kind]}：{message}。", field=f"{kind}-{n}-{name}")
    if len(data.change_reason) > rules.MAX_REASON:
        raise Invalid(f"变更理由不能超过 {rules.MAX_REASON} 字。", field="change_reason")
    texts = [data.change_reason, *(m.title for m in data.milestones)]
    texts += [t for i in data.indicators for t in (i.name, i.unit)]
    if any(rules.NUL in text for text in texts):
        raise Invalid("计划中含有无法保存的控制字符（NUL）。")


_KIND = {"milestones": "节点", "indicators": "指标"}


def _check_departments(task: Task, department: Department, data: PlanInput) -> None:
    """Milestones and indicators name departments of the item; a joint share names only
    its own department."""
    allowed = queries.item_department_ids(task)
    if department.id not in queries.plan_department_ids(task):
        raise PlanNotAllowed(f"{department.name}不是本项的牵头或共同负责部门，不能提出计划。")
    joint_share = (
        department.id in queries.plan_department_ids(task) and not task.lead_department_ids
    )
    if joint_share:
        allowed = {department.id}
    for n, m in enumerate(data.milestones):
        if m.department_id not in allowed:
            raise Invalid(
                "节点的责任部门须为本项的部门（共同负责事项只能是本部门）。",
                field=f"milestones-{n}-department_id",
            )
    for n, i in enumerate(data.indicators):
        if not i.department_ids or not set(i.department_ids) <= allowed:
            raise Invalid(
                "指标的报送部门须为本项的部门（共同负责事项只能是本部门）。",
                field=f"indicators-{n}-department_ids",
            )


def snapshot(plan: DeliveryPlan) -> dict[str, Any]:
    """The version's content as plain JSON (audit events)."""
    return {
        "task_id": plan.task_id,
        "department_id": plan.department_id,
        "number": plan.number,
        "state": plan.state.value,
        "change_reason": plan.change_reason,
        "return_reason": plan.return_reason,
        "milestones": [[m.key, m.title, m.due_period, m.department_id] for m in plan.milestones],
        "indicators": [
            [
                i.key, i.name, i.unit, i.direction.value,
                format(Decimal(i.baseline_value).normalize(), "f"), i.baseline_date.isoformat(),
                format(Decimal(i.target_value).normalize(), "f"), i.target_date.isoformat(),
                i.combine.value, list(i.department_ids),
            ]
            for i in plan.indicators
        ],
    }  # fmt: skip


def propose_plan(
    task: Task, department: Department, data: PlanInput, *, actor: User
) -> DeliveryPlan:
    """Propose a department's plan for an item, resubmit a returned one, or propose a change.

    While a version waits (proposed or returned) it is replaced in place; once one is in
    force, a change is a new version and needs ``data.change_reason``.
    """
    if not can_propose_plan(actor, department.id):
        raise PlanNotAllowed("只有本部门联络员可以提出本部门的落实计划。")
    check_plan(task, data)
    _check_departments(task, department, data)
    check_personal_data(data)
    if not data.milestones and not data.indicators:
        raise Invalid("请至少填写一个节点或一个指标。")
    latest = queries.latest_version(task.id, department.id)
    in_force = queries.approved_plan(task.id, department.id)
    if in_force is not None and not data.change_reason.strip():
        raise Invalid("计划已批准，变更须填写变更理由。", field="change_reason")
    known = _known_keys(latest)
    if latest is not None and latest.pending:
        plan, before, action = latest, snapshot(latest), "plan.resubmit"
        plan.milestones.clear()
        plan.indicators.clear()
        db.session.flush()
    else:
        number = latest.number + 1 if latest is not None else 1
        plan = DeliveryPlan(task=task, department=department, number=number)
        db.session.add(plan)
        before, action = None, "plan.propose" if number == 1 else "plan.change"
    plan.state = PlanState.PROPOSED
    plan.change_reason = data.change_reason.strip() or None if in_force is not None else None
    plan.return_reason = None
    plan.proposed_by_id, plan.proposed_at = actor.id, clock.utcnow()
    plan.decided_by_id = plan.decided_at = None
    _fill(plan, data, known)
    db.session.flush()
    record_event(action, plan, actor=actor, before=before, after=snapshot(plan))
    return plan


def _known_keys(latest: DeliveryPlan | None) -> set[str]:
    if latest is None:
        return set()
    return {m.key for m in latest.milestones} | {i.key for i in latest.indicators}


def _fill(plan: DeliveryPlan, data: PlanInput, known: set[str]) -> None:
    """Put the input's milestones and indicators on the version; a key the previous version
    did not have (a tampered form) is replaced by a new one."""
    used: set[str] = set()

    def key_for(wanted: str | None) -> str:
        key = wanted if wanted in known and wanted not in used else new_key()
        used.add(key)
        return key

    for n, m in enumerate(data.milestones):
        plan.milestones.append(
            Milestone(key=key_for(m.key), position=n, title=m.title.strip(),
                      due_period=m.due_period, department_id=m.department_id)
        )  # fmt: skip
    for n, i in enumerate(data.indicators):
        plan.indicators.append(
            Indicator(
                key=key_for(i.key), position=n, name=i.name.strip(), unit=i.unit.strip(),
                direction=i.direction, baseline_value=i.baseline_value,
                baseline_date=i.baseline_date, target_value=i.target_value,
                target_date=i.target_date, combine=i.combine,
                department_ids=sorted(set(i.department_ids)),
            )
        )  # fmt: skip


def approve_plan(plan: DeliveryPlan, *, actor: User) -> DeliveryPlan:
    """Approve a proposed version: it comes into force, the one it changes is superseded."""
    _require_coordinator(actor)
    if plan.state != PlanState.PROPOSED:
        raise PlanError(f"该计划当前状态为“{plan.state.label}”，不能批准。")
    before = snapshot(plan)
    previous = queries.approved_plan(plan.task_id, plan.department_id)
    if previous is not None:
        previous.state = PlanState.SUPERSEDED
        db.session.flush()
    plan.state = PlanState.APPROVED
    plan.decided_by_id, plan.decided_at = actor.id, clock.utcnow()
    db.session.flush()
    record_event("plan.approve", plan, actor=actor, before=before, after=snapshot(plan))
    return plan


def return_plan(plan: DeliveryPlan, *, actor: User, reason: str) -> DeliveryPlan:
    """Return a proposed version with a reason; the department changes and resubmits it."""
    _require_coordinator(actor)
    if plan.state != PlanState.PROPOSED:
        raise PlanError(f"该计划当前状态为“{plan.state.label}”，不能退回。")
    if not reason.strip():
        raise Invalid("请填写退回理由。", field="reason")
    message = privacy.check_text("退回理由", reason)
    if message:
        raise Invalid(message, field="reason")
    before = snapshot(plan)
    plan.state = PlanState.RETURNED
    plan.return_reason = reason.strip()
    plan.decided_by_id, plan.decided_at = actor.id, clock.utcnow()
    db.session.flush()
    record_event("plan.return", plan, actor=actor, before=before, after=snapshot(plan))
    return plan


def _require_coordinator(actor: User) -> None:
    if not can_decide_plans(actor):
        raise PlanNotAllowed("只有民政部督办协调员可以审核落实计划。")
