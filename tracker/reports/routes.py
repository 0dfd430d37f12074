"""Reporting pages: my obligations, the review queue, one obligation, an item for a period."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urlencode

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from tracker.audit.services import record_event
from tracker.auth.permissions import (
    can_approve_reports,
    can_edit_department_reports,
    can_read_progress,
    can_read_report,
    can_read_report_history,
    can_review_reports,
    can_view_department,
    require_approve_reports,
    require_edit_department_reports,
    require_review_reports,
    require_view_obligation,
    sees_all_departments,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, Role
from tracker.catalogue.services import signoff_required
from tracker.db import paginate_keyed
from tracker.errors import DomainError, Stale
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.guards import checks_own_text
from tracker.navigation import add_nav
from tracker.periods import Period, period_label
from tracker.reports import (
    bp,
    evidence,
    handover,  # noqa: F401 - registers the liaison handover hooks
    hints,
    queries,
    services,
    signoff,
    vault,
    workspace,
)
from tracker.reports.forms import (
    AcceptForm,
    EvidenceForm,
    ReopenForm,
    ReportForm,
    ReturnForm,
    ReviewFilterForm,
    SignoffReturnForm,
    WaiveForm,
    report_form_for,
)
from tracker.reports.models import Evidence, Obligation, ProgressStatus, Report, ReportState
from tracker.reports.queries import ReviewFilter
from tracker.reports.sections import obligation_sections
from tracker.web import (
    confirmation_page,
    confirmed,
    field_error,
    flash_form_errors,
    on_error_redirect,
    on_error_render,
)

add_nav(
    "reports.mine",
    "季度填报",
    lambda user: can_read_progress(user) and not can_review_reports(user),
    position=0,
)
add_nav("reports.review", "审核", can_review_reports, position=0)


@bp.app_context_processor
def _report_hints() -> dict[str, Callable[[], hints.ReportHints]]:
    """The hints beside the report form's controls, with the limits in force."""
    return {"report_hints": hints.report_hints}


F = TypeVar("F", bound=FlaskForm)


def _tracked(key: str) -> Period:
    """A tracked period from its key; malformed or untracked keys are 404."""
    return queries.tracked_period(key) or abort(404)


def _period_arg() -> Period | None:
    """The ``?period=2026Q3`` argument, or None without one."""
    key = request.args.get("period", "").strip()
    return _tracked(key) if key else None


def _load_obligation(obligation_id: int) -> Obligation:
    obligation = queries.obligation_with_context(obligation_id) or abort(404)
    lead_ids = obligation.task.lead_department_ids
    require_view_obligation(current_user, obligation.department_id, lead_ids)
    return obligation


def _reads_as_lead(obligation: Obligation) -> bool:
    """Is the current user reading another department's obligation as the item's lead?"""
    return not can_read_report_history(current_user, obligation.department_id)


def _readable_report(obligation: Obligation) -> Report | None:
    """The report as the current user may read it (:func:`can_read_report`): a lead reads a
    supporting department's report only once submitted, never its drafts, its returned text
    or its history."""
    report = obligation.report
    if report is None:
        return None
    submitted = queries.submitted_report(obligation) is not None
    lead_ids = obligation.task.lead_department_ids
    if not can_read_report(current_user, obligation.department_id, lead_ids, submitted=submitted):
        return None
    return report


def _back(obligation: Obligation) -> str:
    return url_for("reports.obligation", obligation_id=obligation.id)


