"""Every model module, imported in one place so that the metadata knows all tables."""

from tracker.api.models import ApiToken
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department, Jurisdiction, PolicyDocument, Task
from tracker.dashboard.models import PeriodVersion, Snapshot, SnapshotCell, SnapshotDepartment
from tracker.followups.models import ExtensionRequest, Urge
from tracker.lease import SchedulerLease
from tracker.notifications.models import Notification, OutboxMessage
from tracker.reminders.models import ReminderLog
from tracker.reports.models import Evidence, KeyFigure, Obligation, Report, ReportVersion
from tracker.search import models as search_indexes  # noqa: F401 - the search indexes' DDL

__all__ = [
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "Department",
    "Evidence",
    "ExtensionRequest",
    "Jurisdiction",
    "KeyFigure",
    "Notification",
    "Obligation",
    "OutboxMessage",
    "PeriodVersion",
    "PolicyDocument",
    "ReminderLog",
    "Report",
    "ReportVersion",
    "SchedulerLease",
    "Snapshot",
    "SnapshotCell",
    "SnapshotDepartment",
    "Task",
    "Urge",
    "User",
]
