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
from tracker.delivery import queries
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
    for m in data.milestones:
        if m.department_id not in allowed:
            raise Invalid("节点的责任部门须为本项的部门（共同负责事项只能是本部门）。")
    for i in data.indicators:
        if not i.department_ids or not set(i.department_ids) <= allowed:
            raise Invalid("指标的报送部门须为本项的部门（共同负责事项只能是本部门）。")


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
