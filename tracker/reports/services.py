"""Changing reports: opening periods, drafting, the review state machine, waivers, evidence.

Every function here flushes and records an audit event; none commits (the request does).
The state machine: draft → submitted → accepted, or submitted → returned → submitted → …;
a coordinator may reopen an accepted report (back to submitted, to correct the confirmed
status or return it), and the liaison may withdraw a submission no coordinator has acted on
yet (back to draft). Only the owning department's liaison edits, submits and withdraws; only
coordinators accept, return, reopen and waive. Each transition keeps a frozen
:class:`ReportVersion`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock, privacy
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.auth.permissions import can_edit_department_reports, can_review_reports
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import (
    register_in_use_check,
    register_open_obligations_check,
    signoff_required,
)
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import Indicator, Milestone
from tracker.errors import Conflict, Invalid, NotAllowed, Stale
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries
from tracker.reports.labels import FIELD_LABELS
from tracker.reports.limits import normalise_text
from tracker.reports.models import (
    Evidence,
    IndicatorValue,
    KeyFigure,
    MilestoneProgress,
    MilestoneStatus,
    Obligation,
    ProgressStatus,
    Report,
    ReportState,
    ReportVersion,
)

register_in_use_check(queries.assignments_with_reports)
register_open_obligations_check(queries.open_obligation_lines)

NARRATIVE_FIELDS = ("progress", "problems", "practices", "suggestions", "next_steps")
EDITABLE_STATES = (ReportState.DRAFT, ReportState.RETURNED)
SUBMITTED_STATES = (ReportState.SUBMITTED, ReportState.ACCEPTED)
AWAITING_APPROVAL = (
    "报告已送本部门审核人审核签发，暂不能修改；如需修改，请先“撤回送审”，或请审核人退回。"
)


class ReportError(Conflict):
    """A change the workflow refuses; the message is shown to the user as it is."""


class PermissionDenied(NotAllowed, ReportError):
    """The actor may not make this change (pages and the API answer 403)."""


class StaleReportError(Stale, ReportError):
    """The report changed since the user read it."""


@dataclass
class ReportInput:
    """What a liaison fills in: status, the five narrative fields, figures."""

    status: ProgressStatus | None = None
    progress: str = ""
    problems: str = ""
    practices: str = ""
    suggestions: str = ""
    next_steps: str = ""
    figures: list[tuple[str, Decimal, str]] = field(default_factory=list)
    # The delivery plan's indicators (key → value) and milestones (key → (progress, note));
    # None leaves what is stored (the API and the Excel template do not carry them yet).
    indicator_values: dict[str, Decimal] | None = None
    milestone_statuses: dict[str, tuple[MilestoneProgress, str]] | None = None


# -- periods ---------------------------------------------------------------------------------


def due_dates_for(period: Period) -> tuple[date, date]:
    """(lead/joint due date, supporting departments' due date) for a period.

    The supporting date follows :meth:`tracker.periods.Period.support_due_date`: before the
    lead's, never before the quarter is over.
    """
    config = current_app.config
    cal = queries.calendar()
    offset: int = config["TRACKER_DUE_OFFSET_DAYS"]
    due = period.due_date(cal, offset_days=offset)
    support_due = period.support_due_date(
        cal,
        offset_days=offset,
        lead_gap_working_days=config["TRACKER_SUPPORT_LEAD_DAYS"],
        min_days_after_quarter=config["TRACKER_SUPPORT_MIN_DAYS_AFTER_QUARTER"],
    )
    return due, support_due


def open_period(period: Period) -> int:
    """Create the period's missing obligations, one per assignment; idempotent.

    Returns how many were created; an inactive department (已停用) gets none. Supporting
    departments on an item with a lead are due
    earlier, so that the lead can consolidate their input. A document whose own first period
    is later than ``period`` gets no obligation for it (it did not exist to report on).
    """
    due, support_due = due_dates_for(period)
    existing = sa.select(Obligation.assignment_id).where(Obligation.period == period.key)
    rows = db.session.execute(
        sa.select(Assignment.id, Assignment.task_id, Assignment.department_id, Assignment.role)
        .join(Task, Assignment.task_id == Task.id)
        .join(PolicyDocument, Task.document_id == PolicyDocument.id)
        .join(Department, Assignment.department_id == Department.id)
        .where(Assignment.id.not_in(existing))
        .where(Department.active.is_(True))  # an inactive department gets no new obligation
        # Keys compare as text in time order: four-digit year, then the quarter digit.
        .where(
            sa.or_(PolicyDocument.first_period.is_(None), PolicyDocument.first_period <= period.key)
        )
        .order_by(Assignment.id)
    ).all()
    if not rows:
        return 0
    try:
        # A savepoint: if another request opened the same period a moment ago, the unique
        # key refuses our copies and we keep theirs.
        # One bulk INSERT (executemany): a quarter of a large portfolio is tens of thousands
        # of rows, which the unit of work would build as objects one by one.
        with db.session.begin_nested():
            db.session.execute(
                sa.insert(Obligation),
                [
                    {
                        "assignment_id": assignment_id, "period": period.key, "task_id": task_id,
                        "department_id": department_id, "role": Role(role),
                        "due_date": when, "original_due_date": when,
                    }
                    for assignment_id, task_id, department_id, role in rows
                    for when in [support_due if Role(role) == Role.SUPPORT else due]
                ],
            )  # fmt: skip
    except sa.exc.IntegrityError:
        return 0
    record_event(
        "period.open", object_type="period", after={"period": period.key, "obligations": len(rows)}
    )
    return len(rows)


def open_tracked_periods() -> int:
    """Open every tracked period (cheap when nothing is missing)."""
    return sum(open_period(period) for period in queries.tracked_periods())


# -- drafting --------------------------------------------------------------------------------


Plan = tuple[list[Indicator], list[Milestone]]


def save_draft(
    obligation: Obligation,
    data: ReportInput,
    *,
    actor: User,
    expected_version: int | None,
    plan: Plan | None = None,
) -> Report:
    """Create or update the obligation's report while it is a draft or returned.

    ``expected_version`` is the version the user's form was built from (None for a new
    report); a mismatch means someone else saved in between, and nothing is written.
    ``plan``: the indicators and milestones the form was built from in this request
    (:func:`planned`), so that a save does not read the plans in force twice.
    """
    _require_owner(obligation, actor)
    # Read before anything changes: a read later would flush a half-made report.
    plan = plan if plan is not None else planned(obligation)
    check_personal_data(data, plan[1])
    report = obligation.report
    if report is None:
        if expected_version not in (None, 0):
            raise StaleReportError("该报告已被删除或尚未创建，请刷新页面。")
        report = Report(obligation=obligation, state=ReportState.DRAFT)
        db.session.add(report)
        action = "report.create"
    else:
        if report.state not in EDITABLE_STATES:
            raise ReportError(f"报告当前状态为“{report.state.label}”，不能修改。")
        if report.awaiting_approval:
            raise ReportError(AWAITING_APPROVAL)
        if expected_version != report.version:
            raise StaleReportError(
                "保存失败：该报告在您打开后已被他人修改（当前为第 "
                f"{report.version} 版）。请刷新页面查看最新内容后再修改。"
            )
        action = "report.update"
    before = snapshot(report) if report.id else None
    _apply_plan_input(report, data, *plan)
    _apply_input(report, data)
    report.updated_by_id, report.updated_at = actor.id, clock.utcnow()
    db.session.flush()
    after = snapshot(report)
    if before == after:
        return report
    _keep_version(report, "save", actor, after)
    record_event(action, report, actor=actor, before=before, after=after)
    return report


def _apply_input(report: Report, data: ReportInput) -> None:
    report.status = data.status
    for name in NARRATIVE_FIELDS:
        setattr(report, name, normalise_text(getattr(data, name) or ""))
    report.figures = [
        KeyFigure(position=i, name=name.strip(), value=value, unit=(unit or "").strip())
        for i, (name, value, unit) in enumerate(data.figures)
    ]


def planned(obligation: Obligation) -> Plan:
    """:func:`planned_indicators` and :func:`planned_milestones` in one read of the plans."""
    return delivery_queries.reported_and_due(
        obligation.task_id, obligation.department_id, Period.parse(obligation.period)
    )


def planned_indicators(obligation: Obligation) -> list[Indicator]:
    """The plan indicators in force that this obligation's department reports on its item."""
    return delivery_queries.indicators_reported_by(obligation.task_id, obligation.department_id)


