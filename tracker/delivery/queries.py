"""Reading delivery plans: versions per item and department, what is in force, what is due."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, lazyload, selectinload

from tracker import clock
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.db import chunked
from tracker.delivery.models import (
    DeliveryJudgement,
    DeliveryPlan,
    Indicator,
    Milestone,
    PlanState,
)
from tracker.extensions import db
from tracker.periods import Period

# Quarters a milestone may be due in: from the document's start to this many years after.
PLAN_YEARS = 10


_Part = TypeVar("_Part", Milestone, Indicator)


def task_with_plans(task_id: int) -> Task | None:
    """The item with its document and assignments, or None."""
    return db.session.get(Task, task_id)


def plan(plan_id: int) -> DeliveryPlan | None:
    """One plan version with its milestones and indicators, or None."""
    return db.session.scalar(
        sa.select(DeliveryPlan)
        .where(DeliveryPlan.id == plan_id)
        .options(selectinload(DeliveryPlan.milestones), selectinload(DeliveryPlan.indicators))
    )


def plan_department_ids(task: Task) -> list[int]:
    """The departments that propose a plan for the item: its lead (牵头 or 负责), or, on an
    item without a lead, each joint department (共同负责) for its share."""
    leads = [a.department_id for a in task.assignments if a.role == Role.LEAD]
    if leads:
        return leads
    return [a.department_id for a in task.assignments if a.role == Role.JOINT]


def item_department_ids(task: Task) -> set[int]:
    """Every department with a part in the item."""
    return {a.department_id for a in task.assignments}


def versions(task_id: int, department_id: int | None = None) -> list[DeliveryPlan]:
    """Every version of the item's plans (of one department if given), oldest first."""
    query = (
        sa.select(DeliveryPlan)
        .where(DeliveryPlan.task_id == task_id)
        .options(selectinload(DeliveryPlan.milestones), selectinload(DeliveryPlan.indicators))
        .order_by(DeliveryPlan.department_id, DeliveryPlan.number)
    )
    if department_id is not None:
        query = query.where(DeliveryPlan.department_id == department_id)
    return list(db.session.scalars(query))


def latest_version(task_id: int, department_id: int) -> DeliveryPlan | None:
    """The newest version of one department's plan for the item."""
    found = versions(task_id, department_id)
    return found[-1] if found else None


def approved_plan(task_id: int, department_id: int) -> DeliveryPlan | None:
    """The version in force (approved) of one department's plan for the item."""
    return db.session.scalar(
        sa.select(DeliveryPlan).where(
            DeliveryPlan.task_id == task_id,
            DeliveryPlan.department_id == department_id,
            DeliveryPlan.state == PlanState.APPROVED,
        )
    )


def approved_plans(task_id: int) -> list[DeliveryPlan]:
    """Every version in force for the item (one per answering department)."""
    return list(
        db.session.scalars(
            sa.select(DeliveryPlan)
            .where(DeliveryPlan.task_id == task_id, DeliveryPlan.state == PlanState.APPROVED)
            .options(selectinload(DeliveryPlan.milestones), selectinload(DeliveryPlan.indicators))
            .order_by(DeliveryPlan.department_id)
        )
    )


def planned_task_ids() -> set[int]:
    """The items with a plan in force (one round trip)."""
    return set(
        db.session.scalars(
            sa.select(DeliveryPlan.task_id).where(DeliveryPlan.state == PlanState.APPROVED)
        )
    )


def indicators_reported_by(task_id: int, department_id: int) -> list[Indicator]:
    """The indicators in force on the item that this department reports each quarter."""
    return _reported_by(approved_plans(task_id), department_id)


def milestones_due(task_id: int, department_id: int, period: Period) -> list[Milestone]:
    """The milestones in force on the item that this department answers for, due by the end
    of ``period`` (its own quarter included)."""
    return _due(approved_plans(task_id), department_id, period)


def reported_and_due(
    task_id: int, department_id: int, period: Period
) -> tuple[list[Indicator], list[Milestone]]:
    """:func:`indicators_reported_by` and :func:`milestones_due` from one read of the plans
    in force (a report form and its save need both)."""
    plans = approved_plans(task_id)
    return _reported_by(plans, department_id), _due(plans, department_id, period)


def _reported_by(plans: list[DeliveryPlan], department_id: int) -> list[Indicator]:
    return [
        indicator
        for found in plans
        for indicator in found.indicators
        if department_id in (indicator.department_ids or [])
    ]


def _due(plans: list[DeliveryPlan], department_id: int, period: Period) -> list[Milestone]:
    return [
        milestone
        for found in plans
        for milestone in found.milestones
        if milestone.department_id == department_id and milestone.due_period <= period.key
    ]


def pending_plans(department_ids: set[int] | None = None) -> list[DeliveryPlan]:
    """Versions waiting for a coordinator, oldest first (of these departments, if given)."""
    query = (
        sa.select(DeliveryPlan)
        .join(Task, DeliveryPlan.task_id == Task.id)
        .where(DeliveryPlan.state.in_((PlanState.PROPOSED, PlanState.RETURNED)))
        .order_by(DeliveryPlan.proposed_at, DeliveryPlan.id)
    )
    if department_ids is not None:
        query = query.where(DeliveryPlan.department_id.in_(department_ids))
    return list(db.session.scalars(query))


