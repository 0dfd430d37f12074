"""Catalogue pages: the task list, one task, the departments and one department."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth import liaisons
from tracker.auth import queries as user_queries
from tracker.auth import services as account_services
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_manage_departments,
    can_view_all_contacts,
    can_view_contacts,
    can_view_department,
    require_manage_departments,
    require_view_department,
)
from tracker.catalogue import bp, queries, services
from tracker.catalogue.forms import (
    DepartmentEditForm,
    DepartmentForm,
    LiaisonSlotsForm,
    TaskFilterForm,
)
from tracker.catalogue.models import Assignment, Department, Role
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.web import (
    confirmation_page,
    confirmed,
    field_error,
    on_error_redirect,
    on_error_render,
)

PER_PAGE = 100  # items a page; a portfolio of many documents is paged


@bp.route("/")
def home() -> ResponseReturnValue:
    """Each role lands where its work is: administrators on their home, coordinators and
    viewers (leaders, and a department's viewers) on the dashboard (a department's viewer sees
    its department's), liaisons on their reports. Each landing page starts with its to-do.
    The security administrator lands on the accounts (locks, resets); the auditor on the
    audit trail; a county account on its county's ledger page."""
    if current_user.is_admin:
        return redirect(url_for("home.admin"))
    if current_user.is_security_admin:
        return redirect(url_for("auth.users"))
    if current_user.is_auditor:
        return redirect(url_for("audit.index"))
    if current_user.is_county:
        return redirect(url_for("counties.mine"))
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
        manage=can_manage_departments(current_user),
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
        manage=can_manage_departments(current_user), button=EmptyForm(),
        slots=liaisons.slot_holders(dept.id), slot_labels=liaisons.SLOT_LABELS,
        staffed=bool(liaisons.active_liaisons(dept.id)),
        approvers=user_queries.active_approvers(dept.id),
        signoff_on=services.signoff_required(dept),
    )  # fmt: skip


@bp.route("/departments/<code>/liaisons", methods=["GET", "POST"])
def department_liaisons(code: str) -> ResponseReturnValue:
    """Name the department's A and B liaisons among its active liaisons (administrators)."""
    dept = queries.department_by_code(code) or abort(404)
    require_manage_departments(current_user)
    people = liaisons.active_liaisons(dept.id)
    form = LiaisonSlotsForm()
    form.fill_choices((u.id, f"{u.display_name}（{u.username}）") for u in people)
    if not form.is_submitted():
        holders = liaisons.slot_holders(dept.id)
        form.main.data = str(holders[liaisons.MAIN].id) if liaisons.MAIN in holders else ""
        form.alternate.data = (
            str(holders[liaisons.ALTERNATE].id) if liaisons.ALTERNATE in holders else ""
        )

    def page(status: int = 200) -> ResponseReturnValue:
        body = render_template(
            "catalogue/department_liaisons.html", form=form, department=dept, people=people
        )
        return body, status

    if not form.validate_on_submit():
        return page(422 if form.is_submitted() else 200)

    def refused(error: DomainError) -> ResponseReturnValue:
        field_error(form, error)
        return page(422)

    on_error_render(refused)
    changed = liaisons.assign_slots(
        dept, main_id=form.chosen(form.main.data),
        alternate_id=form.chosen(form.alternate.data), actor=_actor(),
    )  # fmt: skip
    flash("已保存A角、B角联络员。" if changed else "没有修改任何内容。", "success")
    return redirect(url_for("catalogue.department", code=dept.code), 303)


# -- managing departments (administrators) -----------------------------------------------------


def _actor() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.route("/departments/new", methods=["GET", "POST"])
def new_department() -> ResponseReturnValue:
    """A new department: code, full name, short name, aliases, place in the list."""
    require_manage_departments(current_user)
    form = DepartmentForm()
    form.fill_signoff(None, current_app.config["TRACKER_SIGNOFF_REQUIRED"])
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("catalogue/department_form.html", form=form, department=None), status
    on_error_render(lambda error: _form_refused(form, None, error))
    assert form.code.data is not None  # DataRequired
    dept = services.create_department(form.code.data, form.to_input(), actor=_actor())
    flash(f"已新建部门「{dept.name}」（代码 {dept.code}）。", "success")
    return redirect(url_for("catalogue.department", code=dept.code), 303)