@bp.route("/reports")
def mine() -> ResponseReturnValue:
    """A liaison's home: this period's obligations, drafts, returned reports."""
    if not can_read_progress(current_user):
        return redirect(url_for("catalogue.home"))  # 三员分立: their own landing page
    period = _period_arg() or queries.current_period()
    department_ids = visible_department_ids(current_user)
    # One period, one page: the page costs the same with one quarter of history or twenty,
    # one document or a thousand (a bad page number falls back to the first page).
    page = paginate_keyed(
        queries.obligations_query(period, department_ids=department_ids),
        queries.obligations_keys(period, department_ids=department_ids),
        queries.obligations_total(period, department_ids=department_ids),
        key=Obligation.id, page=request.args.get("page", 1, type=int), per_page=MINE_PER_PAGE,
    )  # fmt: skip
    return render_template(
        "reports/mine.html", period=period, periods=queries.tracked_periods(),
        obligations=page.items, page=page, opened=bool(page.total) or queries.period_opened(period),
        returned=queries.returned_obligations(
            period, department_ids=department_ids, limit=MINE_PER_PAGE
        ),
        timeliness=queries.timeliness, ReportState=ReportState,
        show_department=department_ids is None or len(department_ids) != 1,
    )  # fmt: skip


MINE_PER_PAGE = 50
REVIEW_PER_PAGE = 50


def _review_filter(args: MultiDict[str, str]) -> tuple[ReviewFilterForm, list[Department]]:
    """The review queue's filter form read from ``args``, with its choices."""
    departments = catalogue_queries.departments()
    form = ReviewFilterForm(formdata=args)
    form.fill_choices(queries.tracked_periods(), catalogue_queries.documents(), departments)
    return form, departments


def _queue_args() -> str:
    """The review queue's filter and page as a query string, carried to each report so that
    deciding one leads to the next of the same queue, and back to the page it was on."""
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if v])


def _review_args(given: MultiDict[str, str]) -> MultiDict[str, str]:
    """The queue's arguments; browsing decided reports (any state but 待审核) without choosing a
    period reads the current quarter, so that the page does not grow with history (全部报告期,
    ``period=`` empty, still reads them all). The waiting queue keeps every quarter: a report
    still waiting from an earlier one is work to do."""
    args = MultiDict(given)
    if "period" not in args and args.get("state", ReportState.SUBMITTED.value) != "submitted":
        args["period"] = queries.current_period().key
    return args


def _queue_url(queue: str) -> str:
    """The review queue a coordinator came from (``queue``: its filter and page), after a
    decision: the same filter, and the same page unless deciding emptied it, then the last."""
    args: MultiDict[str, str] = MultiDict(parse_qsl(queue))
    page = args.get("page", 1, type=int)
    if page > 1:
        form, departments = _review_filter(_review_args(args))
        if form.validate():
            total = queries.review_number(form.to_filter(departments))
            last = max(1, -(-total // REVIEW_PER_PAGE))
            if page > last:
                args["page"] = str(last)
    query = urlencode([(k, v) for k, v in args.items(multi=True) if k != "page" or v != "1"])
    return url_for("reports.review") + (f"?{query}" if query else "")


@bp.route("/reports/review")
def review() -> ResponseReturnValue:
    """The coordinators' queue: submitted reports (or any state) narrowed by document,
    department, role, item, period and due date, by due date first; paged."""
    require_review_reports(current_user)
    form, departments = _review_filter(_review_args(request.args))
    if not form.validate():
        flash(
            "筛选条件有误：" + "；".join(e for errors in form.errors.values() for e in errors),
            "error",
        )
        chosen = ReviewFilter()
    else:
        chosen = form.to_filter(departments)
    page = paginate_keyed(
        queries.review_query(chosen),
        queries.review_keys(chosen),
        queries.review_total(chosen),
        key=Obligation.id,
        page=request.args.get("page", 1, type=int),
        per_page=REVIEW_PER_PAGE,
    )
    return render_template(
        "reports/review.html", form=form, page=page, queue=_queue_args(),
        args={k: v for k, v in request.args.items() if k != "page" and v},
        waiting=chosen.state == ReportState.SUBMITTED, timeliness=queries.timeliness,
        button=EmptyForm(),
    )  # fmt: skip


@bp.route("/reports/review/accept", methods=["POST"])
def accept_selected() -> ResponseReturnValue:
    """Bulk accept: the selected reports, each confirming its self-rating. The first POST
    shows what will be accepted (nothing is written); the confirmed one accepts them all."""
    require_review_reports(current_user)
    queue = request.form.get("queue", "")
    back = _queue_url(queue)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.isdigit()})
    selected = queries.obligations_by_id(ids)
    reports = [o.report for o in selected if o.report is not None]
    if not reports:
        flash("请先勾选要审核通过的报告。", "error")
        return redirect(back)

    def confirmation(error: DomainError | None = None) -> ResponseReturnValue:
        if error is not None:
            flash(error.message, "error")
        page = render_template(
            "reports/accept_selected.html", obligations=selected, queue=queue, back=back,
            button=EmptyForm(),
        )  # fmt: skip
        return (page, 422) if error is not None else page

    if request.form.get("confirm") != "1":
        return confirmation()
    on_error_render(confirmation)
    services.accept_reports(reports, actor=current_user)
    flash(f"已审核通过 {len(reports)} 份报告，均确认部门自评状态。", "success")
    return redirect(_queue_url(queue))


