"""Notifications (the bell), the admins' outbox, 催办/签收 and 延期申请 pages.

The urge and extension sections of an obligation's page are rendered by
``templates/reminders/_followup.html`` with what :func:`obligation_followup` prepares.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from tracker.auth.permissions import (
    can_acknowledge_urge,
    can_decide_extensions,
    can_manage_users,
    can_request_extension,
    can_urge,
    require_acknowledge_urge,
    require_decide_extensions,
    require_manage_users,
    require_request_extension,
    require_urge,
)
from tracker.auth.routes import safe_next
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.reminders import bp, queries, services
from tracker.reminders.forms import (
    ApproveExtensionForm,
    ExtensionRequestForm,
    RejectExtensionForm,
    UrgeForm,
)
from tracker.reminders.ladder import DEFAULT_LADDER, parse_ladder
from tracker.reminders.models import (
    ExtensionRequest,
    ExtensionState,
    OutboxMessage,
    OutboxStatus,
    Urge,
)
from tracker.reminders.outbox import SmtpSettings
from tracker.reminders.scheduler import parse_time
from tracker.reports.models import Obligation, ReportState

logger = logging.getLogger(__name__)
PER_PAGE = 50

add_nav("reminders.extensions", "延期审批", can_decide_extensions)
add_nav("reminders.outbox", "邮件发送", can_manage_users)


@bp.record_once
def _check_configuration(state) -> None:
    """A malformed ladder or pass time stops the app at start-up, not at 08:30."""
    config = state.app.config
    parse_ladder(config.get("TRACKER_REMINDER_LADDER") or DEFAULT_LADDER)
    parse_time(config.get("TRACKER_REMIND_AT", "08:30"))


@bp.app_context_processor
def _bell() -> dict:
    """``unread_notifications()`` for the bell; only called for signed-in users."""

    def unread_notifications() -> int | None:
        if not current_user.is_authenticated:
            return 0
        try:
            return queries.unread_count(current_user.id)
        except SQLAlchemyError:  # e.g. while rendering the error page of a failed request
            logger.exception("could not count unread notifications")
            db.session.rollback()
            return None

    return {"unread_notifications": unread_notifications}


def _flash_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def _back(default: str):
    return redirect(safe_next(request.form.get("next")) or default)


def _obligation_page(obligation_id: int, anchor: str = "") -> str:
    return url_for("reports.obligation", obligation_id=obligation_id) + anchor


# -- notifications ---------------------------------------------------------------------------


@bp.route("/notifications")
def notifications():
    """The signed-in user's notifications, newest first."""
    page = request.args.get("page", 1, type=int)
    unread_only = request.args.get("unread") == "1"
    items = db.paginate(
        queries.notifications_for(current_user.id, unread_only=unread_only),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "reminders/notifications.html", items=items, unread_only=unread_only, button=EmptyForm()
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def mark_read(notification_id: int):
    """Mark one's own notification read; with ``open=1`` go on to what it links to."""
    note = queries.notification_of(notification_id, current_user.id) or abort(404)
    if EmptyForm().validate_on_submit():
        services.mark_read(note)
        if request.form.get("open") and note.link:
            return redirect(safe_next(note.link) or url_for("reminders.notifications"))
    return _back(url_for("reminders.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
def mark_all_read():
    if EmptyForm().validate_on_submit():
        count = services.mark_all_read(current_user)
        flash(f"已将 {count} 条通知标为已读。", "success")
    return redirect(url_for("reminders.notifications"))


# -- the outbox (admins) ---------------------------------------------------------------------


@bp.route("/admin/outbox")
def outbox():
    """Every e-mail the system wrote, its state, its last error; failed ones can be retried."""
    require_manage_users(current_user)
    status = request.args.get("status", "")
    chosen = OutboxStatus(status) if status in {s.value for s in OutboxStatus} else None
    return render_template(
        "reminders/outbox.html",
        messages=queries.outbox_page(chosen),
        counts=queries.outbox_counts(),
        chosen=chosen,
        statuses=list(OutboxStatus),
        retryable=services.RETRYABLE,
        smtp=SmtpSettings.from_config(current_app.config),
        button=EmptyForm(),
    )


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
def retry_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    require_manage_users(current_user)
    if EmptyForm().validate_on_submit():
        try:
            services.retry_message(message, actor=current_user)
            flash(f"邮件 #{message.id} 已重新排队，将由发送任务在一分钟内发送。", "success")
        except services.ReminderError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("reminders.outbox", status=request.args.get("status") or None))


# -- urges (催办) and acknowledgement (签收) ----------------------------------------------------


@bp.route("/obligations/<int:obligation_id>/urge", methods=["POST"])
def urge(obligation_id: int):
    obligation = db.session.get(Obligation, obligation_id) or abort(404)
    require_urge(current_user)
    form = UrgeForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(_obligation_page(obligation.id, "#urges"))
    try:
        services.urge_obligation(obligation, actor=current_user, message=form.message.data or "")
        if queries.active_liaisons(obligation.department_id):
            flash("已催办，已通知该部门联络员。", "success")
        else:
            flash("已记录催办，但该部门暂无启用的联络员账号，无人接收。", "warning")
    except services.PermissionDenied:
        abort(403)
    except services.ReminderError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(_obligation_page(obligation.id, "#urges"))


@bp.route("/urges/<int:urge_id>/acknowledge", methods=["POST"])
def acknowledge(urge_id: int):
    item = db.session.get(Urge, urge_id) or abort(404)
    require_acknowledge_urge(current_user, item.obligation.department_id)
    if EmptyForm().validate_on_submit():
        try:
            services.acknowledge_urge(item, actor=current_user)
            flash("已签收催办。", "success")
        except services.PermissionDenied:
            abort(403)
        except services.ReminderError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(_obligation_page(item.obligation_id, "#urges"))


# -- extension requests (延期申请) -------------------------------------------------------------


@bp.route("/obligations/<int:obligation_id>/extension", methods=["POST"])
def request_extension(obligation_id: int):
    obligation = db.session.get(Obligation, obligation_id) or abort(404)
    require_request_extension(current_user, obligation.department_id)
    form = ExtensionRequestForm()
    if not form.validate_on_submit():
        _flash_errors(form)
        return redirect(_obligation_page(obligation.id, "#extensions"))
    try:
        services.request_extension(
            obligation,
            actor=current_user,
            requested_due_date=form.requested_due_date.data,
            reason=form.reason.data,
        )
        flash("延期申请已提交，等待督办协调员审批。", "success")
    except services.PermissionDenied:
        abort(403)
    except services.ReminderError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(_obligation_page(obligation.id, "#extensions"))


@bp.route("/extensions")
def extensions():
    """The coordinators' list: pending requests to decide, then recent decisions."""
    require_decide_extensions(current_user)
    return render_template(
        "reminders/extensions.html",
        pending=queries.extension_requests(ExtensionState.PENDING),
        decided=queries.extension_requests(None, limit=50),
        approve_form=ApproveExtensionForm(),
        reject_form=RejectExtensionForm(),
    )


def _decide(request_id: int, form_class, decide, done: str):
    item = db.session.get(ExtensionRequest, request_id) or abort(404)
    require_decide_extensions(current_user)
    form = form_class()
    if not form.validate_on_submit():
        _flash_errors(form)
        return _back(url_for("reminders.extensions"))
    try:
        decide(item, actor=current_user, comment=form.comment.data or "")
        flash(done, "success")
    except services.PermissionDenied:
        abort(403)
    except services.ReminderError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return _back(url_for("reminders.extensions"))


@bp.route("/extensions/<int:request_id>/approve", methods=["POST"])
def approve_extension(request_id: int):
    return _decide(
        request_id, ApproveExtensionForm, services.approve_extension, "已批准延期，截止日期已更新。"
    )


@bp.route("/extensions/<int:request_id>/reject", methods=["POST"])
def reject_extension(request_id: int):
    return _decide(request_id, RejectExtensionForm, services.reject_extension, "已驳回延期申请。")


# -- the obligation page's sections ----------------------------------------------------------


def obligation_followup(obligation: Obligation) -> dict:
    """What ``reminders/_followup.html`` shows on an obligation's page for the current user."""
    report = obligation.report
    reported = report is not None and report.state in (ReportState.SUBMITTED, ReportState.ACCEPTED)
    first_submitted = report is not None and report.first_submitted_at is not None
    requests = queries.extension_requests_of(obligation.id)
    pending = any(r.state == ExtensionState.PENDING for r in requests)
    may_urge = can_urge(current_user) and not obligation.waived and not reported
    return {
        "urges": queries.urges_of(obligation.id),
        "requests": requests,
        "may_urge": may_urge,
        "next_urge_at": services.next_urge_allowed_at(obligation) if may_urge else None,
        "may_acknowledge": can_acknowledge_urge(current_user, obligation.department_id),
        "may_request": can_request_extension(current_user, obligation.department_id)
        and not obligation.waived
        and not first_submitted
        and not pending,
        "may_decide": can_decide_extensions(current_user),
        "urge_form": UrgeForm(formdata=None),
        "extension_form": ExtensionRequestForm(formdata=None),
        "approve_form": ApproveExtensionForm(formdata=None),
        "reject_form": RejectExtensionForm(formdata=None),
        "button": EmptyForm(),
        "interval_days": services.urge_interval().days,
    }