@bp.route("/departments/<code>/edit", methods=["GET", "POST"])
def edit_department(code: str) -> ResponseReturnValue:
    """Rename a department (the old name stays an alias), its short name, aliases, place."""
    dept = queries.department_by_code(code) or abort(404)
    require_manage_departments(current_user)
    form = DepartmentEditForm(obj=dept)
    form.fill_signoff(dept, current_app.config["TRACKER_SIGNOFF_REQUIRED"])
    if not form.is_submitted():
        form.aliases.data = "、".join(dept.aliases or [])
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("catalogue/department_form.html", form=form, department=dept), status
    on_error_render(lambda error: _form_refused(form, dept, error))
    old_name = dept.name
    changed = services.edit_department(dept, form.to_input(), actor=_actor())
    if not changed:
        flash("没有修改任何内容。", "success")
    elif dept.name != old_name:
        flash(f"已将「{old_name}」改名为「{dept.name}」；旧名称保留为别称。", "success")
    else:
        flash(f"已保存「{dept.name}」的修改。", "success")
    return redirect(url_for("catalogue.department", code=dept.code), 303)


def _form_refused(
    form: DepartmentEditForm, dept: Department | None, error: DomainError
) -> ResponseReturnValue:
    """The form again with what was typed, the refusal beside its field."""
    field_error(form, error)
    page = render_template("catalogue/department_form.html", form=form, department=dept)
    return page, 422


@bp.route("/departments/<code>/deactivate", methods=["POST"])
def deactivate_department(code: str) -> ResponseReturnValue:
    """First POST: refused while the department has open obligations, else a confirmation
    page saying what happens (to its accounts too); the confirmed POST does it."""
    dept = queries.department_by_code(code) or abort(404)
    require_manage_departments(current_user)
    back = url_for("catalogue.department", code=dept.code)
    if not EmptyForm().validate_on_submit():
        return redirect(back, 303)
    on_error_redirect(back)
    if not confirmed():
        services.check_deactivation(dept)  # refused now, before any confirmation
        return _deactivation_confirmation(dept, back)
    services.deactivate_department(dept, actor=_actor())
    count = account_services.deactivate_department_accounts(dept, actor=_actor())
    accounts = f"，并停用其 {count} 个账号" if count else ""
    flash(f"已停用「{dept.name}」{accounts}。", "success")
    return redirect(back, 303)


def _deactivation_confirmation(dept: Department, back: str) -> ResponseReturnValue:
    accounts = account_services.active_department_accounts(dept)
    lines = [
        f"将「{dept.name}」标为已停用：今后开启的季度不再为它生成填报任务，"
        "新建账号和导入新文件时不再提供该部门。",
        "往期的报告、看板和导出中它的数据保持不变，在部门列表中显示为“已停用”。",
    ]
    if accounts:
        names = "、".join(f"{u.display_name}（{u.username}，{u.role.label}）" for u in accounts)
        lines.append(
            f"同时停用它的 {len(accounts)} 个启用中的账号：{names}。每个账号的停用记入审计日志。"
        )
    else:
        lines.append("它没有启用中的账号。")
    lines.append("以后可以重新启用该部门；随部门停用的账号需要在用户管理中逐个重新启用。")
    return confirmation_page(
        title=f"停用部门：{dept.name}",
        lines=lines,
        action=url_for("catalogue.deactivate_department", code=dept.code),
        button="确认停用",
        cancel=back,
    )


@bp.route("/departments/<code>/activate", methods=["POST"])
def activate_department(code: str) -> ResponseReturnValue:
    """Reactivate: the department gets obligations again from the next opened period."""
    dept = queries.department_by_code(code) or abort(404)
    require_manage_departments(current_user)
    back = url_for("catalogue.department", code=dept.code)
    if not EmptyForm().validate_on_submit():
        return redirect(back, 303)
    on_error_redirect(back)
    services.activate_department(dept, actor=_actor())
    flash(f"已重新启用「{dept.name}」。它的账号如已停用，请在用户管理中逐个启用。", "success")
    return redirect(back, 303)