def _after_review(item: Obligation) -> str:
    """Where a coordinator goes after accepting or returning: the next report waiting in the
    filtered queue they came from (``queue``), else the report itself."""
    queue = request.form.get("queue", "")
    if not queue:
        return _back(item)
    form, departments = _review_filter(MultiDict(parse_qsl(queue)))
    if not form.validate():
        return url_for("reports.review")
    upcoming = queries.next_to_review(form.to_filter(departments), after=item.id)
    if upcoming is None:
        flash("筛选范围内已没有待审核的报告。", "info")
        return _queue_url(queue)
    flash(
        f"下一份待审核：第{upcoming.task.number}项 · {upcoming.department.short_name} · "
        f"{period_label(upcoming.period)}",
        "info",
    )
    return url_for("reports.obligation", obligation_id=upcoming.id, queue=queue) + "#review"


@bp.route("/obligations/<int:obligation_id>")
def obligation(obligation_id: int) -> ResponseReturnValue:
    return _obligation_page(_load_obligation(obligation_id))


# The obligation page's forms, by the name its template knows each by.
_PAGE_FORMS: dict[type[FlaskForm], str] = {
    AcceptForm: "accept_form",
    ReturnForm: "return_form",
    ReopenForm: "reopen_form",
    WaiveForm: "waive_form",
    EvidenceForm: "evidence_form",
    SignoffReturnForm: "signoff_return_form",
}


def _obligation_page(item: Obligation, refused: FlaskForm | None = None) -> str:
    """The obligation page; a refused form is passed in to show its input and errors.

    Every other form starts afresh (``formdata=None``: the request's form data belongs to
    the refused one, not to the forms beside it).
    """
    report = _readable_report(item)
    versions = queries.report_versions(report.id) if report and not _reads_as_lead(item) else []
    supporting = queries.supporting_inputs(item)
    may_edit = can_edit_department_reports(current_user, item.department_id)
    forms: dict[str, FlaskForm] = {
        "accept_form": AcceptForm.for_report(report), "return_form": ReturnForm(formdata=None),
        "reopen_form": ReopenForm(formdata=None), "waive_form": WaiveForm(formdata=None),
        "evidence_form": EvidenceForm(formdata=None),
        "signoff_return_form": SignoffReturnForm(formdata=None),
    }  # fmt: skip
    if refused is not None:
        forms[_PAGE_FORMS[type(refused)]] = refused
    return render_template(
        "reports/obligation.html", obligation=item, report=report, versions=versions,
        history=queries.version_history(versions),
        supporting=supporting, timing=queries.timeliness(item),
        lead=queries.lead_obligation(item) if item.role == Role.SUPPORT else None,
        may_edit=may_edit, may_review=can_review_reports(current_user),
        signoff_required=signoff_required(item.department),
        may_approve=can_approve_reports(current_user, item.department_id),
        may_withdraw=may_edit and report is not None and services.may_withdraw(report),
        **forms, button=EmptyForm(), ReportState=ReportState, Role=Role,
        sections=obligation_sections(item),
    )  # fmt: skip


