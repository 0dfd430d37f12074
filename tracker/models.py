"""Every model module, imported in one place so that the metadata knows all tables."""

from tracker.api.models import ApiToken
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.catalogue.models import Assignment, Department, Jurisdiction, PolicyDocument, Task
from tracker.counties.models import County, CountyAccount, CountyValue
from tracker.dashboard.models import PeriodVersion, Snapshot, SnapshotCell, SnapshotDepartment
from tracker.delivery.models import DeliveryJudgement, DeliveryPlan, Indicator, Milestone
from tracker.exports.models import ExportJob
from tracker.federation.models import (
    AdoptedItem,
    Adoption,
    MemberInstance,
    PushMessage,
    ReceivedRollup,
)
from tracker.followups.models import ExtensionRequest, Urge
from tracker.lease import SchedulerLease
from tracker.notifications.models import Notification, OutboxMessage
from tracker.reminders.models import ReminderLog
from tracker.reports.models import (
    Evidence,
    IndicatorValue,
    KeyFigure,
    MilestoneStatus,
    Obligation,
    Report,
    ReportVersion,
)
from tracker.search import models as search_indexes  # noqa: F401 - the search indexes' DDL

__all__ = [
    "AdoptedItem",
    "Adoption",
    "ApiToken",
    "Assignment",
    "AuditEvent",
    "County",
    "CountyAccount",
    "CountyValue",
    "DeliveryJudgement",
    "DeliveryPlan",
    "Department",
    "Evidence",
    "ExportJob",
    "ExtensionRequest",
    "Indicator",
    "IndicatorValue",
    "Jurisdiction",
    "KeyFigure",
    "MemberInstance",
    "Milestone",
    "MilestoneStatus",
    "Notification",
    "Obligation",
    "OutboxMessage",
    "PeriodVersion",
    "PolicyDocument",
    "PushMessage",
    "ReceivedRollup",
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