def planned_milestones(obligation: Obligation) -> list[Milestone]:
    """The plan milestones in force that this department answers for, due by the quarter."""
    return delivery_queries.milestones_due(
        obligation.task_id, obligation.department_id, Period.parse(obligation.period)
    )


MILESTONE_NOTE_REQUIRED = "未完成或部分完成时，请用一句话说明情况"


def check_personal_data(data: ReportInput, milestones: list[Milestone]) -> None:
    """Refuse text holding an ID or mobile number (:mod:`tracker.privacy`), naming the field;
    the page's form says the same beside the field, the API through this."""
    texts = [(name, FIELD_LABELS[name], getattr(data, name) or "") for name in NARRATIVE_FIELDS]
    for n, (name, _value, unit) in enumerate(data.figures):
        texts.append((f"figures-{n}-name", f"关键数据第{n + 1}行的指标名称", name))
        texts.append((f"figures-{n}-unit", f"关键数据第{n + 1}行的单位", unit or ""))
    titles = {m.key: m.title for m in milestones}
    for key, (_progress, note) in (data.milestone_statuses or {}).items():
        texts.append((f"milestone_{key}_note", f"节点“{titles.get(key, key)}”的情况说明", note))
    for name, label, text in texts:
        message = privacy.check_text(label, text)
        if message:
            raise Invalid(message, field=name)


