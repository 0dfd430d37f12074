"""The ``/api/v1`` endpoints: thin views in the web pages' order, answering JSON.

load or 404 → authorize (the same :mod:`tracker.auth.permissions`) → validate → one service
call → JSON. Errors are raised, and answered by the handlers in ``errors.py``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, g, jsonify, request, send_file, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from tracker.api import (
    audit_writes,  # noqa: F401 - its hook audits every write
    auth,
    bp,
    contract,
    queries,
    schemas,
    serializers,
    validation,
)
from tracker.api.errors import ApiError, InvalidInput
from tracker.api.schemas import Success, operations
from tracker.audit.services import record_event
from tracker.auth import liaisons
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_read_plan,
    require_approve_reports,
    require_decide_plans,
    require_edit_department_reports,
    require_judge_delivery,
    require_manage_departments,
    require_propose_plan,
    require_read_delivery,
    require_read_plan,
    require_read_report,
    require_review_reports,
    require_view_department,
    require_view_obligation,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, Task
from tracker.dashboard import queries as dashboard_queries
from tracker.dashboard import services as dashboard_services
from tracker.dashboard import trajectory
from tracker.dashboard.delivery_light import suggested_light
from tracker.dashboard.queries.delivery import item_deliveries
from tracker.delivery import queries as delivery_queries
from tracker.delivery import services as delivery_services
from tracker.delivery.models import DeliveryPlan
from tracker.exports import background
from tracker.exports.models import ExportJob
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.extensions import csrf, db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports import services as report_services
from tracker.reports import signoff
from tracker.reports.limits import MAX_ID
from tracker.reports.models import Obligation, Report

Q = TypeVar("Q", bound=contract.QueryModel)
T = TypeVar("T")

# Safe only because the API never reads the session cookie: see tracker/api/auth.py.
csrf.exempt(bp)


@bp.before_request
def _query_arguments() -> None:
    """Parse the query arguments into the operation's model before the view runs: an
    argument the operation does not list (``?perod=``) must not silently fall back to the
    default. Runs after the token check (auth.py)."""
    operation = operations.for_endpoint(request.endpoint)
    if operation is None or operation.public:
        return
    g.api_query = validation.query(operation.query)


def _args(model: type[Q]) -> Q:
    """The query arguments parsed by :func:`_query_arguments`."""
    parsed = g.get("api_query")
    return parsed if isinstance(parsed, model) else validation.query(model)


def _json(model: BaseModel, status: int = 200) -> tuple[Response, int]:
    return jsonify(model.model_dump(mode="json")), status


def _cursor(value: str | None) -> int | None:
    """The ``?cursor=`` argument as a number (its digits were checked by the query model)."""
    if value is None:
        return None
    if int(value) > MAX_ID:
        raise InvalidInput({"cursor": "游标无效：请去掉 cursor，从第一页重新读取。"})
    return int(value)


def _stale_cursor() -> ApiError:
    return InvalidInput(
        {"cursor": "游标无效（不是本列表中的一条）：请去掉 cursor，从第一页重新读取。"}
    )


def _next(rows: list[T], limit: int, cursor: Callable[[T], int]) -> tuple[list[T], str | None]:
    """A page's rows (the query read one more than ``limit``) and the next page's address:
    this request's arguments with the cursor after its last row, or None on the last page."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("cursor", "limit")}
    args.update(limit=limit, cursor=cursor(rows[-1]))
    address = url_for(request.endpoint or "", **args)
    return rows, address


REPORT = Success(200, "报告", contract.Report)
REPORT_ERRORS = (400, 403, 404, 409, 415)


@operations.get(
    "/openapi.json",
    operation_id="openapi",
    summary="本文档（无需令牌）",
    success=Success(
        200, "OpenAPI 3.1 文档", content={schemas.JSON: {"schema": {"type": "object"}}}
    ),
    public=True,
)
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of this API (public: shapes, no data)."""
    return jsonify(schemas.openapi_document())


@operations.get(
    "/me",
    operation_id="me",
    summary="令牌所属用户（角色和部门决定权限）",
    success=Success(200, "当前用户", contract.Me),
)
def me() -> ResponseReturnValue:
    """The token's owner."""
    return _json(serializers.me(auth.api_user()))


