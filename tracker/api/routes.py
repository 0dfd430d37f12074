"""The ``/api/v1`` endpoints: thin views in the web pages' order, answering JSON.

load or 404 → authorize (the same :mod:`tracker.auth.permissions`) → validate → one service
call → JSON. Errors are raised, and answered by the handlers in ``errors.py``.
"""

from __future__ import annotations

import tempfile

from flask import jsonify, request, send_file, url_for

from tracker.api import auth, bp, forms, queries, schemas, serializers
from tracker.api.errors import ApiError, InvalidInput
from tracker.auth.permissions import (
    require_edit_department_reports,
    require_review_reports,
    require_view_department,
    require_view_obligation,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.dashboard import queries as dashboard_queries
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.extensions import csrf, db
from tracker.reports import queries as report_queries
from tracker.reports import services as report_services
from tracker.reports.models import Obligation, Report

# Safe only because the API never reads the session cookie: see tracker/api/auth.py.
csrf.exempt(bp)


@bp.before_request
def _known_arguments():
    """Refuse query arguments the document does not list: a misspelt filter (``?perod=``)
    must not silently fall back to the default. Runs after the token check (auth.py)."""
    if request.url_rule is None or request.endpoint in auth.PUBLIC_API_ENDPOINTS:
        return
    allowed = schemas.query_parameters(request.url_rule.rule, request.method)
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        raise InvalidInput(dict.fromkeys(unknown, "未知的查询参数"))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public: shapes, no data)."""
    return jsonify(schemas.openapi_document())


@bp.get("/me")
def me():
    return jsonify(serializers.me(auth.api_user()))


@bp.get("/departments")
def departments():
    return jsonify(items=[serializers.department(d) for d in catalogue_queries.departments()])


@bp.get("/tasks")
def tasks():
    document = forms.document_arg()
    query = catalogue_queries.tasks_query(document_id=document.id if document else None)
    return jsonify(items=[serializers.task(t) for t in db.session.scalars(query)])


@bp.get("/periods")
def periods():
    current = report_queries.current_period()
    items = []
    for period in report_queries.tracked_periods():
        due, support_due = report_services.due_dates_for(period)
        items.append(serializers.period(period, due=due, support_due=support_due, current=current))
    return jsonify(items=items)


def _scoped_departments(user) -> set[int] | None:
    """The departments a reader is limited to (None: all), narrowed by ``?department=``."""
    department_ids = visible_department_ids(user)
    department = forms.department_arg()
    if department is not None:
        require_view_department(user, department.id)
        department_ids = {department.id}
    if department_ids is not None and not department_ids:
        raise ApiError(403)  # a scoped user without a department sees nothing
    return department_ids


@bp.get("/obligations")
def obligations():
    """A period's obligations that the caller may see, optionally of one department."""
    period = forms.period_arg()
    department_ids = _scoped_departments(auth.api_user())
    report_services.open_period(period)
    query = report_queries.obligations_query(period, department_ids=department_ids)
    items = [serializers.obligation(o) for o in db.session.scalars(query).unique()]
    return jsonify(period=period.key, items=items)


def _readable(obligation: Obligation) -> None:
    """Its own department, leaders and coordinators, and the item's lead department."""
    lead_ids = obligation.task.lead_department_ids
    require_view_obligation(auth.api_user(), obligation.department_id, lead_ids)


def _load_report(report_id: int) -> Report:
    # Ids beyond the column's range name nothing (and must not reach the database driver).
    report = queries.report_with_context(report_id) if report_id <= forms.MAX_ID else None
    if report is None:
        raise ApiError(404, "没有这份报告。")
    _readable(report.obligation)
    return report


def _guard_version(report: Report, version: int | None) -> None:
    if version is not None and version != report.version:
        raise ApiError(
            409,
            f"该报告已变更（当前为第 {report.version} 版，请求基于第 {version} 版），请重新读取。",
            code="stale_version",
        )


def _report_response(report: Report, status: int = 200):
    db.session.flush()
    return jsonify(serializers.report(report)), status