def _apply_plan_input(
    report: Report,
    data: ReportInput,
    planned: list[Indicator],
    due: list[Milestone],
) -> None:
    """Store the plan indicators' values and the milestones' status: only those of the
    department's plan in force (a tampered form's other keys are ignored), each row updated
    in place (a delete and an insert of the same key would meet at the unique key)."""
    if data.indicator_values is not None:
        _apply_indicator_values(report, data.indicator_values, planned)
    if data.milestone_statuses is not None:
        _apply_milestone_statuses(report, data.milestone_statuses, due)


def _apply_indicator_values(
    report: Report, given: dict[str, Decimal], planned: list[Indicator]
) -> None:
    indicators = {i.key: i for i in planned}
    rows = {row.indicator_key: row for row in report.indicator_values}
    for key, row in rows.items():
        if key not in given or key not in indicators:
            report.indicator_values.remove(row)
    for key, value in given.items():
        if key not in indicators:
            continue
        if value < 0:
            raise Invalid(
                f"指标“{indicators[key].name}”的数值不能为负数。", field=f"indicator_{key}"
            )
        if key in rows:
            rows[key].value, rows[key].indicator_id = value, indicators[key].id
        else:
            report.indicator_values.append(
                IndicatorValue(indicator_id=indicators[key].id, indicator_key=key, value=value)
            )


def _apply_milestone_statuses(
    report: Report, given: dict[str, tuple[MilestoneProgress, str]], due: list[Milestone]
) -> None:
    milestones = {m.key: m for m in due}
    statuses = {row.milestone_key: row for row in report.milestone_statuses}
    for key, status in statuses.items():
        if key not in given or key not in milestones:
            report.milestone_statuses.remove(status)
    for key, (progress, note) in given.items():
        if key not in milestones:
            continue
        note = normalise_text(note or "")
        if progress != MilestoneProgress.DONE and not note.strip():
            raise Invalid(
                f"节点“{milestones[key].title}”：{MILESTONE_NOTE_REQUIRED}。",
                field=f"milestone_{key}_note",
            )
        if key in statuses:
            status = statuses[key]
            status.progress, status.note, status.milestone_id = progress, note, milestones[key].id
        else:
            report.milestone_statuses.append(
                MilestoneStatus(milestone_id=milestones[key].id, milestone_key=key,
                                progress=progress, note=note)
            )  # fmt: skip


# -- transitions -----------------------------------------------------------------------------


def submit_report(report: Report, *, actor: User) -> Report:
    """Submit a draft or resubmit a returned report; the first submission sets timeliness.

    A department whose reports need its approver's sign-off submits through
    :mod:`tracker.reports.signoff` instead: the liaison sends the draft to the approver, whose
    approval submits it (:func:`deliver`).
    """
    obligation = report.obligation
    _require_owner(obligation, actor)
    check_ready(report, "报送")
    if signoff_required(obligation.department):
        raise ReportError("本部门的报告须经本部门审核人审核签发后才报送督办协调员：请点击“送审”。")
    return deliver(report, actor=actor)


def check_ready(report: Report, doing: str) -> None:
    """Refuse a report that cannot go up yet: not editable, incomplete, or a lead's whose
    supporting inputs are not all in. ``doing`` names the step (报送, 送审, 签发)."""
    if report.state not in EDITABLE_STATES:
        raise ReportError(f"报告当前状态为“{report.state.label}”，不能{doing}。")
    missing = []
    if report.status is None:
        missing.append("自评状态")
    if not report.progress.strip():
        missing.append("工作进展")
    if missing:
        raise ReportError(f"{doing}前请填写：" + "、".join(missing) + "。")
    stated = {row.milestone_key for row in report.milestone_statuses}
    unstated = [m.title for m in planned_milestones(report.obligation) if m.key not in stated]
    if unstated:
        raise ReportError(
            f"{doing}前请说明到期节点的完成情况：" + "、".join(f"“{t}”" for t in unstated) + "。"
        )
    _require_supporting_inputs(report.obligation)