@operations.get(
    "/departments",
    operation_id="departments",
    summary="部门列表",
    success=Success(200, "全部部门", contract.DepartmentList),
)
def departments() -> ResponseReturnValue:
    """Every department."""
    viewer = auth.api_user()
    items = [serializers.department(d, viewer) for d in catalogue_queries.departments()]
    return _json(contract.DepartmentList(items=items))


@operations.post(
    "/departments/<code>/liaisons",
    operation_id="setDepartmentLiaisons",
    summary="指定部门的A角、B角联络员（须为本部门在用的联络员）；仅系统管理员",
    path=contract.DepartmentPath,
    body=contract.LiaisonsRequest,
    success=Success(200, "部门", contract.Department),
    errors=(400, 403, 404, 415),
)
def set_department_liaisons(code: str) -> ResponseReturnValue:
    """Name the department's A and B liaisons, as the department's page does (audited)."""
    require_manage_departments(auth.api_user())
    department = catalogue_queries.department_by_code(code)
    if department is None:
        raise ApiError(404, "没有这个部门。")
    chosen = validation.body(contract.LiaisonsRequest)
    try:
        liaisons.assign_slots(
            department, main_id=chosen.main_id, alternate_id=chosen.alternate_id,
            actor=auth.api_user(),
        )  # fmt: skip
    except liaisons.LiaisonError as error:  # named by the body's fields, not the form's
        fields = {f"{error.field}_id": error.message} if error.field else None
        raise ApiError(400, error.message, code=error.code, fields=fields) from None
    return _json(serializers.department(department, auth.api_user()))


@operations.get(
    "/tasks",
    operation_id="tasks",
    summary="任务分工：各项任务及其责任部门和角色",
    description=contract.PAGED,
    query=contract.TasksQuery,
    success=Success(200, "任务列表", contract.TaskList),
)
def tasks() -> ResponseReturnValue:
    """The items of the task division, optionally of one document; paged (the cursor is the
    position in the list: the catalogue changes only by an import)."""
    args = _args(contract.TasksQuery)
    document = validation.document(args.document)
    start = _cursor(args.cursor) or 0
    query = catalogue_queries.tasks_query(document_id=document.id if document else None)
    rows = list(db.session.scalars(query.offset(start).limit(args.limit + 1)))
    rows, following = _next(rows, args.limit, lambda _: start + args.limit)
    return _json(contract.TaskList(items=[serializers.task(t) for t in rows], next=following))


@operations.get(
    "/periods",
    operation_id="periods",
    summary="跟踪中的报告期（新的在前）及截止日",
    success=Success(200, "报告期列表", contract.PeriodList),
)
def periods() -> ResponseReturnValue:
    """The tracked quarters with their due dates."""
    current = report_queries.current_period()
    items = []
    for period in report_queries.tracked_periods():
        due, support_due = report_services.due_dates_for(period)
        items.append(serializers.period(period, due=due, support_due=support_due, current=current))
    return _json(contract.PeriodList(items=items))


def _scoped_departments(user: User, key: str | None) -> set[int] | None:
    """The departments a reader is limited to (None: all), narrowed by ``?department=``."""
    department_ids = visible_department_ids(user)
    department = validation.department(key)
    if department is not None:
        require_view_department(user, department.id)
        department_ids = {department.id}
    if department_ids is not None and not department_ids:
        raise ApiError(403)  # a scoped user without a department sees nothing
    return department_ids


@operations.get(
    "/obligations",
    operation_id="obligations",
    summary="某报告期本人可见的填报事项（每个部门在每项任务上的一项）",
    description=contract.PAGED,
    query=contract.ObligationsQuery,
    success=Success(200, "事项列表", contract.ObligationList),
    errors=(403,),
)
def obligations() -> ResponseReturnValue:
    """A period's obligations that the caller may see, optionally of one department; paged
    by keyset (the cursor is the last obligation read, checked against the same scope)."""
    args = _args(contract.ObligationsQuery)
    period = validation.tracked_period(args.period)
    department_ids = _scoped_departments(auth.api_user(), args.department)
    rows = report_queries.obligations_after(
        period, department_ids=department_ids, after=_cursor(args.cursor), limit=args.limit
    )
    if rows is None:
        raise _stale_cursor()
    rows, following = _next(rows, args.limit, lambda o: o.id)
    items = [serializers.obligation(o) for o in rows]
    return _json(contract.ObligationList(period=period.key, items=items, next=following))


