"""Sign-off inside the department (审核签发): a report goes up only once its leader approved it.

"经承办单位领导审签后上报": where a department's reports need sign-off
(:func:`~tracker.catalogue.services.signoff_required`: on unless an administrator switched the
department off, or ``TRACKER_SIGNOFF_REQUIRED`` is off), its liaison does not submit. The
liaison prepares the draft and sends it to the department's approvers (送审,
:func:`request_approval`); the draft is then locked. An approver of the department approves it
(签发, :func:`approve`), which submits it to the coordinators, timeliness judged on that
moment, or returns it to the liaison with a reason (:func:`return_to_liaison`); the liaison
may take it back before either (:func:`cancel_request`). A report the coordinators returned
goes through the same step again.

The approver's name and time stand on the report (``approved_by``, ``approved_at``), in its
versions (action ``approve``, the approver its actor), in the audit trail, the API and the
workbooks. Every function here flushes and records an audit event; none commits. Who hears
of each step is the follow-ups' business: they register a notifier here
(:func:`add_signoff_notifier`), so that this module imports nothing above reports.
"""

from __future__ import annotations

from collections.abc import Callable

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth import queries as user_queries
from tracker.auth.models import User
from tracker.auth.permissions import can_approve_reports
from tracker.catalogue.services import signoff_required
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Report
from tracker.reports.services import (
    PermissionDenied,
    ReportError,
    _keep_version,
    _require_owner,
    check_ready,
    snapshot,
)

# A notifier hears ``requested``, ``cancelled``, ``approved`` or ``returned`` with the report
# and the user who acted.
Notifier = Callable[[str, Report, User], None]
_NOTIFIERS: list[Notifier] = []

NO_APPROVER = (
    "本部门尚无在岗的审核人账号，报告无法送审。请联系系统管理员为本部门设置审核人"
    "（角色“审核人（部门领导）”），或由系统管理员关闭本部门的审核签发。"
)


def add_signoff_notifier(notifier: Notifier) -> None:
    """Register (once) a function told of every sign-off step, in the same transaction."""
    if notifier not in _NOTIFIERS:
        _NOTIFIERS.append(notifier)


def _tell(step: str, report: Report, actor: User) -> None:
    for notifier in _NOTIFIERS:
        notifier(step, report, actor)


def request_approval(report: Report, *, actor: User) -> Report:
    """The liaison sends a ready draft (or a returned report, revised) to the approvers."""
    obligation = report.obligation
    _require_owner(obligation, actor)
    if not signoff_required(obligation.department):
        raise ReportError("本部门的报告无需审核签发，可直接报送。")
    if report.awaiting_approval:
        raise ReportError("报告已送审，正在等待本部门审核人签发。")
    check_ready(report, "送审")
    if not user_queries.active_approvers(obligation.department_id):
        raise ReportError(NO_APPROVER)
    before = snapshot(report)
    report.approval_requested_at, report.approval_requested_by_id = clock.utcnow(), actor.id
    report.signoff_return_reason = None
    db.session.flush()
    after = snapshot(report)
    _keep_version(report, "request_approval", actor, after)
    record_event("report.request_approval", report, actor=actor, before=before, after=after)
    _tell("requested", report, actor)
    return report


def cancel_request(report: Report, *, actor: User) -> Report:
    """The liaison takes a draft back from the approvers, to change it."""
    _require_owner(report.obligation, actor)
    if not report.awaiting_approval:
        raise ReportError("报告不在待审核签发状态，无需撤回送审。")
    report.approval_requested_at = None
    db.session.flush()
    after = snapshot(report)
    _keep_version(report, "cancel_approval", actor, after)
    record_event("report.cancel_approval", report, actor=actor, after=after)
    _tell("cancelled", report, actor)
    return report


def _require_approver(report: Report, actor: User) -> None:
    if not can_approve_reports(actor, report.obligation.department_id):
        raise PermissionDenied("只有本部门的审核人可以审核签发本部门的报告。")
    if not report.awaiting_approval:
        raise ReportError(
            f"报告当前为“{report.state_label}”，不在待审核签发状态；请刷新页面查看最新情况。"
        )


def approve(report: Report, *, actor: User) -> Report:
    """An approver signs the report off, which submits it to the coordinators."""
    _require_approver(report, actor)
    check_ready(report, "签发")
    report.approved_at, report.approved_by_id = clock.utcnow(), actor.id
    report.approval_requested_at = None
    services.deliver(report, actor=actor, action="approve")
    _tell("approved", report, actor)
    return report


def return_to_liaison(report: Report, *, actor: User, reason: str) -> Report:
    """An approver sends the draft back to the liaison with a reason; nothing goes up."""
    _require_approver(report, actor)
    if not reason or not reason.strip():
        raise ReportError("退回联络员必须填写退回理由。", field="reason")
    before = snapshot(report)
    report.approval_requested_at = None
    report.signoff_return_reason = reason.strip()
    db.session.flush()
    after = snapshot(report)
    _keep_version(report, "signoff_return", actor, after)
    record_event("report.signoff_return", report, actor=actor, before=before, after=after)
    _tell("returned", report, actor)
    return report