@bp.route("/obligations/<int:obligation_id>/edit", methods=["GET", "POST"])
@checks_own_text  # NUL in a text is refused beside its field, the text kept
def edit(obligation_id: int) -> ResponseReturnValue:
    item = _load_obligation(obligation_id)
    require_edit_department_reports(current_user, item.department_id)
    if request.method == "GET" and item.report is not None and item.report.awaiting_approval:
        flash(services.AWAITING_APPROVAL, "error")
        return redirect(_back(item))
    form = report_form_for(item)
    if request.method == "GET" and item.report is not None:
        form.fill_from(item.report)
    if request.method == "POST" and workspace.INSERT in request.form:
        return _insert(item, form)
    if request.method == "GET":
        return workspace.edit_page(item, form)
    if not form.validate_on_submit():
        return workspace.edit_page(item, form), 422
    on_error_render(lambda error: _edit_refused(item, form, error))
    report = services.save_draft(
        item, form.to_input(), actor=current_user, expected_version=form.expected_version,
        plan=(form.planned_indicators, form.planned_milestones),
    )  # fmt: skip
    if form.save_and_submit.data and signoff_required(item.department):
        signoff.request_approval(report, actor=current_user)
        flash(REQUESTED, "success")
    elif form.save_and_submit.data:
        services.submit_report(report, actor=current_user)
        flash("报告已报送，等待督办协调员审核。", "success")
    else:
        flash("草稿已保存。", "success")
    return redirect(_back(item))


def _insert(item: Obligation, form: ReportForm) -> ResponseReturnValue:
    """A lead inserts a supporting department's text: the form comes back with it, unsaved."""
    on_error_render(lambda error: _edit_refused(item, form, error))
    done = workspace.insert(item, form, request.form[workspace.INSERT])
    flash(done.message, done.category)
    return workspace.edit_page(item, form, focus=done.field)


def _edit_refused(item: Obligation, form: ReportForm, error: DomainError) -> ResponseReturnValue:
    """The edit page again, with what the user typed and why it was refused (409 if stale)."""
    flash(error.message, "error")
    return workspace.edit_page(item, form), 409 if isinstance(error, Stale) else 422


def _owner(item: Obligation) -> None:
    require_edit_department_reports(current_user, item.department_id)


def _reviewer(item: Obligation) -> None:
    require_review_reports(current_user)


def _transition(
    obligation_id: int,
    authorize: Callable[[Obligation], None],
    form_class: Callable[[], F],
    action: Callable[[Obligation, F], str],
) -> ResponseReturnValue:
    """Shared shape of the POST-only transitions: load → authorize → validate → act."""
    item = _load_obligation(obligation_id)
    authorize(item)
    form = form_class()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(_back(item))
    on_error_redirect(_back(item))
    flash(action(item, form), "success")
    return redirect(_back(item))


def _report_or_error(item: Obligation) -> Report:
    if item.report is None:
        raise services.ReportError("该事项尚未填报。")
    return item.report


@bp.route("/obligations/<int:obligation_id>/submit", methods=["POST"])
def submit(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: EmptyForm) -> str:
        services.submit_report(_report_or_error(item), actor=current_user)
        return "报告已报送，等待督办协调员审核。"

    return _transition(obligation_id, _owner, EmptyForm, act)


REQUESTED = "报告已送审，等待本部门审核人签发；签发后即报送督办协调员。"


@bp.route("/obligations/<int:obligation_id>/request-approval", methods=["POST"])
def request_approval(obligation_id: int) -> ResponseReturnValue:
    """送审: the liaison sends the draft to the department's approvers."""

    def act(item: Obligation, form: EmptyForm) -> str:
        signoff.request_approval(_report_or_error(item), actor=current_user)
        return REQUESTED

    return _transition(obligation_id, _owner, EmptyForm, act)


