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
from tracker.exports.models import ExportJob
from tracker.notifications.models import Notification
from tracker.periods import Period
from tracker.reports.models import Obligation, Report, ReportState


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
