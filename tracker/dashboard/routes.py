"""Dashboard pages: the coordinator's matrix, a department's view, scorecard, trends, an item.

A quarter that has been frozen (by the scheduler's daily job or ``flask freeze-snapshots``) is
shown from its snapshot; pages only read, they never freeze. Users who see every department
(coordinators, leaders, admins) get the whole portfolio; liaisons and department viewers get
the same figures limited to their own department.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import Form

from tracker.auth.permissions import (
    can_judge_delivery,
    can_read_progress,
    can_urge,
    can_view_obligation,
    require_judge_delivery,
    require_read_plan,
    require_view_department,
    require_view_item,
    sees_all_departments,
    visible_department_ids,
)
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, Role
from tracker.dashboard import bp, queries, services, trajectory
from tracker.dashboard.delivery_light import DeliveryLight, delivery_light, latest_pace
from tracker.dashboard.forms import (
    SORT_LABELS,
    DashboardFilterForm,
    DeliveryJudgementForm,
    ScorecardForm,
    TrendForm,
)
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries import Cell
from tracker.dashboard.queries.delivery import ItemDelivery, delivery_records, item_deliveries
from tracker.dashboard.queries.items import ItemHistory
from tracker.dashboard.queries.scope import DepartmentRef
from tracker.dashboard.rag import Rag, legend
from tracker.dashboard.sections import scorecard_sections
from tracker.dashboard.trajectory import chart_data
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import DeliveryStep, Indicator
from tracker.errors import DomainError
from tracker.followups.forms import UrgeForm
from tracker.guards import checks_own_text
from tracker.navigation import add_nav
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.web import on_error_render

add_nav("dashboard.index", "看板", can_read_progress, position=0)
add_nav("dashboard.scorecard", "考核排名", can_read_progress, position=1)
add_nav("dashboard.trends", "趋势", can_read_progress, position=2)

F = TypeVar("F", bound=Form)


def _checked(form: F, reset: Callable[[], F]) -> F:
    """Validate a GET filter form; on nonsense, say so and fall back to the defaults."""
    if request.args and not form.validate():
        flash("筛选条件无效，已恢复默认条件。", "warning")
        return reset()
    return form


def _own_department() -> Department | None:
    """The department a scoped user is limited to (None for users who see everything)."""
    if sees_all_departments(current_user):
        return None
    department: Department | None = current_user.department
    return department


def _obligation_links(
    lead_ids: set[int] | frozenset[int] = frozenset(),
) -> Callable[[Cell], str | None]:
    """``link(cell)``: the URL of the cell's report page, or None if the user may not read it.

    The URL is built from one ``url_for`` template: a matrix page has hundreds of cells.
    """
    user = current_user._get_current_object()
    template = url_for("reports.obligation", obligation_id=_PLACEHOLDER)

    def link(cell: Cell) -> str | None:
        if cell.obligation_id is None:
            return None
        if not can_view_obligation(user, cell.department_id, lead_ids):
            return None
        return template.replace(str(_PLACEHOLDER), str(cell.obligation_id))

    return link


_PLACEHOLDER = 987654321


def _item_links() -> Callable[[int], str]:
    """``item_url(task_id)``: the item page's URL, from one ``url_for`` template."""
    template = url_for("dashboard.item", task_id=_PLACEHOLDER)
    return lambda task_id: template.replace(str(_PLACEHOLDER), str(task_id))


def _page_url(page: int) -> str:
    args: dict[str, Any] = request.args.to_dict()
    args["page"] = page
    return url_for(request.endpoint or "dashboard.index", **(request.view_args or {}), **args)


def _render_dashboard(
    form: DashboardFilterForm,
    snaps: dict[str, Snapshot],
    departments: list[DepartmentRef],
    locked: Department | None,
    overdue: list[report_queries.OverdueMilestone] | None = None,
) -> str:
    """The dashboard for the form's filters; ``locked`` pins it to one department, whose
    overdue plan milestones (``overdue``) the page lists."""
    period = Period.parse(form.period.data)
    if locked is not None:
        department_ids = {locked.id}
    elif form.department.data:
        department_ids = {d.id for d in departments if d.code == form.department.data}
    else:
        department_ids = None
    scope = queries.make_scope(
        period, form.document_id, department_ids, section=form.section.data,
        role=form.role.data, rag=form.state.data, snapshot=snaps.get(period.key),
    )  # fmt: skip

    data = queries.dashboard(
        scope, previous=snaps.get(period.previous().key), departments=departments,
        page=form.page.data or 1, lead_department_id=locked.id if locked else None,
    )  # fmt: skip
    return render_template(
        "dashboard/index.html", data=data, form=form, period=period, locked=locked,
        filters_text=_filters_text(form, departments, locked),
        export_url=_export_url(form, period, locked),
        legend=legend(), Role=Role, link=_obligation_links(), item_url=_item_links(),
        page_url=_page_url, landing=request.endpoint == "dashboard.index",
        urge_form=UrgeForm() if can_urge(current_user) else None,
        by_id={d.id: d for d in departments}, overdue=overdue or [],
    )  # fmt: skip