@bp.route("/obligations/<int:obligation_id>/cancel-approval", methods=["POST"])
def cancel_approval(obligation_id: int) -> ResponseReturnValue:
    """撤回送审: the liaison takes the draft back before the approver decided."""

    def act(item: Obligation, form: EmptyForm) -> str:
        signoff.cancel_request(_report_or_error(item), actor=current_user)
        return "已撤回送审，报告回到草稿，可修改后重新送审。"

    return _transition(obligation_id, _owner, EmptyForm, act)


def _approver(item: Obligation) -> None:
    require_approve_reports(current_user, item.department_id)


@bp.route("/obligations/<int:obligation_id>/approve", methods=["POST"])
def approve(obligation_id: int) -> ResponseReturnValue:
    """签发: the approver signs the report off, which submits it to the coordinators."""

    def act(item: Obligation, form: EmptyForm) -> str:
        signoff.approve(_report_or_error(item), actor=current_user)
        return "已审核签发，报告已报送督办协调员。"

    return _transition(obligation_id, _approver, EmptyForm, act)


@bp.route("/obligations/<int:obligation_id>/return-to-liaison", methods=["POST"])
def return_to_liaison(obligation_id: int) -> ResponseReturnValue:
    """The approver returns the draft to the liaison; a refusal keeps the typed reason."""

    def act(item: Obligation, form: SignoffReturnForm) -> str:
        assert form.reason.data is not None  # DataRequired
        signoff.return_to_liaison(
            _report_or_error(item), actor=current_user, reason=form.reason.data
        )
        return "已退回联络员修改，联络员将看到退回理由。"

    return _form_action(obligation_id, _approver, SignoffReturnForm, act)


@bp.route("/obligations/<int:obligation_id>/accept", methods=["POST"])
def accept(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: AcceptForm) -> str:
        services.accept_report(
            _report_or_error(item),
            actor=current_user,
            confirmed_status=ProgressStatus(form.confirmed_status.data),
            comment=form.comment.data or "",
        )
        return "已审核通过。"

    return _form_action(obligation_id, _reviewer, AcceptForm, act, after=_after_review)


@bp.route("/obligations/<int:obligation_id>/return", methods=["POST"])
def return_(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: ReturnForm) -> str:
        status = form.confirmed_status.data
        assert form.reason.data is not None  # DataRequired
        services.return_report(
            _report_or_error(item),
            actor=current_user,
            reason=form.reason.data,
            confirmed_status=ProgressStatus(status) if status else None,
        )
        return "已退回，联络员将看到退回理由。"

    return _form_action(obligation_id, _reviewer, ReturnForm, act, after=_after_review)


@bp.route("/obligations/<int:obligation_id>/reopen", methods=["POST"])
def reopen(obligation_id: int) -> ResponseReturnValue:
    """Reopen an accepted report; a refusal shows the page again with the typed reason."""

    def act(item: Obligation, form: ReopenForm) -> str:
        assert form.reason.data is not None  # DataRequired
        services.reopen_report(_report_or_error(item), actor=current_user, reason=form.reason.data)
        return "报告已重新打开，可重新核定状态后审核通过，或退回修改。"

    return _form_action(obligation_id, _reviewer, ReopenForm, act)


def _form_action(
    obligation_id: int,
    authorize: Callable[[Obligation], None],
    form_class: Callable[[], F],
    action: Callable[[Obligation, F], str],
    *,
    field: str | None = None,
    after: Callable[[Obligation], str] = _back,
    confirm: Callable[[Obligation, F], ResponseReturnValue] | None = None,
) -> ResponseReturnValue:
    """A form of the obligation page: load → authorize → validate → act; a refusal renders
    the page again (422) with the form as typed and the message beside its field (``field``
    for a service's message that names none). With ``confirm``, a destructive action's first
    POST answers its confirmation page and writes nothing; the one with ``confirm=1`` acts."""
    item = _load_obligation(obligation_id)
    authorize(item)
    form = form_class()
    if not form.validate_on_submit():
        return _form_refused(item, form, None)
    if confirm is not None and not confirmed():
        return confirm(item, form)
    on_error_render(lambda error: _form_refused(item, form, error, field=field))
    flash(action(item, form), "success")
    return redirect(after(item))


