"""催办/签收 and 延期申请: the forms on an obligation's page and the coordinators' list.

The obligation page's follow-up section is rendered by ``templates/followups/_followup.html``
with what :func:`obligation_followup` prepares; it is registered with the reports domain's
page sections when this module is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import Form

from tracker import clock
from tracker.auth import queries as user_queries
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_acknowledge_urge,
    can_decide_extensions,
    can_edit_department_reports,
    can_request_extension,
    can_urge,
    require_acknowledge_urge,
    require_decide_extensions,
    require_edit_department_reports,
    require_request_extension,
    require_urge,
)
from tracker.catalogue.models import Role
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.followups import bp, queries, services
from tracker.followups import signoff as _signoff  # noqa: F401 - registers who hears sign-off
from tracker.followups.forms import (
    ApproveExtensionForm,
    ExtensionRequestForm,
    RejectExtensionForm,
    UrgeForm,
)
from tracker.followups.models import ExtensionRequest, ExtensionState, SupportReminder, Urge
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.notifications.models import Notification, NotificationKind
from tracker.notifications.queries import NoteAction, register_action
from tracker.reports import queries as report_queries
from tracker.reports import workspace
from tracker.reports.forms import report_form_for
from tracker.reports.models import Obligation, ReportState
from tracker.reports.sections import add_obligation_section
from tracker.urls import safe_next
from tracker.web import flash_form_errors, on_error_redirect, on_error_render

PER_PAGE = 50

add_nav("followups.extensions", "延期审批", can_decide_extensions)


def _obligation_page(obligation_id: int, anchor: str = "") -> str:
    return url_for("reports.obligation", obligation_id=obligation_id) + anchor


# What a user typed into a follow-up form on an obligation's page is kept in their session
# until the form succeeds, so that a refusal (which redirects back to the page) loses nothing.
_DRAFT_KEY = "followup-draft"


def _keep_input(obligation_id: int, form_name: str, form: Form) -> None:
    """Remember ``form``'s typed values for the obligation page, until :func:`_forget_input`."""
    values = {name: request.form.get(name, "") for name in form.data if name != "csrf_token"}
    session[_DRAFT_KEY] = {"obligation": obligation_id, "form": form_name, "values": values}


def _forget_input() -> None:
    session.pop(_DRAFT_KEY, None)


def _refused(back: str, errors: dict[str, list[str]]) -> ResponseReturnValue:
    """Back to the obligation page, the form's messages kept with the typed values: the page
    shows each beside its field (a message naming no field, at the top of the form), and the
    first has focus, which scrolls it into view. ``back`` has no #fragment: a browser does not
    autofocus on a page opened at a fragment."""
    draft = session.get(_DRAFT_KEY)
    if draft is not None:
        session[_DRAFT_KEY] = {**draft, "errors": errors}
    return redirect(back.partition("#")[0])


def _refusal(back: str) -> None:
    """Answer a service's refusal later in this request by :func:`_refused`; a refusal that
    names no field is flashed at the top instead (the form may be gone: urged just now)."""

    def answer(error: DomainError) -> ResponseReturnValue:
        if error.field is None:
            flash(error.message, "error")
            return _refused(back, {})
        return _refused(back, {error.field: [error.message]})

    on_error_render(answer)


def _typed(obligation_id: int, form_name: str, form_class: Callable[..., Form]) -> Form:
    """A form filled with what the user typed last time, if that was refused, else empty;
    the refusal's messages stand beside their fields."""
    draft = session.get(_DRAFT_KEY)
    if draft and draft.get("obligation") == obligation_id and draft.get("form") == form_name:
        session.pop(_DRAFT_KEY, None)
        form = form_class(formdata=MultiDict(draft["values"]))
        for name, messages in draft.get("errors", {}).items():
            field = form._fields.get(name) if name else None
            if field is not None:
                field.errors = list(messages)
            else:
                form.form_errors.extend(messages)
        return form
    return form_class(formdata=None)


# -- urges (催办) and acknowledgement (签收) ----------------------------------------------------


@bp.route("/obligations/<int:obligation_id>/urge", methods=["POST"])
def urge(obligation_id: int) -> ResponseReturnValue:
    """A coordinator urges the department of an unsubmitted obligation."""
    obligation = db.session.get(Obligation, obligation_id) or abort(404)
    require_urge(current_user)
    back = _obligation_page(obligation.id, "#urge-form")
    form = UrgeForm()
    _keep_input(obligation.id, "urge", form)
    if not form.validate_on_submit():
        return _refused(back, form.errors)
    _refusal(back)
    services.urge_obligation(obligation, actor=current_user, message=form.message.data or "")
    _forget_input()
    if user_queries.active_liaisons(obligation.department_id):
        flash("已催办，已通知该部门联络员。", "success")
    else:
        flash("已记录催办，但该部门暂无启用的联络员账号，无人接收。", "warning")
    return redirect(back)