def _filters_text(
    form: DashboardFilterForm, departments: list[DepartmentRef], locked: Department | None
) -> str:
    """The form's filters in words (the printed page states them)."""
    documents = dict(form.document.choices)  # type: ignore[arg-type]
    names = {d.code: d.name for d in departments}
    return queries.describe_filters(
        document=documents.get(form.document.data) if form.document.data else None,
        section=form.section.data or None,
        department=locked.name if locked else names.get(form.department.data or ""),
        role=Role(form.role.data) if form.role.data else None,
        rag=Rag(form.state.data) if form.state.data else None,
    )


def _export_url(form: DashboardFilterForm, period: Period, locked: Department | None) -> str:
    """The quarterly workbook's URL with every filter of the dashboard."""
    args = {
        "period": period.key,
        "document": form.document.data,
        "section": form.section.data,
        "department": locked.code if locked else form.department.data,
        "role": form.role.data,
        "state": form.state.data,
    }
    return url_for("exports.quarterly", **{k: v for k, v in args.items() if v})


def _dashboard_form(periods: list[Period], departments: list[DepartmentRef]) -> DashboardFilterForm:
    documents = queries.document_choices()
    current = report_queries.current_period()

    def build(formdata: MultiDict[str, str] | None = None) -> DashboardFilterForm:
        form = DashboardFilterForm(formdata)
        form.fill_periods(periods, current)
        form.fill_documents(documents)
        form.fill_departments(departments)
        return form

    return _checked(build(request.args), build)


@bp.route("/dashboard")
def index() -> ResponseReturnValue:
    """The coordinator's dashboard; liaisons and department viewers see their department."""
    if not can_read_progress(current_user):
        # They read no department's progress (三员分立): their own landing page instead.
        return redirect(url_for("catalogue.home"))
    snaps = queries.snapshots()
    periods, departments = report_queries.tracked_periods(), queries.department_refs()
    form = _dashboard_form(periods, departments)
    own = _own_department()
    if own is None and not sees_all_departments(current_user):
        abort(403)  # a scoped user without a department sees nothing
    return _render_dashboard(form, snaps, departments, own)


@bp.route("/dashboard/departments/<code>")
def department(code: str) -> ResponseReturnValue:
    """One department's view: its figures, rank, lead items with supporting inputs."""
    dept = catalogue_queries.department_by_code(code) or abort(404)
    require_view_department(current_user, dept.id)
    if not can_read_progress(current_user):
        # They read no department's progress (三员分立): their own landing page instead.
        return redirect(url_for("catalogue.home"))
    snaps = queries.snapshots()
    periods, departments = report_queries.tracked_periods(), queries.department_refs()
    form = _dashboard_form(periods, departments)
    return _render_dashboard(
        form, snaps, departments, dept,
        overdue=report_queries.overdue_milestones(department_id=dept.id),
    )  # fmt: skip


@bp.route("/dashboard/scorecard")
def scorecard() -> ResponseReturnValue:
    """The 考核 scorecard: sortable, ranked; a scoped user sees only their department's row."""
    if not can_read_progress(current_user):
        return redirect(url_for("catalogue.home"))  # 三员分立: their own landing page
    snaps = queries.snapshots()
    periods, documents = report_queries.tracked_periods(), queries.document_choices()

    def build(formdata: MultiDict[str, str] | None = None) -> ScorecardForm:
        form = ScorecardForm(formdata)
        form.fill_periods(periods, report_queries.current_period())
        form.fill_documents(documents)
        return form

    form = _checked(build(request.args), build)
    period = Period.parse(form.period.data)
    rows = queries.scorecard(
        period, form.document_id, visible_department_ids(current_user),
        snapshot=snaps.get(period.key),
    )  # fmt: skip
    rows = queries.sort_scorecard(rows, form.sort.data, form.desc.data)
    # One department's rate is a figure, not a chart: its row says it (a lone bar would fill
    # the whole box).
    chart = None if len(rows) < 2 else {
        "kind": "scorecard",
        "labels": [row.department.short_name for row in rows],
        "values": [None if row.on_time_rate is None else round(row.on_time_rate * 100, 1)
                   for row in rows],
    }  # fmt: skip
    delivery = delivery_records(
        period, form.document_id, visible_department_ids(current_user), snaps.get(period.key)
    )
    return render_template(
        "dashboard/scorecard.html", rows=rows, form=form, period=period, chart=chart,
        sort_labels=SORT_LABELS, snapshot=snaps.get(period.key), delivery=delivery,
        sections=scorecard_sections(period, form.document_id),
    )  # fmt: skip


