"""The API's resources built as their contract models from the database's objects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tracker.api import contract
from tracker.auth import liaisons
from tracker.auth.models import User
from tracker.auth.permissions import can_view_contacts
from tracker.catalogue.models import Department, Task
from tracker.catalogue.services import signoff_required
from tracker.dashboard.delivery_light import DeliveryLight, expected_value
from tracker.dashboard.queries.delivery import ItemDelivery
from tracker.dashboard.queries.grid import Change
from tracker.dashboard.trajectory import Trajectory
from tracker.delivery.models import DeliveryJudgement, DeliveryPlan, Indicator
from tracker.exports.models import ExportJob
from tracker.notifications.models import Notification
from tracker.periods import Period
from tracker.reports.models import Obligation, Report, ReportState
from tracker.reports.queries import IndicatorResult, OverdueMilestone
from tracker.reports.services import planned_indicators, planned_milestones


def decimal_text(value: Decimal) -> str:
    """A figure as an exact decimal string (``1200``, ``35.5``), never a float."""
    return format(Decimal(value).normalize(), "f")


def department_ref(department: Department) -> contract.DepartmentRef:
    """A department as other resources name it."""
    return contract.DepartmentRef(id=department.id, code=department.code, name=department.name)


def department(dept: Department, viewer: User) -> contract.Department:
    """A department with its other names, whether it signs off, and its A and B liaisons
    for a ``viewer`` entitled to its contacts."""
    slots = None
    if can_view_contacts(viewer, dept.id):
        holders = liaisons.slot_holders(dept.id)
        slots = contract.DepartmentLiaisons(
            main=_liaison(holders.get(liaisons.MAIN)),
            alternate=_liaison(holders.get(liaisons.ALTERNATE)),
        )
    return contract.Department(
        id=dept.id,
        code=dept.code,
        name=dept.name,
        short_name=dept.short_name,
        aliases=list(dept.aliases or []),
        active=dept.active,
        signoff_required=signoff_required(dept),
        liaisons=slots,
    )


def _liaison(user: User | None) -> contract.LiaisonRef | None:
    if user is None:
        return None
    return contract.LiaisonRef(id=user.id, display_name=user.display_name, phone=user.phone)


def me(user: User) -> contract.Me:
    """The token's owner."""
    return contract.Me(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        department=department_ref(user.department) if user.department else None,
    )


def task(item: Task) -> contract.Task:
    """An item with its assignments."""
    return contract.Task(
        id=item.id,
        document=item.document.number,
        number=item.number,
        section=item.section,
        text=item.text,
        clause=item.clause,
        all_departments=item.all_departments,
        assignments=[
            contract.Assignment(department=department_ref(a.department), role=a.role)
            for a in item.assignments
        ],
    )


def period(value: Period, *, due: date, support_due: date, current: Period) -> contract.Period:
    """A tracked quarter and its due dates."""
    return contract.Period(
        key=value.key,
        label=value.label,
        start=value.start,
        end=value.end,
        due_date=due,
        support_due_date=support_due,
        current=value == current,
    )


_STATES: dict[ReportState, contract.ObligationState] = {
    ReportState.DRAFT: "draft",
    ReportState.SUBMITTED: "submitted",
    ReportState.RETURNED: "returned",
    ReportState.ACCEPTED: "accepted",
}


def obligation_state(obligation: Obligation) -> contract.ObligationState:
    """``waived``, ``not_filed``, or the report's state: draft, submitted, returned, accepted."""
    if obligation.waived:
        return "waived"
    if obligation.report is None:
        return "not_filed"
    return _STATES[obligation.report.state]


def obligation(item: Obligation) -> contract.Obligation:
    """An obligation with its state."""
    return contract.Obligation(
        id=item.id,
        task_id=item.task_id,
        task_number=item.task.number,
        document=item.task.document.number,
        department=department_ref(item.department),
        role=item.role,
        period=item.period,
        due_date=item.due_date,
        state=obligation_state(item),
        report_id=item.report.id if item.report is not None else None,
    )


def _name(user: User | None) -> str | None:
    return user.display_name if user is not None else None