def deliver(report: Report, *, actor: User, action: str | None = None) -> Report:
    """Move a ready report to submitted (checked by the caller): the submission to the
    coordinators, on which timeliness is judged. ``action`` names the version and the audit
    event when it is not a plain submit (``approve``: the approver's sign-off submitted it)."""
    before = snapshot(report)
    now = clock.utcnow()
    resubmission = report.state == ReportState.RETURNED
    report.state = ReportState.SUBMITTED
    report.submitted_at = now
    if report.first_submitted_at is None:
        report.first_submitted_at = now
    db.session.flush()
    kind = action or ("resubmit" if resubmission else "submit")
    _keep_version(report, kind, actor, snapshot(report))
    record_event(f"report.{kind}", report, actor=actor, before=before, after=snapshot(report))
    return report


def _require_supporting_inputs(obligation: Obligation) -> None:
    """A lead consolidates: every supporting input must be submitted or waived first."""
    pending = [
        o.department.name
        for o in queries.supporting_obligations(obligation)
        if not o.waived and (o.report is None or o.report.state not in SUBMITTED_STATES)
    ]
    if pending:
        raise ReportError(
            "以下配合部门尚未报送本期材料，牵头部门暂不能报送汇总报告："
            + "、".join(pending) + "。可在填写报告页“提醒报送”，或请督办协调员说明理由后豁免。"
        )  # fmt: skip


def accept_report(
    report: Report,
    *,
    actor: User,
    confirmed_status: ProgressStatus | None = None,
    comment: str = "",
) -> Report:
    """A coordinator accepts a submitted report and records the confirmed status.

    Without ``confirmed_status`` the department's own rating is confirmed: a status nobody
    chose is never recorded.
    """
    _require_reviewer(actor)
    if report.state != ReportState.SUBMITTED:
        raise ReportError(f"报告当前状态为“{report.state.label}”，不能审核通过。")
    before = snapshot(report)
    report.state = ReportState.ACCEPTED
    report.confirmed_status = confirmed_status or report.status
    report.review_comment = comment.strip() or None
    report.reviewed_at, report.reviewer_id = clock.utcnow(), actor.id
    db.session.flush()
    _keep_version(report, "accept", actor, snapshot(report))
    record_event("report.accept", report, actor=actor, before=before, after=snapshot(report))
    return report


def accept_reports(reports: list[Report], *, actor: User) -> list[Report]:
    """Accept several submitted reports at once, each confirming its own self-rating and each
    audited as one ``report.accept``; all or none: if any is no longer waiting, none is."""
    _require_reviewer(actor)
    if not reports:
        raise ReportError("请先勾选要审核通过的报告。")
    stale = [r for r in reports if r.state != ReportState.SUBMITTED]
    if stale:
        names = "、".join(
            f"第{r.obligation.task.number}项{r.obligation.department.short_name}（{r.state.label}）"
            for r in stale
        )
        raise ReportError(f"以下报告已不在待审核状态，本次未通过任何报告，请刷新后重选：{names}。")
    return [accept_report(report, actor=actor) for report in reports]


def reopen_report(report: Report, *, actor: User, reason: str) -> Report:
    """A coordinator reopens an accepted report, with a reason: it is submitted again.

    The coordinator can then accept it with a corrected status, or return it. The confirmed
    status stays until that decision, so the dashboard keeps showing the last judgement.
    """
    _require_reviewer(actor)
    if report.state != ReportState.ACCEPTED:
        raise ReportError(
            f"报告当前状态为“{report.state.label}”，只有已审核通过的报告可以重新打开。"
        )
    if not reason or not reason.strip():
        raise ReportError("重新打开报告必须填写理由。", field="reason")
    before = snapshot(report)
    report.state = ReportState.SUBMITTED
    report.reviewed_at, report.reviewer_id = clock.utcnow(), actor.id
    db.session.flush()
    after = snapshot(report)
    _keep_version(report, "reopen", actor, after)
    record_event(
        "report.reopen", report, actor=actor, before=before,
        after={**after, "reopen_reason": reason.strip()},
    )  # fmt: skip
    return report


