"""Catalogue pages: the task list, one task, the departments and one department."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth.permissions import (
    can_view_all_contacts,
    can_view_contacts,
    can_view_department,
    require_view_department,
)
from tracker.catalogue import bp, queries
from tracker.catalogue.forms import TaskFilterForm
from tracker.catalogue.models import Assignment, Role
from tracker.extensions import db

PER_PAGE = 100  # items a page; a portfolio of many documents is paged


@bp.route("/")
def home() -> ResponseReturnValue:
    """Each role lands where its work is: administrators on their home, coordinators and
    viewers (leaders, and a department's viewers) on the dashboard (a department's viewer sees
    its department's), liaisons on their reports. Each landing page starts with its to-do."""
    if current_user.is_admin:
        return redirect(url_for("home.admin"))
    if current_user.is_coordinator or current_user.is_viewer:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("reports.mine"))


@bp.route("/tasks")
def tasks() -> ResponseReturnValue:
    documents, departments = queries.documents(), queries.departments()
    form = TaskFilterForm(request.args)
    form.fill_choices(documents, departments)
    if request.args and not form.validate():
        flash("筛选条件无效，已显示全部任务。", "warning")
        form = TaskFilterForm(formdata=None)
        form.fill_choices(documents, departments)
    department = queries.department_by_code(form.department.data) if form.department.data else None
    query = queries.tasks_query(
        document_id=int(form.document.data) if form.document.data else None,
        department_id=department.id if department else None,
        section=form.section.data or None,
        role=Role(form.role.data) if form.role.data else None,
    )
    items = db.paginate(
        query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "catalogue/tasks.html", form=form, tasks=items, documents=documents, Role=Role,
        per_document=queries.task_counts(query), args=_filter_args(form),
    )  # fmt: skip


def _filter_args(form: TaskFilterForm) -> dict[str, str]:
    """The filters as query arguments, for the page links."""
    fields = (form.document, form.department, form.section, form.role)
    return {field.name: field.data for field in fields if field.data}


@bp.route("/tasks/<int:task_id>")
def task(task_id: int) -> ResponseReturnValue:
    item = queries.task_with_assignments(task_id) or abort(404)
    return render_template(
        "catalogue/task.html", task=item, Role=Role, may_view_department=_may_view_department
    )


def _may_view_department(department_id: int) -> bool:
    """Whether the department's page opens for the user (a link to it is shown only then)."""
    return can_view_department(current_user, department_id)


@bp.route("/departments")
def departments() -> ResponseReturnValue:
    return render_template(
        "catalogue/departments.html",
        departments=queries.departments(),
        counts=queries.department_role_counts(),
        Role=Role,
        all_contacts=can_view_all_contacts(current_user),
        may_view_department=_may_view_department,
    )


@bp.route("/departments/<code>")
def department(code: str) -> ResponseReturnValue:
    dept = queries.department_by_code(code) or abort(404)
    require_view_department(current_user, dept.id)
    grouped: dict[Role, list[Assignment]] = {role: [] for role in Role}
    for assignment in queries.department_assignments(dept.id):
        grouped[assignment.role].append(assignment)
    return render_template(
        "catalogue/department.html", department=dept, grouped=grouped, Role=Role,
        contacts=can_view_contacts(current_user, dept.id),
    )  # fmt: skip