def all_approved() -> list[DeliveryPlan]:
    """Every version in force, by item."""
    return list(
        db.session.scalars(
            sa.select(DeliveryPlan)
            .join(Task, DeliveryPlan.task_id == Task.id)
            .where(DeliveryPlan.state == PlanState.APPROVED)
            .order_by(Task.document_id, Task.number, DeliveryPlan.department_id)
        )
    )


def plannable_tasks(department_id: int) -> list[Task]:
    """The items this department proposes a plan for (leads, or joint items' shares)."""
    tasks = db.session.scalars(
        sa.select(Task)
        .where(Task.assignments.any(Assignment.department_id == department_id))
        .order_by(Task.document_id, Task.number)
    )
    return [t for t in tasks if department_id in plan_department_ids(t)]


def departments_by_id(ids: set[int]) -> dict[int, Department]:
    """Departments by id (for naming the reporting departments of an indicator)."""
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Department).where(Department.id.in_(ids)))
    return {d.id: d for d in rows}


def document_start(task: Task) -> Period | None:
    """The first quarter of the item's document: its first reported quarter, else the quarter
    it was issued in; None when neither is known."""
    document = task.document
    if document.first_period:
        return Period.parse(document.first_period)
    if document.issued:
        return Period.containing(document.issued)
    return None


def current_quarter() -> Period:
    """The calendar quarter of today in Beijing (a milestone due before it is overdue)."""
    return Period.containing(clock.local_today())


def _in_force(model: type[_Part], task_ids: list[int]) -> list[tuple[int, _Part]]:
    """(task id, milestone or indicator) of the plans in force of some items: one query."""
    if not task_ids:
        return []
    found: list[tuple[int, _Part]] = []
    for chunk in chunked(sorted(task_ids)):  # in task order, chunk after chunk
        query = (
            sa.select(DeliveryPlan.task_id, model)
            .join(model, model.plan_id == DeliveryPlan.id)
            .where(DeliveryPlan.state == PlanState.APPROVED, DeliveryPlan.task_id.in_(chunk))
            .order_by(DeliveryPlan.task_id, model.position)
        )
        if model is Milestone:  # its department loads on first use: the lights never ask
            query = query.options(lazyload(Milestone.department))
        found.extend((task_id, part) for task_id, part in db.session.execute(query).all())
    return found


def milestones_in_force(task_ids: list[int]) -> list[tuple[int, Milestone]]:
    """(task id, milestone) of the plans in force of some items: one query."""
    return _in_force(Milestone, task_ids)


def indicators_in_force(task_ids: list[int]) -> list[tuple[int, Indicator]]:
    """(task id, indicator) of the plans in force of some items: one query."""
    return _in_force(Indicator, task_ids)


def judgement(task_id: int, period: Period) -> DeliveryJudgement | None:
    """The coordinator's judgement of an item's delivery in a quarter, if any."""
    return db.session.scalar(
        sa.select(DeliveryJudgement).where(
            DeliveryJudgement.task_id == task_id, DeliveryJudgement.period == period.key
        )
    )


def judgements(task_ids: list[int], periods: list[str]) -> dict[tuple[int, str], DeliveryJudgement]:
    """The judgements of some items in some quarters, by (task id, period key): one query."""
    if not task_ids or not periods:
        return {}
    return {
        (j.task_id, j.period): j
        for chunk in chunked(task_ids)
        for j in db.session.scalars(
            sa.select(DeliveryJudgement).where(
                DeliveryJudgement.task_id.in_(chunk), DeliveryJudgement.period.in_(periods)
            )
        )
    }


def indicator_by_key(task_id: int, key: str) -> Indicator | None:
    """The item's indicator with this key: as in force (approved), else as in its newest
    version (proposed, returned or superseded), with its plan loaded; None if no version has it.
    One round trip."""
    in_force = sa.case((DeliveryPlan.state == PlanState.APPROVED, 0), else_=1)
    return db.session.scalar(
        sa.select(Indicator)
        .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
        .where(DeliveryPlan.task_id == task_id, Indicator.key == key)
        .options(contains_eager(Indicator.plan))
        .order_by(in_force, DeliveryPlan.proposed_at.desc(), DeliveryPlan.id.desc())
        .limit(1)
    )


def document_indicators_in_force(document_id: int | None = None) -> list[Indicator]:
    """Every indicator of a version in force (of one document's items, if given), by item and
    answering department, with its plan, item, document and the item's assignments loaded.
    Two round trips."""
    query = (
        sa.select(Indicator)
        .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
        .join(Task, DeliveryPlan.task_id == Task.id)
        .join(PolicyDocument, Task.document_id == PolicyDocument.id)
        .where(DeliveryPlan.state == PlanState.APPROVED)
        .options(
            contains_eager(Indicator.plan)
            .contains_eager(DeliveryPlan.task)
            .contains_eager(Task.document),
            contains_eager(Indicator.plan)
            .contains_eager(DeliveryPlan.task)
            .selectinload(Task.assignments),
        )
        .order_by(Task.document_id, Task.number, DeliveryPlan.department_id, Indicator.position)
    )
    if document_id is not None:
        query = query.where(Task.document_id == document_id)
    return list(db.session.scalars(query))