def _readable(obligation: Obligation) -> None:
    """Its own department, leaders and coordinators, and the item's lead department."""
    lead_ids = obligation.task.lead_department_ids
    require_view_obligation(auth.api_user(), obligation.department_id, lead_ids)


def _load_report(report_id: int) -> Report:
    # Ids beyond the column's range name nothing (and must not reach the database driver).
    report = queries.report_with_context(report_id) if report_id <= MAX_ID else None
    if report is None:
        raise ApiError(404, "没有这份报告。")
    obligation = report.obligation
    submitted = report_queries.submitted_report(obligation) is not None
    lead_ids = obligation.task.lead_department_ids
    # A lead reads a supporting department's report only once submitted (never a draft or a
    # returned report); every report endpoint starts here, so none of them lets one through.
    require_read_report(auth.api_user(), obligation.department_id, lead_ids, submitted=submitted)
    return report


def _guard_version(report: Report, version: int | None) -> None:
    if version is not None and version != report.version:
        raise ApiError(
            409,
            f"该报告已变更（当前为第 {report.version} 版，请求基于第 {version} 版），请重新读取。",
            code="stale_version",
        )


def _report_response(report: Report, status: int = 200) -> tuple[Response, int]:
    db.session.flush()
    return _json(serializers.report(report), status)


@operations.post(
    "/reports",
    operation_id="createReport",
    summary="为一个事项填报报告（草稿）；仅本部门联络员",
    body=contract.ReportCreate,
    success=Success(201, "新建的报告（draft）", contract.Report),
    errors=(403, 409, 415),
)
def create_report() -> ResponseReturnValue:
    """File the report of an obligation, as a draft."""
    changes = validation.body(contract.ReportCreate)
    obligation_id = changes.obligation_id
    obligation = report_queries.obligation_with_context(obligation_id)
    if obligation is None:
        raise InvalidInput({"obligation_id": f"没有编号为 {obligation_id} 的事项"})
    _readable(obligation)
    require_edit_department_reports(auth.api_user(), obligation.department_id)
    validation.plan_fields(changes, obligation)
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


@operations.get(
    "/reports/<int:report_id>",
    operation_id="getReport",
    summary="读取一份报告",
    path=contract.ReportPath,
    success=REPORT,
    errors=(403, 404),
)
def report(report_id: int) -> ResponseReturnValue:
    """One report."""
    return _report_response(_load_report(report_id))