REVIEW_ACTIONS = ("accept", "return", "reopen")


def may_withdraw(report: Report) -> bool:
    """Whether the liaison may still take the submission back.

    Pages never record that a coordinator opened a report (GET never writes), so "not yet
    picked up" means: submitted, and no coordinator has accepted, returned or reopened (with
    its comment or reason) since the last submission.
    """
    if report.state != ReportState.SUBMITTED:
        return False
    actions = queries.version_actions(report.id)
    return not actions or actions[-1] not in REVIEW_ACTIONS


def withdraw_report(report: Report, *, actor: User) -> Report:
    """The liaison takes a submission nobody has reviewed back to draft, to correct it."""
    _require_owner(report.obligation, actor)
    if report.state != ReportState.SUBMITTED:
        raise ReportError(f"报告当前状态为“{report.state.label}”，只有已报送待审核的报告可以撤回。")
    if not may_withdraw(report):
        raise ReportError("督办协调员已处理本次报送，不能撤回；如需修改，请联系督办协调员退回。")
    before = snapshot(report)
    report.state = ReportState.DRAFT
    # The sign-off was of the text submitted; a changed text needs a new one.
    report.approved_at = report.approved_by_id = report.approval_requested_at = None
    if "return" not in queries.version_actions(report.id):
        # The first submission taken back did not happen: timeliness is judged on the next.
        report.first_submitted_at = report.submitted_at = None
    db.session.flush()
    _keep_version(report, "withdraw", actor, snapshot(report))
    record_event("report.withdraw", report, actor=actor, before=before, after=snapshot(report))
    return report


def return_report(
    report: Report, *, actor: User, reason: str, confirmed_status: ProgressStatus | None = None
) -> Report:
    """A coordinator returns a submitted report with a reason the liaison will see."""
    _require_reviewer(actor)
    if report.state != ReportState.SUBMITTED:
        raise ReportError(f"报告当前状态为“{report.state.label}”，不能退回。")
    if not reason or not reason.strip():
        raise ReportError("退回报告必须填写退回理由。", field="reason")
    before = snapshot(report)
    report.state = ReportState.RETURNED
    report.return_reason = reason.strip()
    report.confirmed_status = confirmed_status
    report.reviewed_at, report.reviewer_id = clock.utcnow(), actor.id
    db.session.flush()
    _keep_version(report, "return", actor, snapshot(report))
    record_event("report.return", report, actor=actor, before=before, after=snapshot(report))
    return report


def waive_obligation(obligation: Obligation, *, actor: User, reason: str) -> Obligation:
    """A coordinator excuses a supporting department's input for one period, with a reason."""
    _require_reviewer(actor)
    if obligation.role != Role.SUPPORT:
        raise ReportError("只有配合部门的材料可以豁免。")
    if obligation.waived:
        raise ReportError("该项材料已豁免。")
    if obligation.report is not None and obligation.report.state in SUBMITTED_STATES:
        raise ReportError("该部门已报送材料，无需豁免。")
    if not reason or not reason.strip():
        raise ReportError("豁免必须填写理由。", field="reason")
    obligation.waived = True
    obligation.waiver_reason = reason.strip()
    obligation.waived_by_id, obligation.waived_at = actor.id, clock.utcnow()
    db.session.flush()
    record_event(
        "obligation.waive", obligation, actor=actor, after={"reason": obligation.waiver_reason}
    )
    return obligation


# -- helpers ---------------------------------------------------------------------------------


def _require_owner(obligation: Obligation, actor: User) -> None:
    if not can_edit_department_reports(actor, obligation.department_id):
        raise PermissionDenied("只有本部门联络员可以填报和报送本部门的报告。")


def _require_reviewer(actor: User) -> None:
    if not can_review_reports(actor):
        raise PermissionDenied("只有督办协调员可以审核报告。")


def snapshot(report: Report) -> dict[str, Any]:
    """The report's content as plain JSON, as stored in versions and audit events."""
    return {
        "state": report.state.value if report.state else None,
        "status": report.status.value if report.status else None,
        "confirmed_status": report.confirmed_status.value if report.confirmed_status else None,
        **{name: getattr(report, name) or "" for name in NARRATIVE_FIELDS},
        "figures": [
            [
                f.name,
                format(
                    f.value.normalize()
                    if isinstance(f.value, Decimal)
                    else Decimal(str(f.value)).normalize(),
                    "f",
                ),
                f.unit,
            ]
            for f in report.figures
        ],
        "evidence": [e.filename for e in report.evidence],
        "return_reason": report.return_reason,
        "review_comment": report.review_comment,
        "signoff_return_reason": report.signoff_return_reason,
        **_plan_snapshot(report),
    }


