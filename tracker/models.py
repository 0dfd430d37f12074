"""Every model module, imported in one place so that the metadata knows all tables."""

from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department, Jurisdiction, PolicyDocument, Task
from tracker.reports.models import Evidence, KeyFigure, Obligation, Report, ReportVersion

__all__ = [
    "Assignment",
    "AuditEvent",
    "Department",
    "Evidence",
    "Jurisdiction",
    "KeyFigure",
    "Obligation",
    "PolicyDocument",
    "Report",
    "ReportVersion",
    "Task",
    "User",
]