@operations.patch(
    "/reports/<int:report_id>",
    operation_id="updateReport",
    summary="修改草稿或被退回的报告；须带读取时的 version，过期则 409",
    path=contract.ReportPath,
    body=contract.ReportUpdate,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def update_report(report_id: int) -> ResponseReturnValue:
    """Change a draft or returned report; ``version`` must be the one the client read."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    changes = validation.body(contract.ReportUpdate)
    validation.plan_fields(changes, report.obligation)
    report_services.save_draft(
        report.obligation,
        changes.onto(report),
        actor=auth.api_user(),
        expected_version=changes.version,
    )
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/submit",
    operation_id="submitReport",
    summary="报送（或重新报送）；牵头部门须待配合部门报送或被豁免",
    path=contract.ReportPath,
    body=contract.SubmitRequest,
    body_required=False,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def submit_report(report_id: int) -> ResponseReturnValue:
    """Submit (or resubmit) a report."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, validation.body(contract.SubmitRequest, optional=True).version)
    report_services.submit_report(report, actor=auth.api_user())
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/request-approval",
    operation_id="requestApproval",
    summary="送审：送本部门审核人签发（须审核签发的部门）；仅本部门联络员",
    description=(
        "须审核签发的部门（signoff.required）不能直接 submit（409 conflict），而是送审；"
        "送审后报告锁定，直到审核人签发（即报送）或退回，或联络员撤回送审。"
    ),
    path=contract.ReportPath,
    body=contract.SubmitRequest,
    body_required=False,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def request_approval(report_id: int) -> ResponseReturnValue:
    """Send a ready draft to the department's approvers."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, validation.body(contract.SubmitRequest, optional=True).version)
    signoff.request_approval(report, actor=auth.api_user())
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/cancel-approval",
    operation_id="cancelApproval",
    summary="撤回送审，回到草稿；仅本部门联络员",
    path=contract.ReportPath,
    body=contract.WithdrawRequest,
    body_required=False,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def cancel_approval(report_id: int) -> ResponseReturnValue:
    """Take a draft back from the approvers."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, validation.body(contract.WithdrawRequest, optional=True).version)
    signoff.cancel_request(report, actor=auth.api_user())
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/approve",
    operation_id="approveReport",
    summary="审核签发：签发即报送督办协调员；仅本部门审核人",
    description="按签发时间判定是否按时报送；审核人姓名和签发时间见 signoff。",
    path=contract.ReportPath,
    body=contract.SubmitRequest,
    body_required=False,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def approve_report(report_id: int) -> ResponseReturnValue:
    """Sign a draft off, which submits it."""
    report = _load_report(report_id)
    require_approve_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, validation.body(contract.SubmitRequest, optional=True).version)
    signoff.approve(report, actor=auth.api_user())
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/return-to-liaison",
    operation_id="returnToLiaison",
    summary="退回联络员修改（须填理由），不报送；仅本部门审核人",
    path=contract.ReportPath,
    body=contract.SignoffReturnRequest,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def return_to_liaison(report_id: int) -> ResponseReturnValue:
    """Return a draft waiting for sign-off to the liaison with a reason."""
    report = _load_report(report_id)
    require_approve_reports(auth.api_user(), report.obligation.department_id)
    review = validation.body(contract.SignoffReturnRequest)
    _guard_version(report, review.version)
    signoff.return_to_liaison(report, actor=auth.api_user(), reason=review.reason)
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/accept",
    operation_id="acceptReport",
    summary="审核通过并核定状态；仅督办协调员",
    description=(
        "confirmed_status 为核定状态；省略时核定为部门自评的 status（与页面上核定状态的"
        "默认值一致），不会记录无人选择的状态。"
    ),
    path=contract.ReportPath,
    body=contract.AcceptRequest,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def accept_report(report_id: int) -> ResponseReturnValue:
    """Accept a submitted report, confirming its status."""
    report = _load_report(report_id)
    require_review_reports(auth.api_user())
    review = validation.body(contract.AcceptRequest)
    _guard_version(report, review.version)
    report_services.accept_report(
        report,
        actor=auth.api_user(),
        confirmed_status=review.confirmed_status,
        comment=review.comment,
    )
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/return",
    operation_id="returnReport",
    summary="退回修改（须填理由）；仅督办协调员",
    path=contract.ReportPath,
    body=contract.ReturnRequest,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def return_report(report_id: int) -> ResponseReturnValue:
    """Return a submitted report with a reason."""
    report = _load_report(report_id)
    require_review_reports(auth.api_user())
    review = validation.body(contract.ReturnRequest)
    _guard_version(report, review.version)
    report_services.return_report(
        report,
        actor=auth.api_user(),
        reason=review.reason,
        confirmed_status=review.confirmed_status,
    )
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/reopen",
    operation_id="reopenReport",
    summary="重新打开已审核通过的报告（须填理由），回到待审核；仅督办协调员",
    description="重新打开后可再次审核通过（更正核定状态）或退回；理由记入操作日志 report.reopen。",
    path=contract.ReportPath,
    body=contract.ReopenRequest,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def reopen_report(report_id: int) -> ResponseReturnValue:
    """Reopen an accepted report with a reason; it is submitted again."""
    report = _load_report(report_id)
    require_review_reports(auth.api_user())
    review = validation.body(contract.ReopenRequest)
    _guard_version(report, review.version)
    report_services.reopen_report(report, actor=auth.api_user(), reason=review.reason)
    return _report_response(report)


@operations.post(
    "/reports/<int:report_id>/withdraw",
    operation_id="withdrawReport",
    summary="撤回督办协调员尚未处理的报送，回到草稿；仅本部门联络员",
    description="报送后督办协调员尚未审核通过、退回或重新打开时可撤回；否则 409 invalid_state。",
    path=contract.ReportPath,
    body=contract.WithdrawRequest,
    body_required=False,
    success=REPORT,
    errors=REPORT_ERRORS,
)
def withdraw_report(report_id: int) -> ResponseReturnValue:
    """Take back a submission no coordinator has acted on; it becomes a draft."""
    report = _load_report(report_id)
    require_edit_department_reports(auth.api_user(), report.obligation.department_id)
    _guard_version(report, validation.body(contract.WithdrawRequest, optional=True).version)
    report_services.withdraw_report(report, actor=auth.api_user())
    return _report_response(report)


