"""Excel downloads and the template upload.

* ``/exports/quarterly.xlsx``: the quarterly workbook. Everyone signed in may download it, and
  it holds what they may see: every department for coordinators, admins and leaders, their own
  department for liaisons and department viewers.
* ``/exports/template.xlsx`` and ``/exports/template/upload``: a liaison's offline round trip.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.audit.services import record_event
from tracker.auth.permissions import (
    can_edit_department_reports,
    require_edit_department_reports,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument, Role
from tracker.dashboard import queries as dashboard_queries
from tracker.dashboard.rag import Rag
from tracker.errors import DomainError
from tracker.exports import bp, queries, services
from tracker.exports.forms import TemplateUploadForm
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.exports.template import Problem, write_template
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.web import on_error_render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_BYTES = 8 * 1024 * 1024  # larger workbooks go to a temporary file, not memory


@bp.app_context_processor
def _template_links() -> dict[str, Callable[[], bool]]:
    """Lets pages (my obligations, the dashboard) offer the template to liaisons only."""

    def may_use_template() -> bool:
        user = current_user
        return user.is_authenticated and can_edit_department_reports(user, user.department_id)

    return {"may_use_template": may_use_template}


def _period_arg() -> Period:
    """The ``?period=2026Q3`` argument (default: the current quarter); untracked is 404."""
    key = request.args.get("period", "").strip()
    if not key:
        return report_queries.current_period()
    return report_queries.tracked_period(key) or abort(404)


def _document_arg() -> PolicyDocument | None:
    """The ``?document=ID`` argument; unknown documents are 404."""
    value = request.args.get("document", "").strip()
    if not value:
        return None
    if not value.isdigit():
        abort(404)
    return db.session.get(PolicyDocument, int(value)) or abort(404)


def _send(write: Callable[[IO[bytes]], object], download_name: str) -> Response:
    """Write a workbook into a spooled file and send it."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - send_file closes it
    write(spool)
    spool.seek(0)
    record_event("export.download", actor=current_user, object_type="export",
                 after={"filename": download_name})  # fmt: skip
    return send_file(
        spool, mimetype=XLSX, as_attachment=True, download_name=download_name, max_age=0
    )


@bp.route("/quarterly.xlsx")
def quarterly() -> ResponseReturnValue:
    """The quarterly workbook of a period with the dashboard's filters (document, main-text
    part, department, role, colour); an unknown filter value is refused in words."""
    period = _period_arg()
    document = _document_arg()
    try:
        filters = _filters()
    except ValueError as error:
        return render_template(
            "error.html", code=400, title="筛选条件无效", message=str(error)
        ), 400
    department = filters.department or current_user.department
    department_ids = visible_department_ids(current_user)
    label = None
    if department_ids is not None:
        label = current_user.department.name if current_user.department else "无部门"
    elif filters.department is not None:
        department_ids, label = {filters.department.id}, filters.department.name
    export = QuarterlyRequest(
        period,
        document.id if document else None,
        frozenset(department_ids) if department_ids is not None else None,
        label,
        section=filters.section,
        role=filters.role,
        rag=filters.rag,
    )  # fmt: skip
    prefix = f"{document.number}-" if document else ""
    suffix = f"-{department.short_name}" if label and department else ""
    return _send(
        lambda out: write_quarterly(out, export), f"{prefix}{period.key}季度报表{suffix}.xlsx"
    )


@dataclass(frozen=True)
class _Filters:
    """The dashboard filters a download carries (the period and document are read apart)."""

    section: str | None
    department: Department | None
    role: Role | None
    rag: Rag | None


def _filters() -> _Filters:
    """The dashboard's filters from the query string; ``ValueError`` names a bad one.

    A liaison or department viewer may name only their own department (or none).
    """
    section = request.args.get("section", "").strip() or None
    if section is not None and section not in dashboard_queries.SECTION_PARTS:
        raise ValueError(f"未知的正文部分：{section}")
    code = request.args.get("department", "").strip()
    department = catalogue_queries.department_by_code(code) if code else None
    if code and department is None:
        raise ValueError(f"未知的部门：{code}")
    visible = visible_department_ids(current_user)
    if department is not None and visible is not None and department.id not in visible:
        raise ValueError(f"只能导出本部门的报表，不能导出{department.name}的报表。")
    role, rag = request.args.get("role", "").strip(), request.args.get("state", "").strip()
    if role and role not in {r.value for r in Role}:
        raise ValueError(f"未知的角色：{role}")
    if rag and rag not in {r.value for r in Rag}:
        raise ValueError(f"未知的状态：{rag}")
    return _Filters(section, department, Role(role) if role else None, Rag(rag) if rag else None)


@bp.route("/template.xlsx")
def template() -> ResponseReturnValue:
    """A liaison's template for a period: their department's obligations, ready to fill in."""
    require_edit_department_reports(current_user, current_user.department_id)
    period = _period_arg()
    department: Department | None = current_user.department
    assert department is not None, "a liaison of the department (required above) has one"
    lines = queries.obligation_lines(period, department_id=department.id)
    return _send(
        lambda out: write_template(out, lines, department=department, period=period),
        f"{period.key}-{department.short_name}-填报模板.xlsx",
    )


@bp.route("/template/upload", methods=["GET", "POST"])
def upload() -> ResponseReturnValue:
    """Upload a filled-in template: all rows saved as drafts, or none and every problem shown."""
    require_edit_department_reports(current_user, current_user.department_id)
    period = _period_arg()
    form = TemplateUploadForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _upload_page(form, period, form.problems), status
    assert form.parsed is not None, "validate_file reads every file that FileRequired lets through"
    on_error_render(lambda error: (_upload_page(form, period, _problems(error)), 422))
    result = services.apply_template(form.parsed, actor=current_user)
    flash(_saved_message(result), "success")
    return redirect(url_for("reports.mine", period=result.period or period.key))


def _problems(error: DomainError) -> list[Problem]:
    """Every problem of a refused upload; any other refusal as one problem."""
    return getattr(error, "problems", None) or [Problem(error.message)]


def _upload_page(form: TemplateUploadForm, period: Period, problems: list[Problem]) -> str:
    return render_template(
        "exports/upload.html",
        form=form,
        period=period,
        periods=report_queries.tracked_periods(),
        problems=problems,
    )


def _saved_message(result: services.UploadResult) -> str:
    if not result.saved:
        return "模板中的内容与系统中一致，没有需要保存的修改。"
    return (
        f"已保存 {result.saved} 份草稿（新建 {result.created} 份，更新 {result.updated} 份）。"
        "草稿尚未报送：请逐项核对后在系统中报送。"
    )
