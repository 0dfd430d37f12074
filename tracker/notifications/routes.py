"""The bell, one's notifications and their preferences, and the administrators' outbox page."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError

from tracker.auth.permissions import can_manage_users, require_manage_users
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.notifications import bp, queries, services
from tracker.notifications.forms import MarkAllReadForm, PreferencesForm
from tracker.notifications.models import MailMode, NotificationKind, OutboxMessage, OutboxStatus
from tracker.notifications.outbox import SmtpSettings
from tracker.urls import safe_next
from tracker.web import flash_form_errors, on_error_redirect

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


_BODY_LINK = re.compile(r"(\s*链接：)(/(?!/)[A-Za-z0-9/_\-]*)")  # never //host


@bp.app_template_filter("note_body")
def note_body(body: str) -> Markup:
    """A notification's text, escaped, with its ``链接：/path`` lines as links."""
    lines = []
    for line in body.split("\n"):
        match = _BODY_LINK.fullmatch(line)
        if match:
            prefix, path = match.groups()
            lines.append(Markup('{}<a href="{}">{}</a>').format(prefix, path, path))
        else:
            lines.append(escape(line))
    return Markup("\n").join(lines)


@bp.route("/notifications")
def notifications() -> ResponseReturnValue:
    """The signed-in user's notifications, newest first; filtered by kind and read state."""
    kind, state, problems = _filters()
    items = db.paginate(
        queries.notifications_for(current_user.id, kind=kind, state=state),
        page=request.args.get("page", 1, type=int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "notifications/notifications.html",
        items=items,
        kind=kind,
        state=state,
        problems=problems,
        kinds=list(NotificationKind),
        states=queries.READ_STATES,
        unread=queries.unread_by_kind(current_user.id),
        actions=queries.actions_for(items.items, current_user),
        here=request.full_path.rstrip("?"),
        button=EmptyForm(),
        mark_all=MarkAllReadForm(kind=kind.value if kind else ""),
    )


def _filters() -> tuple[NotificationKind | None, str, list[str]]:
    """``kind`` and ``state`` from the query string (``unread=1`` is the bell's old link);
    an unknown value is named and ignored."""
    problems = []
    kind_arg = request.args.get("kind", "")
    kind = next((k for k in NotificationKind if k.value == kind_arg), None)
    if kind_arg and kind is None:
        problems.append(f"未知的通知类型“{kind_arg[:32]}”，已显示全部类型。")
    state = request.args.get("state", "unread" if request.args.get("unread") == "1" else "")
    if state not in queries.READ_STATES:
        problems.append(f"未知的阅读状态“{state[:32]}”，已显示全部通知。")
        state = ""
    return kind, state, problems


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
    """Mark every unread notification of one's own read (or those of one kind)."""
    form = MarkAllReadForm()
    back = safe_next(request.form.get("next")) or url_for("notifications.notifications")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(back)
    count = services.mark_all_read(current_user, form.chosen_kind)
    what = f"“{form.chosen_kind.label}”" if form.chosen_kind else ""
    flash(f"已将 {count} 条{what}通知标为已读。", "success")
    return redirect(back)


@bp.route("/profile/notifications", methods=["GET", "POST"])
def preferences() -> ResponseReturnValue:
    """One's own choices: per kind in the app only or also by e-mail; each time or a digest."""
    user = current_user._get_current_object()
    form = PreferencesForm()
    if request.method == "GET":
        form.fill(queries.email_choices(user.id), queries.mail_mode(user.id))
    elif form.validate_on_submit():
        changed = services.save_preferences(user, form.emails(), MailMode(form.mode.data))
        flash("通知设置已保存。" if changed else "通知设置没有变化。", "success")
        return redirect(url_for("notifications.preferences"))
    page = render_template(
        "notifications/preferences.html",
        form=form,
        digest_at=current_app.config["TRACKER_DIGEST_AT"],
        has_email=bool((user.email or "").strip()),
    )
    return page, 422 if request.method == "POST" else 200


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