# -- delivery plans --------------------------------------------------------------------------

PLAN = Success(200, "落实计划的一个版本", contract.Plan)
PLAN_ERRORS = (403, 404, 409, 415)


def _load_item(task_id: int) -> Task:
    """The item (404), if the caller may read its delivery (403)."""
    task = delivery_queries.task_with_plans(task_id) if task_id <= MAX_ID else None
    if task is None:
        raise ApiError(404, "没有这项任务。")
    require_read_delivery(auth.api_user(), delivery_queries.item_department_ids(task))
    return task


def _load_plan(plan_id: int) -> DeliveryPlan:
    plan = delivery_queries.plan(plan_id) if plan_id <= MAX_ID else None
    if plan is None:
        raise ApiError(404, "没有这个计划版本。")
    return plan


def _plan_departments(task: Task, plans: list[DeliveryPlan]) -> dict[int, Department]:
    """The departments that the plans name (the item's, and any an indicator reports from)."""
    ids = delivery_queries.item_department_ids(task)
    ids |= {d for p in plans for i in p.indicators for d in i.department_ids}
    ids |= {m.department_id for p in plans for m in p.milestones}
    return delivery_queries.departments_by_id(ids)


def _plan_response(plan: DeliveryPlan) -> tuple[Response, int]:
    db.session.flush()
    return _json(serializers.plan(plan, _plan_departments(plan.task, [plan])))


def _guard_revision(plan: DeliveryPlan, revision: int | None) -> None:
    if revision is not None and revision != plan.revision:
        raise ApiError(
            409,
            f"该计划已变更（当前修订号 {plan.revision}，请求基于 {revision}），请重新读取。",
            code="stale_version",
        )


@operations.get(
    "/tasks/<int:task_id>/plans",
    operation_id="taskPlans",
    summary="一项任务的落实计划：各部门的各个版本（含节点和量化指标）",
    description=(
        "计划所属部门、督办协调员和系统管理员看到全部版本（含待审核、已退回）；"
        "领导和本项的其他部门只看到已批准（含已被替代）的版本；不在本项的部门无权查看（403）。"
    ),
    path=contract.TaskPath,
    success=Success(200, "计划版本列表", contract.PlanList),
    errors=(403, 404),
)
def task_plans(task_id: int) -> ResponseReturnValue:
    """The versions of an item's plans the caller may read (:func:`can_read_plan`)."""
    task, user = _load_item(task_id), auth.api_user()
    departments = delivery_queries.item_department_ids(task)
    versions = [
        p
        for p in delivery_queries.versions(task.id)
        if can_read_plan(user, p.department_id, departments, approved=not p.pending)
    ]
    named = _plan_departments(task, versions)
    return _json(contract.PlanList(items=[serializers.plan(p, named) for p in versions]))


@operations.post(
    "/tasks/<int:task_id>/plans",
    operation_id="proposePlan",
    summary="提出本部门的落实计划（首版、退回后重新提交，或已批准后变更并说明理由）；"
    "仅牵头部门（共同负责事项：各共同负责部门）的联络员",
    description=(
        "与网页表单同样校验：节点的完成季度须在文件起始季度起 10 年内，数值不小于 0，"
        "目标在方向上优于基线、日期晚于基线，不得含身份证号或手机号。"
        "待审核或已退回的版本被原地替换（版本号不变）；已有现行版本时新建下一版本，"
        "原版本在新版本批准前继续有效。"
    ),
    path=contract.TaskPath,
    body=contract.PlanProposal,
    success=PLAN,
    errors=(403, 404, 415),
)
def propose_plan(task_id: int) -> ResponseReturnValue:
    """Propose, resubmit or change the caller's department's plan for the item."""
    task, user = _load_item(task_id), auth.api_user()
    department_id = user.department_id
    if department_id not in delivery_queries.plan_department_ids(task):
        raise ApiError(403, "本部门不是本项的牵头或共同负责部门，不能提出落实计划。")
    require_propose_plan(user, department_id)
    proposal = validation.body(contract.PlanProposal)
    department = delivery_queries.departments_by_id({department_id})[department_id]
    plan = delivery_services.propose_plan(task, department, proposal.to_input(), actor=user)
    return _plan_response(plan)