@bp.route("/urges/selected", methods=["POST"])
def urge_selected() -> ResponseReturnValue:
    """Bulk 催办 of the obligations ticked on the dashboard's overdue list. The first POST shows
    which will be urged and which cannot be (nothing is written); the confirmed one urges them
    all, or none if any has become impossible meanwhile."""
    require_urge(current_user)
    back = safe_next(request.form.get("next")) or url_for("dashboard.index")
    ids = sorted({int(v) for v in request.form.getlist("ids") if v.isdigit()})
    chosen = report_queries.obligations_by_id(ids)
    form = UrgeForm()

    def confirmation(error: DomainError | None = None) -> ResponseReturnValue:
        if error is not None:
            flash(error.message, "error")
        checked = [(o, services.urge_refusal(o)) for o in chosen]
        page = render_template(
            "followups/urge_selected.html", form=form, back=back,
            eligible=[o for o, refusal in checked if refusal is None],
            skipped=[(o, refusal) for o, refusal in checked if refusal is not None],
        )  # fmt: skip
        return (page, 422) if error is not None or form.errors else page

    if not chosen:
        flash("请先勾选要催办的事项。", "error")
        return redirect(back)
    if request.form.get("confirm") != "1" or not form.validate_on_submit():
        return confirmation()
    on_error_render(confirmation)
    urges = services.urge_obligations(chosen, actor=current_user, message=form.message.data or "")
    flash(f"已催办 {len(urges)} 项，已通知各部门联络员。", "success")
    return redirect(back)


@bp.route("/urges/<int:urge_id>/acknowledge", methods=["POST"])
def acknowledge(urge_id: int) -> ResponseReturnValue:
    """The department's liaison acknowledges (签收) an urge; back to ``next`` (the bell page,
    when signed from a notification) or to the obligation's page."""
    item = db.session.get(Urge, urge_id) or abort(404)
    require_acknowledge_urge(current_user, item.obligation.department_id)
    back = safe_next(request.form.get("next")) or _obligation_page(item.obligation_id, "#urges")
    if EmptyForm().validate_on_submit():
        on_error_redirect(back)
        services.acknowledge_urge(item, actor=current_user)
        flash("已签收催办。", "success")
    return redirect(back)


def urge_actions(notes: Sequence[Notification], user: User) -> dict[int, NoteAction]:
    """签收 on the bell page: each urge notification's urge (the latest of its obligation sent
    before it), with a button while it waits for this liaison, or who signed it and when."""
    urges = queries.urges_of_obligations(n.obligation_id for n in notes if n.obligation_id)
    actions = {}
    for note in notes:
        earlier = [u for u in urges if u.obligation_id == note.obligation_id]
        urge = next((u for u in reversed(earlier) if u.created_at <= note.created_at), None)
        if urge is None:
            continue
        if urge.acknowledged_at is not None:
            who = urge.acknowledged_by.display_name if urge.acknowledged_by else "他人"
            when = clock.local_date(urge.acknowledged_at).isoformat()
            actions[note.id] = NoteAction(f"已由{who}于 {when} 签收")
        elif can_acknowledge_urge(user, urge.obligation.department_id):
            actions[note.id] = NoteAction("签收", url_for("followups.acknowledge", urge_id=urge.id))
    return actions


register_action(NotificationKind.URGE, urge_actions)


# -- extension requests (延期申请) -------------------------------------------------------------


@bp.route("/obligations/<int:obligation_id>/extension", methods=["POST"])
def request_extension(obligation_id: int) -> ResponseReturnValue:
    """A liaison asks for a later due date."""
    obligation = db.session.get(Obligation, obligation_id) or abort(404)
    require_request_extension(current_user, obligation.department_id)
    back = _obligation_page(obligation.id, "#extension-request")
    form = ExtensionRequestForm()
    _keep_input(obligation.id, "extension", form)
    if not form.validate_on_submit():
        return _refused(back, form.errors)
    # Both fields are DataRequired, so a validated form has them.
    assert form.requested_due_date.data is not None and form.reason.data is not None
    _refusal(back)
    services.request_extension(
        obligation,
        actor=current_user,
        requested_due_date=form.requested_due_date.data,
        reason=form.reason.data,
    )
    _forget_input()
    flash("延期申请已提交，等待督办协调员审批。", "success")
    return redirect(back)


@bp.route("/extensions")
def extensions() -> ResponseReturnValue:
    """The coordinators' list: pending requests to decide, then recent decisions."""
    require_decide_extensions(current_user)
    return render_template(
        "followups/extensions.html",
        pending=queries.extension_requests(ExtensionState.PENDING),
        decided=db.paginate(
            queries.extension_requests_query(None),
            page=request.args.get("page", 1, type=int),
            per_page=PER_PAGE,
            error_out=False,
        ),
        approve_form=ApproveExtensionForm(),
        reject_form=RejectExtensionForm(),
    )


