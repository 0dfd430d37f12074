"""Excel downloads and the template upload.

* ``/exports/quarterly.xlsx``: the quarterly workbook. Everyone signed in may download it, and
  it holds what they may see: every department for coordinators, admins and leaders, their own
  department for liaisons and department viewers.
* ``/exports/template.xlsx`` and ``/exports/template/upload``: a liaison's offline round trip.
* ``/exports/jobs`` and ``/exports/jobs/<id>[/download]``: a quarterly workbook too large for
  the request is written in the background (:mod:`tracker.exports.background`); the user who
  asked follows it and downloads it there, nobody else.
* ``/exports/notice.docx``: the quarterly 通报 draft (Word), for those who read every
  department's progress (coordinators, leaders, admins); others get 403.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.audit.services import record_event
from tracker.auth.permissions import (
    can_draft_notice,
    can_edit_department_reports,
    require_draft_notice,
    require_edit_department_reports,
    require_view_department,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument, Role
from tracker.dashboard import queries as dashboard_queries
from tracker.dashboard.rag import Rag
from tracker.errors import DomainError
from tracker.exports import background, bp, queries, services
from tracker.exports.department import DepartmentPaper, department_paper, write_department_xlsx
from tracker.exports.department_docx import write_department_docx
from tracker.exports.document import DOCX
from tracker.exports.forms import TemplateUploadForm
from tracker.exports.models import ExportJob
from tracker.exports.notice import NoticeRequest, write_notice
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
    """Lets pages (my obligations, the dashboard) offer the template to liaisons only, and
    the 通报 draft to those who may have it."""

    def may_use_template() -> bool:
        user = current_user
        return user.is_authenticated and can_edit_department_reports(user, user.department_id)

    def may_draft_notice() -> bool:
        return current_user.is_authenticated and can_draft_notice(current_user)

    return {"may_use_template": may_use_template, "may_draft_notice": may_draft_notice}


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


def _send(
    write: Callable[[IO[bytes]], object], download_name: str, mimetype: str = XLSX
) -> Response:
    """Write a workbook (or document) into a spooled file and send it."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - send_file closes it
    write(spool)
    spool.seek(0)
    record_event("export.download", actor=current_user, object_type="export",
                 after={"filename": download_name})  # fmt: skip
    return send_file(
        spool, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0
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
        prepared_by_id=current_user.id,
    )  # fmt: skip
    prefix = f"{document.number}-" if document else ""
    suffix = f"-{department.short_name}" if label and department else ""
    name = f"{prefix}{period.key}季度报表{suffix}.xlsx"
    later, total = background.goes_to_background(export)
    if later:
        job = background.queue_quarterly(
            export, user=current_user, download_name=name, description=name.removesuffix(".xlsx"),
            total=total,
        )  # fmt: skip
        return redirect(url_for("exports.job", job_id=job.id), 303)
    return _send(lambda out: write_quarterly(out, export), name)


# -- background exports: the user's own only ---------------------------------------------------


def _own_job(job_id: int) -> ExportJob:
    """The job, if it is the signed-in user's: another's is 403, a missing one 404."""
    job = background.job_of(job_id) or abort(404)
    if job.user_id != current_user.id:
        abort(403)
    return job


def _job_page_values() -> dict[str, object]:
    config = current_app.config
    return {
        "threshold": background.threshold(),
        "keep_hours": config["TRACKER_EXPORT_KEEP_HOURS"],
        "refresh_seconds": max(2, min(10, int(config["TRACKER_EXPORT_POLL_SECONDS"]))),
    }


@bp.route("/jobs")
def jobs() -> ResponseReturnValue:
    """The signed-in user's background exports, newest first."""
    return render_template(
        "exports/jobs.html", jobs=background.jobs_of(current_user), **_job_page_values()
    )


@bp.route("/jobs/<int:job_id>")
def job(job_id: int) -> ResponseReturnValue:
    """One background export: its progress while written, then its download."""
    return render_template("exports/job.html", job=_own_job(job_id), **_job_page_values())


@bp.route("/jobs/<int:job_id>/download")
def job_download(job_id: int) -> ResponseReturnValue:
    """The written file of one of the user's background exports (404 once removed)."""
    job = _own_job(job_id)
    path = background.file_of(job) or abort(404)
    record_event("export.download", job, actor=current_user, object_type="export_job",
                 after={"filename": job.download_name})  # fmt: skip
    return send_file(
        path, mimetype=XLSX, as_attachment=True, download_name=job.download_name, max_age=0
    )


@bp.route("/notice.docx")
def notice() -> ResponseReturnValue:
    """The quarterly 通报 draft of a period (optionally one document), all departments."""
    require_draft_notice(current_user)
    period = _period_arg()
    document = _document_arg()
    draft = NoticeRequest(period, document.id if document else None,
                          document.number if document else None)  # fmt: skip
    prefix = f"{document.number}-" if document else ""
    return _send(lambda out: write_notice(out, draft), f"{prefix}{period.key}通报代拟稿.docx", DOCX)


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


@bp.route("/departments/<code>/report-sheet.xlsx")
def department_sheet(code: str) -> ResponseReturnValue:
    """A department's 报送 sheet for a period (``?period=``, ``?document=``), as a workbook:
    for the department's own users (drafts included, marked) and for those who see every
    department (handed-in reports only)."""
    return _department_download(code, write_department_xlsx, "xlsx", XLSX)


@bp.route("/departments/<code>/report-sheet.docx")
def department_sheet_docx(code: str) -> ResponseReturnValue:
    """The same 报送 sheet as a Word document, to read, sign and stamp."""
    return _department_download(code, write_department_docx, "docx", DOCX)


def _department_download(
    code: str,
    write: Callable[[IO[bytes], DepartmentPaper], None],
    suffix: str,
    mimetype: str,
) -> Response:
    department = catalogue_queries.department_by_code(code) or abort(404)
    require_view_department(current_user, department.id)
    paper = _department_paper(department)
    return _send(
        lambda out: write(out, paper),
        f"{paper.period.key}-{department.short_name}-报送表.{suffix}",
        mimetype=mimetype,
    )


def _own_department(department: Department) -> bool:
    """Is the reader one of the department's own (its drafts are theirs to see), rather than
    someone who sees every department (coordinators, leaders: handed-in reports only)?"""
    visible = visible_department_ids(current_user)
    return visible is not None and department.id in visible


def _department_paper(department: Department) -> DepartmentPaper:
    document = _document_arg()
    return department_paper(
        department,
        _period_arg(),
        document_id=document.id if document else None,
        prepared_by=current_user,
        include_drafts=_own_department(department),
    )


@bp.route("/template.xlsx")
def template() -> ResponseReturnValue:
    """A liaison's template for a period: their department's obligations, ready to fill in."""
    require_edit_department_reports(current_user, current_user.department_id)
    period = _period_arg()
    department: Department | None = current_user.department
    assert department is not None, "a liaison of the department (required above) has one"
    lines = queries.obligation_lines(period, department_id=department.id)
    figures = queries.figures_by_obligation(period, department.id)
    plan = queries.plan_lines(period, department.id)
    return _send(
        lambda out: write_template(
            out, lines, department=department, period=period, figures=figures, plan=plan
        ),
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