@operations.post(
    "/plans/<int:plan_id>/approve",
    operation_id="approvePlan",
    summary="批准待审核的计划版本（原现行版本被替代）；仅督办协调员",
    path=contract.PlanPath,
    body=contract.PlanDecision,
    body_required=False,
    success=PLAN,
    errors=PLAN_ERRORS,
)
def approve_plan(plan_id: int) -> ResponseReturnValue:
    """Approve a proposed version."""
    plan = _load_plan(plan_id)
    require_decide_plans(auth.api_user())
    _guard_revision(plan, validation.body(contract.PlanDecision, optional=True).revision)
    delivery_services.approve_plan(plan, actor=auth.api_user())
    return _plan_response(plan)


@operations.post(
    "/plans/<int:plan_id>/return",
    operation_id="returnPlan",
    summary="退回待审核的计划版本（须填理由）；仅督办协调员",
    path=contract.PlanPath,
    body=contract.PlanReturn,
    success=PLAN,
    errors=PLAN_ERRORS,
)
def return_plan(plan_id: int) -> ResponseReturnValue:
    """Return a proposed version with a reason."""
    plan = _load_plan(plan_id)
    require_decide_plans(auth.api_user())
    decision = validation.body(contract.PlanReturn)
    _guard_revision(plan, decision.revision)
    delivery_services.return_plan(plan, actor=auth.api_user(), reason=decision.reason)
    return _plan_response(plan)


@operations.get(
    "/tasks/<int:task_id>/delivery",
    operation_id="taskDelivery",
    summary="一项任务某季度的落实情况：系统建议与督办协调员判断的落实灯、各指标按季度合并的数值、逾期节点",
    description=(
        "按现行（已批准）计划计算。指标数值只计已报送或已审核通过的报告，按指标的汇总方式合并；"
        "quarters 为截至该季度的最近四个跟踪季度（新的在前）。"
        "light 是系统建议；shown 是页面显示的落实情况（有督办协调员的判断按判断，否则按建议），"
        "judgement 是该季度的判断，change 是与上一季度相比的好转、持平、退步。"
    ),
    path=contract.TaskPath,
    query=contract.DeliveryQuery,
    success=Success(200, "落实情况", contract.TaskDelivery),
    errors=(403, 404),
)
def task_delivery(task_id: int) -> ResponseReturnValue:
    """The suggested delivery light, the combined indicator values and the overdue milestones."""
    task, args = _load_item(task_id), _args(contract.DeliveryQuery)
    return _delivery(task, validation.tracked_period(args.period))


def _delivery(task: Task, period: Period) -> tuple[Response, int]:
    """An item's delivery in a quarter: the suggested light, the light shown with the
    judgement and the change, as the item page reads them (a frozen quarter's snapshot)."""
    tracked = report_queries.tracked_periods()
    quarters = sorted((p for p in tracked if p <= period), reverse=True)[:4]
    results = report_queries.indicator_results(task.id, quarters)
    departments = delivery_queries.departments_by_id(
        delivery_queries.item_department_ids(task)
        | {d for i, _ in results for d in i.department_ids}
    )
    item = item_deliveries([task.id], [period], dashboard_queries.snapshots())
    return _json(
        serializers.task_delivery(
            task.id, period, suggested_light(task.id, period, tracked), results, quarters,
            report_queries.overdue_milestones(task_id=task.id), departments,
            item[(task.id, period.key)], delivery_queries.judgement(task.id, period),
        )
    )  # fmt: skip


