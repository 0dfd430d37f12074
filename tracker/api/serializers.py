"""Plain JSON shapes of the API's resources; each matches its schema in ``schemas.py``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from tracker.auth.models import User
from tracker.catalogue.models import Department, Task
from tracker.periods import Period
from tracker.reports.models import Obligation, Report


def _time(value: datetime | None) -> str | None:
    """An ISO 8601 timestamp in UTC (stored times are UTC)."""
    return value.isoformat() if value is not None else None


def _date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _decimal(value: Decimal) -> str:
    """A figure as an exact decimal string (``1200``, ``35.5``), never a float."""
    return format(value.normalize(), "f")


def department_ref(department: Department | None) -> dict | None:
    if department is None:
        return None
    return {"id": department.id, "code": department.code, "name": department.name}


def department(dept: Department) -> dict:
    return {
        **department_ref(dept),
        "short_name": dept.short_name,
        "aliases": list(dept.aliases or []),
    }


def me(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "department": department_ref(user.department),
    }


def task(item: Task) -> dict:
    return {
        "id": item.id,
        "document": item.document.number,
        "number": item.number,
        "section": item.section,
        "text": item.text,
        "clause": item.clause,
        "all_departments": item.all_departments,
        "assignments": [
            {"department": department_ref(a.department), "role": a.role.value}
            for a in item.assignments
        ],
    }


def period(value: Period, *, due: date, support_due: date, current: Period) -> dict:
    return {
        "key": value.key,
        "label": value.label,
        "start": _date(value.start),
        "end": _date(value.end),
        "due_date": _date(due),
        "support_due_date": _date(support_due),
        "current": value == current,
    }


def obligation_state(obligation: Obligation) -> str:
    """``waived``, ``not_filed``, or the report's state: draft, submitted, returned, accepted."""
    if obligation.waived:
        return "waived"
    if obligation.report is None:
        return "not_filed"
    return obligation.report.state.value


def obligation(item: Obligation) -> dict:
    return {
        "id": item.id,
        "task_id": item.task_id,
        "task_number": item.task.number,
        "document": item.task.document.number,
        "department": department_ref(item.department),
        "role": item.role.value,
        "period": item.period,
        "due_date": _date(item.due_date),
        "state": obligation_state(item),
        "report_id": item.report.id if item.report is not None else None,
    }


def report(item: Report) -> dict:
    duty = item.obligation
    return {
        "id": item.id,
        "obligation_id": duty.id,
        "period": duty.period,
        "task_number": duty.task.number,
        "document": duty.task.document.number,
        "department": department_ref(duty.department),
        "role": duty.role.value,
        "state": item.state.value,
        "version": item.version,
        "status": item.status.value if item.status else None,
        "confirmed_status": item.confirmed_status.value if item.confirmed_status else None,
        "progress": item.progress or "",
        "problems": item.problems or "",
        "practices": item.practices or "",
        "suggestions": item.suggestions or "",
        "next_steps": item.next_steps or "",
        "figures": [
            {"name": f.name, "value": _decimal(Decimal(f.value)), "unit": f.unit or ""}
            for f in item.figures
        ],
        "evidence": [
            {
                "id": e.id,
                "filename": e.filename,
                "content_type": e.content_type,
                "size": e.size,
                "uploaded_at": _time(e.uploaded_at),
            }
            for e in item.evidence
        ],
        "return_reason": item.return_reason,
        "review_comment": item.review_comment,
        "first_submitted_at": _time(item.first_submitted_at),
        "submitted_at": _time(item.submitted_at),
        "reviewed_at": _time(item.reviewed_at),
        "created_at": _time(item.created_at),
        "updated_at": _time(item.updated_at),
    }


def obligation_ref(item: Obligation | None) -> dict | None:
    """What a notification names of its obligation."""
    if item is None:
        return None
    return {
        "id": item.id,
        "period": item.period,
        "task_number": item.task.number,
        "document": item.task.document.number,
        "department": department_ref(item.department),
        "role": item.role.value,
    }


def notification(item) -> dict:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "title": item.title,
        "body": item.body or "",
        "obligation": obligation_ref(item.obligation),
        "created_at": _time(item.created_at),
        "read": item.read_at is not None,
        "read_at": _time(item.read_at),
    }