# What the page's summary says a refusal stopped, before the messages.
_REFUSED: dict[type[FlaskForm], str] = {
    AcceptForm: "未能审核通过",
    ReturnForm: "未能退回",
    ReopenForm: "未能重新打开",
    WaiveForm: "未能豁免",
    EvidenceForm: "未能上传附件",
    SignoffReturnForm: "未能退回联络员",
}


def _form_refused(
    item: Obligation, form: FlaskForm, error: DomainError | None, *, field: str | None = None
) -> ResponseReturnValue:
    """The obligation page with ``form`` as typed and the message beside its field."""
    if error is not None:
        field_error(
            form, error if error.field or not field else DomainError(error.message, field=field)
        )
    messages = (
        [error.message]
        if error is not None
        else [str(message) for errors in form.errors.values() for message in errors]
    )
    flash(f"{_REFUSED[type(form)]}：" + "；".join(messages), "error")
    return _obligation_page(item, refused=form), 422


@bp.route("/obligations/<int:obligation_id>/withdraw", methods=["POST"])
def withdraw(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: EmptyForm) -> str:
        services.withdraw_report(_report_or_error(item), actor=current_user)
        return "报告已撤回为草稿，修改后可重新报送。"

    return _transition(obligation_id, _owner, EmptyForm, act)


@bp.route("/obligations/<int:obligation_id>/waive", methods=["POST"])
def waive(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: WaiveForm) -> str:
        assert form.reason.data is not None  # DataRequired
        services.waive_obligation(item, actor=current_user, reason=form.reason.data)
        return "已豁免该部门本期材料。"

    def ask(item: Obligation, form: WaiveForm) -> ResponseReturnValue:
        period = period_label(item.period)
        return confirmation_page(
            title=f"确认豁免{item.department.name}的材料",
            lines=[
                f"豁免{item.department.name}第{item.task.number}项（配合）{period}的材料，"
                "该部门本期不再须报送，也不再收到催报提醒；",
                "牵头部门不再等待这份材料即可报送汇总报告；",
                f"豁免理由：{form.reason.data}；此操作记入审计日志，不能撤销。",
            ],
            action=url_for("reports.waive", obligation_id=item.id),
            button="确认豁免",
            cancel=_back(item),
            fields={"reason": form.reason.data or ""},
        )

    return _form_action(obligation_id, _reviewer, WaiveForm, act, confirm=ask)


@bp.route("/obligations/<int:obligation_id>/evidence", methods=["POST"])
def upload(obligation_id: int) -> ResponseReturnValue:
    def act(item: Obligation, form: EvidenceForm) -> str:
        upload = form.file.data
        added = services.add_evidence(
            _report_or_error(item), upload.filename, upload.read(), actor=current_user
        )
        # The stored name is the cleaned one (no path, no control or direction characters),
        # shortened: the raw name the browser sent is never echoed.
        return f"已上传附件：{evidence.display_name(added.filename)}"

    # A file input cannot be filled again: the page says so beside the field.
    return _form_action(obligation_id, _owner, EvidenceForm, act, field="file")


@bp.route("/obligations/<int:obligation_id>/versions/<int:number>")
def version(obligation_id: int, number: int) -> ResponseReturnValue:
    item = _load_obligation(obligation_id)
    if _reads_as_lead(item):
        abort(404)  # a supporting department's history holds its drafts
    versions = queries.report_versions(item.report.id) if item.report else []
    current = next((v for v in versions if v.number == number), None) or abort(404)
    previous = next((v for v in versions if v.number == number - 1), None)
    changes = queries.version_changes(previous.content if previous else None, current.content)
    return render_template(
        "reports/version.html",
        obligation=item,
        version=current,
        previous=previous,
        changes=changes,
        content=queries.version_content(current.content),
        state=queries.state_label(current.state),
        action=queries.action_label(current.action),
    )