def report(item: Report) -> contract.Report:
    """A report with everything it shows."""
    duty = item.obligation
    return contract.Report(
        id=item.id,
        obligation_id=duty.id,
        period=duty.period,
        task_number=duty.task.number,
        document=duty.task.document.number,
        department=department_ref(duty.department),
        role=duty.role,
        state=item.state,
        version=item.version,
        status=item.status,
        confirmed_status=item.confirmed_status,
        progress=item.progress or "",
        problems=item.problems or "",
        practices=item.practices or "",
        suggestions=item.suggestions or "",
        next_steps=item.next_steps or "",
        figures=[
            contract.Figure(name=f.name, value=decimal_text(f.value), unit=f.unit or "")
            for f in item.figures
        ],
        indicator_values=[
            contract.ReportIndicatorValue(
                key=v.indicator_key,
                name=v.indicator.name,
                unit=v.indicator.unit,
                value=decimal_text(v.value),
            )
            for v in item.indicator_values
        ],
        milestone_statuses=[
            contract.ReportMilestoneStatus(
                key=m.milestone_key,
                title=m.milestone.title,
                due_period=m.milestone.due_period,
                status=m.progress,
                note=m.note or "",
            )
            for m in item.milestone_statuses
        ],
        plan=report_plan(duty),
        evidence=[
            contract.Evidence(
                id=e.id,
                filename=e.filename,
                content_type=e.content_type,
                size=e.size,
                uploaded_at=e.uploaded_at,
            )
            for e in item.evidence
        ],
        signoff=contract.Signoff(
            required=signoff_required(duty.department),
            awaiting=item.awaiting_approval,
            requested_at=item.approval_requested_at,
            requested_by=_name(item.approval_requested_by),
            approved_at=item.approved_at,
            approved_by=_name(item.approved_by),
            return_reason=item.signoff_return_reason,
        ),
        return_reason=item.return_reason,
        review_comment=item.review_comment,
        first_submitted_at=item.first_submitted_at,
        submitted_at=item.submitted_at,
        reviewed_at=item.reviewed_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def report_plan(duty: Obligation) -> contract.ReportPlan:
    """What the plans in force ask of an obligation's report."""
    return contract.ReportPlan(
        indicators=[
            contract.PlannedIndicator(key=i.key, name=i.name, unit=i.unit)
            for i in planned_indicators(duty)
        ],
        milestones=[
            contract.PlannedMilestone(key=m.key, title=m.title, due_period=m.due_period)
            for m in planned_milestones(duty)
        ],
    )


def plan(version: DeliveryPlan, departments: dict[int, Department]) -> contract.Plan:
    """A plan version with its milestones and indicators; ``departments`` names them."""
    return contract.Plan(
        id=version.id,
        task_id=version.task_id,
        task_number=version.task.number,
        document=version.task.document.number,
        department=department_ref(version.department),
        number=version.number,
        state=version.state,
        revision=version.revision,
        change_reason=version.change_reason,
        return_reason=version.return_reason,
        proposed_by=_name(version.proposed_by),
        proposed_at=version.proposed_at,
        decided_by=_name(version.decided_by),
        decided_at=version.decided_at,
        milestones=[
            contract.PlanMilestone(
                key=m.key,
                title=m.title,
                due_period=m.due_period,
                department=department_ref(departments[m.department_id]),
            )
            for m in version.milestones
        ],
        indicators=[
            contract.PlanIndicator(
                key=i.key,
                name=i.name,
                unit=i.unit,
                direction=i.direction,
                baseline_value=decimal_text(i.baseline_value),
                baseline_date=i.baseline_date,
                target_value=decimal_text(i.target_value),
                target_date=i.target_date,
                combine=i.combine,
                departments=[department_ref(departments[d]) for d in i.department_ids],
            )
            for i in version.indicators
        ],
    )


def task_delivery(
    task_id: int,
    period: Period,
    light: DeliveryLight | None,
    results: list[tuple[Indicator, dict[str, IndicatorResult]]],
    quarters: list[Period],
    overdue: list[OverdueMilestone],
    departments: dict[int, Department],
    item: ItemDelivery,
    judged: DeliveryJudgement | None,
) -> contract.TaskDelivery:
    """An item's delivery in a quarter: the suggested light, the indicators' combined values
    of ``quarters`` (newest first), and the overdue milestones."""
    indicators = [
        contract.IndicatorValues(
            key=i.key, name=i.name, unit=i.unit, direction=i.direction, combine=i.combine,
            baseline_value=decimal_text(i.baseline_value), baseline_date=i.baseline_date,
            target_value=decimal_text(i.target_value), target_date=i.target_date,
            quarters=[_quarter(i, q, by_period[q.key], departments) for q in quarters],
        )
        for i, by_period in results
    ]  # fmt: skip
    return contract.TaskDelivery(
        task_id=task_id,
        period=period.key,
        light=_light(light) if light is not None else None,
        shown=shown_light(item),
        judgement=judgement(judged),
        change=change(item),  # type: ignore[arg-type]  # better, same or worse
        indicators=indicators,
        overdue_milestones=[
            contract.OverdueMilestone(
                key=o.milestone.key,
                title=o.milestone.title,
                due_period=o.milestone.due_period,
                department=department_ref(o.milestone.department),
                said=o.said.progress if o.said is not None else None,
                note=o.said.note if o.said is not None else None,
            )
            for o in overdue
        ],
    )


def judgement(found: DeliveryJudgement | None) -> contract.Judgement | None:
    """A coordinator's judgement of a quarter, if any."""
    if found is None:
        return None
    return contract.Judgement(
        step=found.step, label=found.step.label, reason=found.reason, suggested=found.suggested,
        judged_by=found.judged_by.display_name if found.judged_by is not None else None,
        judged_at=found.judged_at, revision=found.revision,
    )  # fmt: skip


def shown_light(item: ItemDelivery) -> contract.ShownLight | None:
    """The light the pages show (judged, else suggested), as the dashboard reads it."""
    step = item.shown
    if step is None:
        return None
    return contract.ShownLight(
        step=step, label=step.label, source="suggested" if item.is_suggestion else "judged"
    )


def change(item: ItemDelivery) -> str | None:
    """好转 / 持平 / 退步 against the previous quarter, as the pages show it (None: —)."""
    return None if item.change == Change.NONE else item.change.value


def trajectory(
    task_id: int, t: Trajectory, departments: dict[int, Department]
) -> contract.Trajectory:
    """The indicator trajectory page's figures (:mod:`tracker.dashboard.trajectory`), each
    reporting department named (the page names them only when more than one reports)."""
    i = t.indicator
    named = {d: departments[d] for d in i.department_ids or [] if d in departments}
    return contract.Trajectory(
        task_id=task_id, key=i.key, name=i.name, unit=i.unit, direction=i.direction,
        combine=i.combine, baseline_value=decimal_text(i.baseline_value),
        baseline_date=i.baseline_date, target_value=decimal_text(i.target_value),
        target_date=i.target_date, plan_state=i.plan.state,
        departments=[department_ref(d) for d in named.values()],
        quarters=[
            contract.TrajectoryQuarter(
                period=p.period.key,
                combined=decimal_text(p.combined) if p.combined is not None else None,
                values=[
                    contract.DepartmentValue(department=department_ref(named[d]),
                                             value=decimal_text(v))
                    for d, v in p.by_department.items() if d in named
                ],
                planned=decimal_text(p.planned), on_pace=p.on_pace,
            )
            for p in t.points
        ],
    )  # fmt: skip


def _quarter(
    indicator: Indicator,
    quarter: Period,
    result: IndicatorResult,
    departments: dict[int, Department],
) -> contract.IndicatorQuarter:
    return contract.IndicatorQuarter(
        period=quarter.key,
        combined=decimal_text(result.combined) if result.combined is not None else None,
        expected=decimal_text(round(expected_value(indicator, quarter.end), 4)),
        values=[
            contract.DepartmentValue(
                department=department_ref(departments[d]), value=decimal_text(v)
            )
            for d, v in result.values
        ],
    )


def _light(light: DeliveryLight) -> contract.SuggestedLight:
    return contract.SuggestedLight(
        rag=light.rag.value,  # type: ignore[arg-type]  # green, amber or red
        label=light.label,
        milestones_due=light.due,
        milestones_done=light.done,
        indicators=[
            contract.IndicatorPace(
                key=p.indicator.key,
                period=p.period.key,
                value=decimal_text(p.value),
                expected=decimal_text(round(p.expected, 4)),
                on_pace=p.on_pace,
            )
            for p in light.paces
        ],
    )


def obligation_ref(item: Obligation) -> contract.ObligationRef:
    """What a notification names of its obligation."""
    return contract.ObligationRef(
        id=item.id,
        period=item.period,
        task_number=item.task.number,
        document=item.task.document.number,
        department=department_ref(item.department),
        role=item.role,
    )


def notification(item: Notification) -> contract.Notification:
    """A notification, read or not."""
    return contract.Notification(
        id=item.id,
        kind=item.kind,
        title=item.title,
        body=item.body or "",
        obligation=obligation_ref(item.obligation) if item.obligation is not None else None,
        created_at=item.created_at,
        read=item.read_at is not None,
        read_at=item.read_at,
    )


def export_job(job: ExportJob, download: str | None) -> contract.ExportJob:
    """A background export, with its download address once its file is there."""
    return contract.ExportJob(
        id=job.id,
        state=job.state,
        description=job.description,
        download_name=job.download_name,
        total=job.total,
        done=min(job.done, job.total),
        percent=job.percent,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        download=download,
    )


def dashboard(data: dict[str, Any]) -> contract.Dashboard:
    """The dashboard's figures, checked against their documented shape."""
    return contract.Dashboard.model_validate(data)