@bp.post("/reports")
def create_report():
    """File the report of an obligation, as a draft."""
    obligation_id, changes = forms.report_create(forms.json_body())
    obligation = report_queries.obligation_with_context(obligation_id)
    if obligation is None:
        raise InvalidInput({"obligation_id": f"没有编号为 {obligation_id} 的事项"})
    _readable(obligation)
    require_edit_department_reports(auth.api_user(), obligation.department_id)
    if obligation.report is not None:
        raise ApiError(
            409,
            f"该事项已有报告（编号 {obligation.report.id}），请用 PATCH 修改。",
            code="report_exists",
        )
    report = report_services.save_draft(
        obligation, changes.onto(), actor=auth.api_user(), expected_version=None
    )
    response, status = _report_response(report, 201)
    response.headers["Location"] = url_for("api.report", report_id=report.id)
    return response, status


@bp.get("/reports/<int:report_id>")
def report(report_id: int):
    return _report_response(_load_report(report_id))


@bp.patch("/reports/<int:report_id>")
def update_report(report_id: int):
    """Change a draft or returned report; ``version`` must be the one the client read."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    version, changes = forms.report_update(forms.json_body())
    report_services.save_draft(
        report.obligation, changes.onto(report), actor=auth.api_user(), expected_version=version
    )
    return _report_response(report)


@bp.post("/reports/<int:report_id>/submit")
def submit_report(report_id: int):
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, forms.submit(forms.json_body(optional=True)))
    report_services.submit_report(report, actor=auth.api_user())
    return _report_response(report)


@bp.post("/reports/<int:report_id>/accept")
def accept_report(report_id: int):
    report = _load_report(report_id)
    require_review_reports(auth.api_user())
    review = forms.accept(forms.json_body())
    _guard_version(report, review.version)
    report_services.accept_report(
        report,
        actor=auth.api_user(),
        confirmed_status=review.confirmed_status,
        comment=review.comment,
    )
    return _report_response(report)


@bp.post("/reports/<int:report_id>/return")
def return_report(report_id: int):
    report = _load_report(report_id)
    require_review_reports(auth.api_user())
    review = forms.return_(forms.json_body())
    _guard_version(report, review.version)
    report_services.return_report(
        report,
        actor=auth.api_user(),
        reason=review.reason,
        confirmed_status=review.confirmed_status,
    )
    return _report_response(report)


@bp.get("/dashboard")
def dashboard():
    """The dashboard page's figures: headline, per-department scorecard, per-cell states."""
    user = auth.api_user()
    period, document = forms.period_arg(), forms.document_arg()
    department_ids = _scoped_departments(user)
    data = dashboard_queries.dashboard_data(
        period, document.id if document else None, department_ids
    )
    return jsonify(data)


@bp.get("/notifications")
def notifications():
    """The caller's own notifications, newest first (``?unread=1``: only unread ones)."""
    user = auth.api_user()
    unread, limit = forms.flag_arg("unread"), forms.limit_arg()
    items = queries.notifications_of(user, unread_only=bool(unread), limit=limit)
    return jsonify(items=[serializers.notification(n) for n in items])


@bp.get("/exports/quarterly.xlsx")
def export_quarterly():
    """The quarterly workbook, holding the departments the caller may see (as on the web)."""
    user = auth.api_user()
    period, document = forms.period_arg(), forms.document_arg()
    department_ids = _scoped_departments(user)
    report_services.open_period(period)
    label = None
    if department_ids is not None:
        label = "、".join(d.name for d in catalogue_queries.departments() if d.id in department_ids)
    export = QuarterlyRequest(
        period,
        document.id if document else None,
        frozenset(department_ids) if department_ids is not None else None,
        label,
    )
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - sent
    write_quarterly(spool, export)
    spool.seek(0)
    name = f"{period.key}季度报表{'-' + label if label else ''}.xlsx"
    return send_file(
        spool, mimetype=schemas.XLSX, as_attachment=True, download_name=name, max_age=0
    )