@operations.post(
    "/tasks/<int:task_id>/judgement",
    operation_id="judgeDelivery",
    summary="判断一项任务某季度的落实情况（五级）；仅督办协调员",
    description=(
        "与网页同样校验：与系统建议不同时须填理由，理由不得含身份证号或手机号；"
        "已封存的季度不能再判断（409）；revision 与该季度已有判断的修订号不符时 409"
        "（省略时不检查）。再次判断即改判。"
    ),
    path=contract.TaskPath,
    body=contract.JudgementRequest,
    success=Success(200, "判断后的落实情况", contract.TaskDelivery),
    errors=(403, 404, 409, 415),
)
def judge_delivery(task_id: int) -> ResponseReturnValue:
    """A coordinator judges the item's delivery in a quarter (:func:`judge_delivery`)."""
    task, user = _load_item(task_id), auth.api_user()
    require_judge_delivery(user)
    body = validation.body(contract.JudgementRequest)
    period = validation.tracked_period(body.period)
    revision = body.revision
    if revision is None:
        current = delivery_queries.judgement(task.id, period)
        revision = current.revision if current is not None else None
    dashboard_services.judge_delivery(
        task, period, body.step, reason=body.reason, actor=user, expected_revision=revision
    )
    return _delivery(task, period)


@operations.get(
    "/tasks/<int:task_id>/indicators/<key>/trajectory",
    operation_id="indicatorTrajectory",
    summary="一项指标的轨迹：基线、各跟踪季度的合并值与各报送部门的值、计划直线值、目标",
    description="与指标轨迹页面的数字相同；可读该指标所在计划版本的用户可读（同页面）。",
    path=contract.IndicatorPath,
    success=Success(200, "指标轨迹", contract.Trajectory),
    errors=(403, 404),
)
def indicator_trajectory(task_id: int, key: str) -> ResponseReturnValue:
    """The figures of the trajectory page, under the page's access rule (:func:`can_read_plan`)."""
    task = catalogue_queries.task_with_assignments(task_id) if task_id <= MAX_ID else None
    if task is None:
        raise ApiError(404, "没有这项任务。")
    found = delivery_queries.indicator_by_key(task.id, key)
    if found is None:
        raise ApiError(404, "本项没有这个指标。")
    departments = {a.department_id for a in task.assignments}
    require_read_plan(
        auth.api_user(), found.plan.department_id, departments, approved=not found.plan.pending
    )
    named = {a.department_id: a.department for a in task.assignments}
    t = trajectory.of_item(task.id, found, named)
    return _json(serializers.trajectory(task.id, t, named))


@operations.get(
    "/dashboard",
    operation_id="dashboard",
    summary="看板数据：总体指标、各部门考核、每个事项的红黄绿灯（与看板页面一致）",
    description="联络员和部门查阅者只看到本部门；已结束的季度按其快照。",
    query=contract.ScopeQuery,
    success=Success(200, "看板", contract.Dashboard),
    errors=(403,),
)
def dashboard() -> ResponseReturnValue:
    """The dashboard page's figures: headline, per-department scorecard, per-cell states."""
    user, args = auth.api_user(), _args(contract.ScopeQuery)
    period = validation.tracked_period(args.period)
    document = validation.document(args.document)
    department_ids = _scoped_departments(user, args.department)
    data = dashboard_queries.dashboard_data(
        period, document.id if document else None, department_ids
    )
    return _json(serializers.dashboard(data))


@operations.get(
    "/notifications",
    operation_id="notifications",
    summary="本人的通知（催报提醒、催办、延期等），新的在前；读取不会标为已读",
    description=contract.PAGED,
    query=contract.NotificationsQuery,
    success=Success(200, "通知列表", contract.NotificationList),
)
def notifications() -> ResponseReturnValue:
    """The caller's own notifications, newest first (``?unread=1``: only unread ones)."""
    user, args = auth.api_user(), _args(contract.NotificationsQuery)
    rows = queries.notifications_of(
        user, unread_only=args.unread == "1", limit=args.limit, after=_cursor(args.cursor)
    )
    if rows is None:
        raise _stale_cursor()
    rows, following = _next(rows, args.limit, lambda n: n.id)
    items = [serializers.notification(n) for n in rows]
    return _json(contract.NotificationList(items=items, next=following))


XLSX_FILE = {schemas.XLSX: {"schema": {"type": "string", "contentMediaType": schemas.XLSX}}}
QUEUED = Success(
    202, "报表较大，已转入后台生成", contract.ExportJob,
    headers={"Location": "后台导出任务的地址（GET 查询进度）"},
)  # fmt: skip
JOB = Success(200, "后台导出任务：状态与进度；完成后 download 给出下载地址", contract.ExportJob)