@bp.route("/dashboard/trends")
def trends() -> ResponseReturnValue:
    """On-time rate per department across the due quarters: a heat-map table of departments
    × quarters and a chart of one chosen department against the average of all."""
    if not can_read_progress(current_user):
        return redirect(url_for("catalogue.home"))  # 三员分立: their own landing page
    snaps = queries.snapshots()
    periods, documents = report_queries.tracked_periods(), queries.document_choices()
    visible = visible_department_ids(current_user)
    choosable = [d for d in queries.department_refs() if visible is None or d.id in visible]

    def build(formdata: MultiDict[str, str] | None = None) -> TrendForm:
        form = TrendForm(formdata)
        form.fill_documents(documents)
        form.fill_departments(choosable)
        return form

    form = _checked(build(request.args), build)
    # Every department is counted, so that the average is the same for everyone; a scoped
    # user's table and chart show only their own department beside it.
    trend = queries.trend(periods, form.document_id, None, known_snapshots=snaps)
    shown = [d for d in trend.departments if visible is None or d.id in visible]
    chosen = next((d for d in choosable if d.code == form.department.data), None)
    return render_template(
        "dashboard/trends.html", trend=trend, form=form, shown=shown, chosen=chosen,
        chart=_trend_chart(trend, chosen), heat=heat_class,
    )  # fmt: skip


def _trend_chart(trend: queries.Trend, chosen: DepartmentRef | None) -> dict[str, Any]:
    """The chart's data: the average of all departments and the chosen department."""
    series: list[dict[str, Any]] = [
        {"label": "全部部门平均", "values": [_pct(v) for v in trend.overall], "overall": True}
    ]
    if chosen is not None and chosen.id in trend.rates:
        series.append({"label": chosen.name, "values": [_pct(v) for v in trend.rates[chosen.id]]})
    return {"kind": "trend", "labels": [p.label for p in trend.periods], "series": series}


def heat_class(rate: float | None) -> str:
    """The heat-map colour class of an on-time rate (the cell also prints the figures)."""
    if rate is None:
        return "heat-none"
    for floor, name in HEAT_BANDS:
        if rate >= floor:
            return name
    return HEAT_BANDS[-1][1]


# Lowest on-time rate of each band, best first (tracker/static/css/app.css colours them).
HEAT_BANDS = ((0.95, "heat-4"), (0.8, "heat-3"), (0.6, "heat-2"), (0.0, "heat-1"))


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


@bp.route("/dashboard/items/<int:task_id>")
def item(task_id: int) -> ResponseReturnValue:
    """One item across quarters: each department's light and the change since last quarter,
    the delivery light beside them, and (for coordinators) the form to judge it."""
    task = catalogue_queries.task_with_assignments(task_id) or abort(404)
    require_view_item(current_user, {a.department_id for a in task.assignments})
    return _item_page(task, None, _period_arg(request.args.get("judge")))


@bp.route("/dashboard/items/<int:task_id>/judgement", methods=["POST"])
@checks_own_text
def judge(task_id: int) -> ResponseReturnValue:
    """A coordinator judges the item's delivery in one quarter (five-step scale)."""
    task = catalogue_queries.task_with_assignments(task_id) or abort(404)
    require_judge_delivery(current_user)
    form = DeliveryJudgementForm()
    period = _period_arg(form.period.data) or abort(400)
    form.suggested = item_deliveries([task.id], [period])[(task.id, period.key)].suggested
    if not form.validate_on_submit():
        return _item_page(task, form, period), 422
    on_error_render(lambda error: _judgement_refused(task, form, period, error))
    services.judge_delivery(
        task, period, DeliveryStep(form.step.data), reason=form.reason.data or "",
        actor=current_user, expected_revision=form.expected_revision,
    )  # fmt: skip
    flash(f"已保存第{task.number}项{period.label}的落实情况判断。", "success")
    return redirect(url_for("dashboard.item", task_id=task.id, _anchor="delivery-judgement"))