def _load_evidence(evidence_id: int) -> Evidence:
    item = db.session.get(Evidence, evidence_id) or abort(404)
    if item.removed_at is not None:
        abort(404)  # a tombstone: kept for the audit trail, never served
    obligation = item.report.obligation
    lead_ids = obligation.task.lead_department_ids
    require_view_obligation(current_user, obligation.department_id, lead_ids)
    if _readable_report(obligation) is None:
        abort(404)  # a lead reads a supporting department's evidence only once submitted
    return item


@bp.route("/evidence/<int:evidence_id>")
def download(evidence_id: int) -> ResponseReturnValue:
    item = _load_evidence(evidence_id)
    path = evidence.path_of(item.stored_name)
    if not path.is_file():
        abort(404)
    chunks = evidence.content_of(item.stored_name)
    try:
        first = next(chunks, b"")  # a wrong key or a damaged header is refused before sending
    except vault.VaultError as error:  # the key is missing or wrong: the server's to fix
        current_app.logger.error("evidence %s cannot be read: %s", item.id, error)
        message = "证明材料暂时无法读取（加密密钥不可用或文件已损坏），请联系系统管理员。"
        return render_template("error.html", code=500, title="无法读取文件", message=message), 500
    record_event("evidence.download", item, actor=current_user, after={"filename": item.filename})
    response = Response(
        stream_with_context(itertools.chain([first], chunks)), mimetype=item.content_type
    )
    response.headers["Content-Length"] = str(item.size)
    response.headers["Content-Disposition"] = _attachment(item.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _attachment(filename: str) -> str:
    """``attachment`` with the name in ASCII for old clients and in UTF-8 (RFC 6266)."""
    fallback = filename.encode("ascii", "ignore").decode().replace('"', "") or "evidence"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@bp.route("/evidence/<int:evidence_id>/delete", methods=["POST"])
def delete_evidence(evidence_id: int) -> ResponseReturnValue:
    item = _load_evidence(evidence_id)
    obligation = item.report.obligation
    require_edit_department_reports(current_user, obligation.department_id)
    if EmptyForm().validate_on_submit():
        if not confirmed():
            return confirmation_page(
                title=f"确认删除附件“{item.filename}”",
                lines=[
                    f"从第{obligation.task.number}项{period_label(obligation.period)}"
                    f"的报告中删除佐证材料“{item.filename}”；",
                    "删除后本部门和审核人都不再看到它，如仍需要须重新上传；此操作记入审计日志。",
                ],
                action=url_for("reports.delete_evidence", evidence_id=item.id),
                button="确认删除",
                cancel=_back(obligation),
            )
        on_error_redirect(_back(obligation))
        services.remove_evidence(item, actor=current_user)
        flash("附件已删除。", "success")
    return redirect(_back(obligation))


@bp.route("/tasks/<int:task_id>/periods/<period>")
def item(task_id: int, period: str) -> ResponseReturnValue:
    """One item for one period: every responsible department's state."""
    task = catalogue_queries.task_with_assignments(task_id) or abort(404)
    chosen = _tracked(period)
    departments = {a.department_id for a in task.assignments}
    if not sees_all_departments(current_user) and current_user.department_id not in departments:
        abort(403)
    obligations = queries.item_obligations(task.id, chosen)
    lead_ids = task.lead_department_ids
    readable = {
        o.id for o in obligations
        if can_view_department(current_user, o.department_id)
        or (current_user.department_id in lead_ids)
    }  # fmt: skip
    return render_template(
        "reports/item.html", task=task, period=chosen, periods=queries.tracked_periods(),
        obligations=obligations, readable=readable, timeliness=queries.timeliness, Role=Role,
    )  # fmt: skip