@operations.get(
    "/exports/quarterly.xlsx",
    operation_id="exportQuarterly",
    summary="季度 Excel 报表（只含本人可见的部门，与网页下载一致）",
    description=(
        "不超过后台导出阈值（TRACKER_EXPORT_BACKGROUND_OBLIGATIONS 个填报事项）时直接返回工作簿；"
        "超过时返回 202 与后台导出任务，Location 为任务地址：轮询至 state 为 done，"
        "再从 download 下载。同一请求在生成期间再次提交，返回同一任务。"
    ),
    query=contract.ScopeQuery,
    success=Success(200, "xlsx 工作簿", content=XLSX_FILE),
    also=(QUEUED,),
    errors=(403,),
)
def export_quarterly() -> ResponseReturnValue:
    """The quarterly workbook, holding the departments the caller may see (as on the web);
    one too large for the request is queued for the scheduler process (202 and its job)."""
    user, args = auth.api_user(), _args(contract.ScopeQuery)
    period = validation.tracked_period(args.period)
    document = validation.document(args.document)
    department_ids = _scoped_departments(user, args.department)
    label = None
    if department_ids is not None:
        label = "、".join(d.name for d in catalogue_queries.departments() if d.id in department_ids)
    export = QuarterlyRequest(
        period,
        document.id if document else None,
        frozenset(department_ids) if department_ids is not None else None,
        label,
        prepared_by_id=user.id,
    )
    name = f"{period.key}季度报表{'-' + label if label else ''}.xlsx"
    later, total = background.goes_to_background(export)
    if later:
        job = background.queue_quarterly(
            export, user=user, download_name=name, description=name.removesuffix(".xlsx"),
            total=total,
        )  # fmt: skip
        response, status = _json(serializers.export_job(job, None), 202)
        response.headers["Location"] = url_for("api.export_job", job_id=job.id)
        return response, status
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - sent
    write_quarterly(spool, export)
    spool.seek(0)
    record_event("export.download", actor=user, object_type="export", after={"filename": name})
    return send_file(
        spool, mimetype=schemas.XLSX, as_attachment=True, download_name=name, max_age=0
    )


def _own_export_job(job_id: int) -> ExportJob:
    """The caller's own background export: another user's is 403, a missing one 404."""
    job = background.job_of(job_id)
    if job is None:
        raise ApiError(404)
    if job.user_id != auth.api_user().id:
        raise ApiError(403, "无权访问：后台导出任务只有提交它的用户可以查看和下载。")
    return job


@operations.get(
    "/exports/jobs/<int:job_id>",
    operation_id="getExportJob",
    summary="后台导出任务的状态与进度（仅提交者本人）",
    path=contract.ExportJobPath,
    success=JOB,
    errors=(403, 404),
)
def export_job(job_id: int) -> ResponseReturnValue:
    """A queued export's state and progress, and its download address once written."""
    job = _own_export_job(job_id)
    download = None
    if background.file_of(job) is not None:
        download = url_for("api.export_job_download", job_id=job.id)
    return _json(serializers.export_job(job, download))


@operations.get(
    "/exports/jobs/<int:job_id>/download",
    operation_id="downloadExportJob",
    summary="下载后台生成完成的工作簿（仅提交者本人）",
    description="尚未生成完成时为 409（invalid_state）；生成失败或文件已过保留时限删除时为 404。",
    path=contract.ExportJobPath,
    success=Success(200, "xlsx 工作簿", content=XLSX_FILE),
    errors=(403, 404, 409),
)
def export_job_download(job_id: int) -> ResponseReturnValue:
    """The written workbook of one of the caller's background exports."""
    job = _own_export_job(job_id)
    if not job.state.finished:
        raise ApiError(409, "报表仍在生成中，请稍后查询任务状态再下载。", code="invalid_state")
    path = background.file_of(job)
    if path is None:
        raise ApiError(404, "该导出的文件不存在：生成失败，或已过保留时限被删除。")
    record_event("export.download", job, actor=auth.api_user(), object_type="export_job",
                 after={"filename": job.download_name})  # fmt: skip
    return send_file(
        path, mimetype=schemas.XLSX, as_attachment=True, download_name=job.download_name,
        max_age=0,
    )  # fmt: skip