def _judgement_refused(
    task: Any, form: DeliveryJudgementForm, period: Period, error: DomainError
) -> ResponseReturnValue:
    """The item page again with the refusal beside its field (or on top), the input kept."""
    field = getattr(form, error.field or "", None) if error.field else None
    if field is not None and error.field in ("reason", "step"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
    return _item_page(task, form, period), error.status


def _period_arg(text: str | None) -> Period | None:
    """A quarter key from the request, if it is one of the tracked quarters."""
    try:
        period = Period.parse(text or "")
    except ValueError:
        return None
    return period if period in report_queries.tracked_periods() else None


def _item_page(task: Any, form: DeliveryJudgementForm | None, judge_period: Period | None) -> str:
    snaps = queries.snapshots()
    periods = report_queries.tracked_periods()
    history = queries.item_history(task.id, periods, known_snapshots=snaps) or abort(404)
    found = item_deliveries([task.id], history.periods, snaps)
    delivery = {p.key: found[(task.id, p.key)] for p in history.periods}
    recent = periods[:4]
    overdue = report_queries.overdue_milestones(task_id=task.id)
    indicators = report_queries.indicator_results(task.id, recent)
    return render_template(
        "dashboard/item.html", task=task, history=history, legend=legend(), Role=Role,
        link=_obligation_links(task.lead_department_ids), overdue=overdue, recent=recent,
        indicators=indicators, light=_delivery_light(task.id, overdue, indicators, recent),
        delivery=delivery, judge_form=_judge_form(form, judge_period, history, delivery),
        may_judge=can_judge_delivery(current_user),
    )  # fmt: skip


def _judge_form(
    form: DeliveryJudgementForm | None,
    period: Period | None,
    history: ItemHistory,
    delivery: dict[str, ItemDelivery],
) -> DeliveryJudgementForm | None:
    """The judgement form for a coordinator: of ``period`` (default: the newest quarter not
    frozen), filled from its judgement; None for others or when every quarter is frozen."""
    if not can_judge_delivery(current_user):
        return None
    if form is not None:
        return form
    open_ = [p for p in history.periods if p.key not in history.frozen]
    period = period if period in open_ else (open_[0] if open_ else None)
    if period is None:
        return None
    current = delivery[period.key]
    form = DeliveryJudgementForm(
        formdata=None, period=period.key,
        step=current.judged.value if current.judged else None, reason=current.reason or "",
        revision="" if current.revision is None else str(current.revision),
    )  # fmt: skip
    form.suggested = current.suggested
    return form


def _delivery_light(
    task_id: int,
    overdue: list[report_queries.OverdueMilestone],
    indicators: list[tuple[Indicator, dict[str, report_queries.IndicatorResult]]],
    periods: list[Period],
) -> DeliveryLight | None:
    """The suggested delivery light, or None while the item has no plan in force."""
    plans = delivery_queries.approved_plans(task_id)
    if not plans:
        return None
    now = delivery_queries.current_quarter().key
    due = sum(1 for p in plans for m in p.milestones if m.due_period < now)
    paces = [
        pace
        for indicator, by_period in indicators
        if (pace := latest_pace(indicator, by_period, periods)) is not None
    ]
    return delivery_light(due, due - len(overdue), paces)


@bp.route("/dashboard/items/<int:task_id>/indicators/<key>")
def indicator(task_id: int, key: str) -> ResponseReturnValue:
    """One indicator's trajectory: baseline, each tracked quarter's value (per reporting
    department and combined), the planned line and the target, as a chart and a table."""
    task = catalogue_queries.task_with_assignments(task_id) or abort(404)
    found = delivery_queries.indicator_by_key(task.id, key) or abort(404)
    departments = {a.department_id for a in task.assignments}
    require_read_plan(
        current_user, found.plan.department_id, departments, approved=not found.plan.pending
    )
    named = {a.department_id: a.department for a in task.assignments}
    t = trajectory.of_item(task.id, found, named)
    return render_template(
        "dashboard/indicator.html", task=task, t=t, chart=chart_data(t), plan=found.plan
    )