def _plan_snapshot(report: Report) -> dict[str, Any]:
    """The plan indicators' values and milestones' status, when the report holds any (a
    report on an item without a plan keeps the shape it always had)."""
    content: dict[str, Any] = {}
    if report.indicator_values:
        content["indicators"] = {
            row.indicator_key: format(Decimal(str(row.value)).normalize(), "f")
            for row in report.indicator_values
        }
    if report.milestone_statuses:
        content["milestones"] = {
            row.milestone_key: [row.progress.value, row.note] for row in report.milestone_statuses
        }
    return content


def _keep_version(
    report: Report, action: str, actor: User, content: dict[str, Any]
) -> ReportVersion:
    number = (db.session.scalar(
        sa.select(sa.func.max(ReportVersion.number)).where(ReportVersion.report_id == report.id)
    ) or 0) + 1  # fmt: skip
    version = ReportVersion(
        report_id=report.id,
        number=number,
        action=action,
        state=report.state.value,
        content=content,
        actor_id=actor.id,
    )
    db.session.add(version)
    db.session.flush()
    return version


# -- evidence --------------------------------------------------------------------------------


def add_evidence(report: Report, filename: str | None, data: bytes, *, actor: User) -> Evidence:
    """Attach a checked file to an editable report.

    The count against :data:`~tracker.reports.evidence.MAX_FILES_PER_REPORT` is taken inside
    the transaction after locking the report's row (a no-op UPDATE: a row lock on PostgreSQL,
    the write lock on SQLite), so concurrent uploads are counted one after another. The file
    gets its final name only once the row is committed (:func:`tracker.reports.evidence.store`).
    """
    from tracker.reports import evidence as files

    _require_owner(report.obligation, actor)
    if report.state not in EDITABLE_STATES:
        raise ReportError(f"报告当前状态为“{report.state.label}”，不能再添加附件。")
    if report.awaiting_approval:
        raise ReportError(AWAITING_APPROVAL, field="file")
    try:
        checked = files.check_upload(filename, data)
    except files.EvidenceError as exc:
        raise ReportError(str(exc), field="file") from None
    _lock_report(report)
    attached = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Evidence)
        .where(Evidence.report_id == report.id, Evidence.removed_at.is_(None))
    )
    if (attached or 0) >= files.MAX_FILES_PER_REPORT:
        raise ReportError(f"每份报告最多 {files.MAX_FILES_PER_REPORT} 个附件。", field="file")
    stored_name = files.store(checked)
    item = Evidence(
        report=report, filename=checked.filename, stored_name=stored_name, kind=checked.kind,
        content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
        uploaded_by_id=actor.id,
    )  # fmt: skip
    db.session.add(item)
    db.session.flush()
    record_event(
        "evidence.add",
        item,
        actor=actor,
        after={
            "report_id": report.id, "filename": item.filename, "size": item.size,
            "stored_name": item.stored_name, "sha256": item.sha256,
        },
    )  # fmt: skip
    return item


def _lock_report(report: Report) -> None:
    """Hold the report's row until the transaction ends (both backends, one statement)."""
    db.session.execute(
        sa.update(Report).where(Report.id == report.id).values(version=Report.version),
        execution_options={"synchronize_session": False},
    )


def remove_evidence(item: Evidence, *, actor: User) -> None:
    """Detach a file from an editable report: the row stays as a tombstone, the file too.

    The audit event keeps the stored name and the hash, so the file can be told from any other.
    """
    report = item.report
    _require_owner(report.obligation, actor)
    if report.state not in EDITABLE_STATES:
        raise ReportError(f"报告当前状态为“{report.state.label}”，不能删除附件。")
    if report.awaiting_approval:
        raise ReportError(AWAITING_APPROVAL)
    if item.removed_at is not None:
        raise ReportError("该附件已删除。")
    item.removed_at, item.removed_by_id = clock.utcnow(), actor.id
    db.session.flush()
    db.session.expire(report, ["evidence"])
    record_event(
        "evidence.remove",
        item,
        actor=actor,
        before={
            "report_id": report.id, "filename": item.filename, "size": item.size,
            "stored_name": item.stored_name, "sha256": item.sha256,
        },
    )  # fmt: skip
