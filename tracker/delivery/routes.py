"""Delivery plan pages: the list, an item's plans and their history, the proposal form, and
the coordinator's approve and return buttons."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth.permissions import (
    can_decide_plans,
    can_propose_plan,
    can_read_plan,
    can_read_progress,
    can_view_item,
    require_decide_plans,
    require_propose_plan,
    sees_all_departments,
)
from tracker.catalogue.models import Task
from tracker.delivery import bp, queries, services
from tracker.delivery.forms import ApprovePlanForm, PlanForm, ReturnPlanForm
from tracker.delivery.models import DeliveryPlan
from tracker.errors import DomainError
from tracker.guards import checks_own_text
from tracker.navigation import add_nav
from tracker.web import flash_form_errors, on_error_render

add_nav(
    "delivery.index",
    "落实计划",
    lambda user: (
        can_read_progress(user) and (user.department_id is not None or sees_all_departments(user))
    ),
    position=5,
)


def _load_task(task_id: int) -> Task:
    task = queries.task_with_plans(task_id) or abort(404)
    if not can_read_progress(current_user) or not can_view_item(
        current_user, queries.item_department_ids(task)
    ):
        abort(403)
    return task


def _load_plan(plan_id: int) -> DeliveryPlan:
    return queries.plan(plan_id) or abort(404)


def _readable(task: Task, plans: list[DeliveryPlan]) -> list[DeliveryPlan]:
    """The versions the current user may read (:func:`can_read_plan`)."""
    departments = queries.item_department_ids(task)
    return [
        p
        for p in plans
        if can_read_plan(current_user, p.department_id, departments, approved=not p.pending)
    ]


@bp.route("/delivery")
def index() -> ResponseReturnValue:
    """Plans waiting for a decision (the coordinator's queue, or one's own department's),
    the items one's department proposes a plan for, and every plan in force."""
    if not can_read_progress(current_user):
        abort(403)
    own = current_user.department_id
    pending = [
        p
        for p in queries.pending_plans()
        if can_read_plan(
            current_user, p.department_id, queries.item_department_ids(p.task), approved=False
        )
    ]
    return render_template(
        "delivery/index.html",
        pending=pending,
        approved=queries.all_approved(),
        plannable=queries.plannable_tasks(own) if own is not None else [],
        may_decide=can_decide_plans(current_user),
    )


@bp.route("/delivery/tasks/<int:task_id>")
def item(task_id: int) -> ResponseReturnValue:
    """An item's plans: each answering department's version in force, the one waiting, and
    every version with its reasons."""
    task = _load_task(task_id)
    return _item_page(task)


def _item_page(
    task: Task, refused: ReturnPlanForm | None = None, refused_id: int | None = None
) -> str:
    plans = _readable(task, queries.versions(task.id))
    answering = queries.plan_department_ids(task)
    departments = queries.departments_by_id(
        queries.item_department_ids(task)
        | {d for p in plans for i in p.indicators for d in i.department_ids}
    )
    return render_template(
        "delivery/item.html",
        task=task,
        plans=plans,
        answering=[departments[d] for d in answering if d in departments],
        departments=departments,
        may_propose=[d for d in answering if can_propose_plan(current_user, d)],
        may_decide=can_decide_plans(current_user),
        approve_form=ApprovePlanForm(formdata=None),
        return_form=refused if refused is not None else ReturnPlanForm(formdata=None),
        refused_id=refused_id,
    )


@bp.route("/delivery/tasks/<int:task_id>/plan", methods=["GET", "POST"])
@checks_own_text
def propose(task_id: int) -> ResponseReturnValue:
    """The proposal form of the current user's department (lead, or a joint share)."""
    task = _load_task(task_id)
    department_id = current_user.department_id
    if department_id not in queries.plan_department_ids(task):
        abort(403)
    require_propose_plan(current_user, department_id)
    department = queries.departments_by_id({department_id})[department_id]
    latest = queries.latest_version(task.id, department_id)
    in_force = queries.approved_plan(task.id, department_id)
    form = PlanForm()
    departments = sorted(
        queries.departments_by_id(queries.item_department_ids(task)).values(),
        key=lambda d: d.position,
    )
    if not task.lead_department_ids:
        departments = [department]  # a joint share names only its own department
    form.setup(departments, queries.document_start(task), changing=in_force is not None)
    if latest is not None and not form.is_submitted():
        form.fill_from(latest)
    page = lambda status=200: (  # noqa: E731 - the one page, shown three ways
        render_template("delivery/propose.html", task=task, form=form, department=department,
                        latest=latest, in_force=in_force, start=queries.document_start(task)),
        status,
    )  # fmt: skip
    if not form.is_submitted():
        return page()
    if not form.validate_on_submit():
        flash("未能提交：请按提示修改后再提交。", "error")
        return page(422)
    on_error_render(lambda error: _propose_refused(error, page))
    plan = services.propose_plan(task, department, form.to_input(), actor=current_user)
    flash(f"落实计划第 {plan.number} 版已提交，等待民政部督办协调员审核。", "success")
    return redirect(url_for("delivery.item", task_id=task.id))


def _propose_refused(
    error: DomainError, page: Callable[[int], ResponseReturnValue]
) -> ResponseReturnValue:
    flash(error.message, "error")
    return page(422)


@bp.route("/delivery/plans/<int:plan_id>/approve", methods=["POST"])
def approve(plan_id: int) -> ResponseReturnValue:
    plan = _load_plan(plan_id)
    require_decide_plans(current_user)
    form = ApprovePlanForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("delivery.item", task_id=plan.task_id))
    on_error_render(lambda error: _decision_refused(plan, None, error))
    services.approve_plan(plan, actor=current_user)
    flash(f"已批准{plan.department.name}的落实计划第 {plan.number} 版。", "success")
    return redirect(url_for("delivery.item", task_id=plan.task_id))


@bp.route("/delivery/plans/<int:plan_id>/return", methods=["POST"])
@checks_own_text
def return_(plan_id: int) -> ResponseReturnValue:
    plan = _load_plan(plan_id)
    require_decide_plans(current_user)
    form = ReturnPlanForm()
    if not form.validate_on_submit():
        flash("未能退回：" + "；".join(str(m) for ms in form.errors.values() for m in ms), "error")
        return _item_page(plan.task, form, plan.id), 422
    on_error_render(lambda error: _decision_refused(plan, form, error))
    assert form.reason.data is not None  # DataRequired
    services.return_plan(plan, actor=current_user, reason=form.reason.data)
    flash(f"已退回{plan.department.name}的落实计划第 {plan.number} 版。", "success")
    return redirect(url_for("delivery.item", task_id=plan.task_id))


def _decision_refused(
    plan: DeliveryPlan, form: ReturnPlanForm | None, error: DomainError
) -> ResponseReturnValue:
    flash(error.message, "error")
    return _item_page(plan.task, form, plan.id if form is not None else None), 422