def _decide(
    request_id: int,
    form_class: type[ApproveExtensionForm | RejectExtensionForm],
    decide: Callable[..., ExtensionRequest],
    done: str,
) -> ResponseReturnValue:
    item = db.session.get(ExtensionRequest, request_id) or abort(404)
    require_decide_extensions(current_user)
    form = form_class()
    back = safe_next(request.form.get("next")) or url_for("followups.extensions")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(back)
    on_error_redirect(back)
    decide(item, actor=current_user, comment=form.comment.data or "")
    flash(done, "success")
    return redirect(back)


@bp.route("/extensions/<int:request_id>/approve", methods=["POST"])
def approve_extension(request_id: int) -> ResponseReturnValue:
    """A coordinator approves an extension: the due date moves."""
    return _decide(
        request_id, ApproveExtensionForm, services.approve_extension, "已批准延期，截止日期已更新。"
    )


@bp.route("/extensions/<int:request_id>/reject", methods=["POST"])
def reject_extension(request_id: int) -> ResponseReturnValue:
    """A coordinator rejects an extension, saying why."""
    return _decide(request_id, RejectExtensionForm, services.reject_extension, "已驳回延期申请。")


# -- 提醒报送: a lead reminds its supporting departments -----------------------------------------


@bp.route("/obligations/<int:obligation_id>/remind/<int:supporting_id>", methods=["POST"])
def remind_supporting(obligation_id: int, supporting_id: int) -> ResponseReturnValue:
    """The lead's liaison reminds a supporting department that has not submitted.

    From the edit form the button submits the lead's whole form (``form="report-form"``), so
    the page comes back with everything typed, unsaved; from the obligation page it redirects.
    """
    lead = db.session.get(Obligation, obligation_id) or abort(404)
    require_edit_department_reports(current_user, lead.department_id)
    supporting = db.session.get(Obligation, supporting_id) or abort(404)
    if "progress" not in request.form:  # the obligation page's button, not the edit form's
        back = _obligation_page(lead.id, "#support-reminders")
        if EmptyForm().validate_on_submit():
            on_error_redirect(back)
            flash(*_reminded(services.remind_supporting(lead, supporting, actor=current_user)))
        return redirect(back)
    form = report_form_for(lead)  # what the lead typed; kept, neither validated nor saved here

    def refused(error: DomainError) -> ResponseReturnValue:
        flash(error.message, "error")
        return workspace.edit_page(lead, form), 422

    on_error_render(refused)
    message, category = _reminded(services.remind_supporting(lead, supporting, actor=current_user))
    flash(message + "本页填写的内容尚未保存。", category)
    return workspace.edit_page(lead, form)


def _reminded(reminder: SupportReminder) -> tuple[str, str]:
    """The flash message and its category after a 提醒报送."""
    department = reminder.obligation.department.name
    if reminder.recipients:
        return (
            f"已提醒{department}报送本期配合材料（已通知 {reminder.recipients} 名联络员）。",
            "success",
        )
    return f"已记录对{department}的提醒，但该部门暂无启用的联络员账号，无人接收。", "warning"


def support_reminders(obligation: Obligation, *, in_edit: bool = False) -> dict[str, Any]:
    """What ``followups/_support_reminders.html`` shows: for the lead's liaison, the missing
    supporting departments with a 提醒报送 button each; for everyone, the reminders sent."""
    may_remind = obligation.role == Role.LEAD and can_edit_department_reports(
        current_user, obligation.department_id
    )
    missing = (
        [s.obligation for s in report_queries.supporting_inputs(obligation) if s.missing]
        if may_remind
        else []
    )
    today = clock.local_today()
    return {
        "missing": missing,
        "reminded_today": {
            o.id: reminder
            for o in missing
            if (reminder := queries.support_reminder_on(o.id, today)) is not None
        },
        "reminders": queries.support_reminders_of(obligation.id),
        "button": EmptyForm(),
        "in_edit": in_edit,
    }


# -- the obligation page's section -----------------------------------------------------------


def obligation_followup(obligation: Obligation) -> dict[str, Any]:
    """What ``followups/_followup.html`` shows on an obligation's page for the current user."""
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
        "urge_form": _typed(obligation.id, "urge", UrgeForm),
        "extension_form": _typed(obligation.id, "extension", ExtensionRequestForm),
        "approve_form": ApproveExtensionForm(formdata=None),
        "reject_form": RejectExtensionForm(formdata=None),
        "button": EmptyForm(),
        "interval_days": services.urge_interval().days,
    }


add_obligation_section("followup", "followups/_followup.html", obligation_followup)
add_obligation_section("support-reminders", "followups/_support_reminders.html", support_reminders)
add_obligation_section(
    "support-reminders-edit",
    "followups/_support_reminders.html",
    lambda obligation: support_reminders(obligation, in_edit=True),
    page="edit",
)
