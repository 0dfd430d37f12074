"""The bell, one's notifications, and the administrators' outbox page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from tracker.auth.permissions import can_manage_users, require_manage_users
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.notifications import bp, queries, services
from tracker.notifications.models import OutboxMessage, OutboxStatus
from tracker.notifications.outbox import SmtpSettings
from tracker.urls import safe_next
from tracker.web import on_error_redirect

logger = logging.getLogger(__name__)
PER_PAGE = 50

add_nav("notifications.outbox", "邮件发送", can_manage_users)


@bp.app_context_processor
def _bell() -> dict[str, Callable[[], int | None]]:
    """``unread_notifications()`` for the bell; only called for signed-in users."""

    def unread_notifications() -> int | None:
        if not current_user.is_authenticated:
            return 0
        try:
            return queries.unread_count(current_user.id)
        except SQLAlchemyError:  # e.g. while rendering the error page of a failed request
            logger.exception("could not count unread notifications")
            db.session.rollback()  # the page still renders; its transaction is over anyway
            return None

    return {"unread_notifications": unread_notifications}


@bp.route("/notifications")
def notifications() -> ResponseReturnValue:
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
        "notifications/notifications.html",
        items=items,
        unread_only=unread_only,
        button=EmptyForm(),
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def mark_read(notification_id: int) -> ResponseReturnValue:
    """Mark one's own notification read; with ``open=1`` go on to what it links to."""
    note = queries.notification_of(notification_id, current_user.id) or abort(404)
    if EmptyForm().validate_on_submit():
        services.mark_read(note)
        if request.form.get("open") and note.link:
            return redirect(safe_next(note.link) or url_for("notifications.notifications"))
    default = url_for("notifications.notifications")
    return redirect(safe_next(request.form.get("next")) or default)


@bp.route("/notifications/read-all", methods=["POST"])
def mark_all_read() -> ResponseReturnValue:
    """Mark every unread notification of one's own read."""
    if EmptyForm().validate_on_submit():
        count = services.mark_all_read(current_user)
        flash(f"已将 {count} 条通知标为已读。", "success")
    return redirect(url_for("notifications.notifications"))


@bp.route("/admin/outbox")
def outbox() -> ResponseReturnValue:
    """Every e-mail the system wrote, its state, its last error; failed ones can be retried."""
    require_manage_users(current_user)
    status = request.args.get("status", "")
    chosen = OutboxStatus(status) if status in {s.value for s in OutboxStatus} else None
    return render_template(
        "notifications/outbox.html",
        messages=db.paginate(
            queries.outbox_query(chosen),
            page=request.args.get("page", 1, type=int),
            per_page=PER_PAGE,
            error_out=False,
        ),
        counts=queries.outbox_counts(),
        chosen=chosen,
        statuses=list(OutboxStatus),
        retryable=services.RETRYABLE,
        smtp=SmtpSettings.from_config(current_app.config),
        button=EmptyForm(),
    )


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
def retry_message(message_id: int) -> ResponseReturnValue:
    """Queue a failed (or waiting) message again."""
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    require_manage_users(current_user)
    back = url_for("notifications.outbox", status=request.args.get("status") or None)
    if EmptyForm().validate_on_submit():
        on_error_redirect(back)
        services.retry_message(message, actor=current_user)
        flash(f"邮件 #{message.id} 已重新排队，将由发送任务在一分钟内发送。", "success")
    return redirect(back)
