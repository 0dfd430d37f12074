"""The auditor's page ``/audit``: the trail filtered by time, actor, department, action and
outcome, newest first, paged by key (``?before_id=``). The audit administrator only."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.audit import bp
from tracker.audit.forms import OUTCOME_LABELS, SUGGESTED_ACTIONS, TrailFilterForm
from tracker.audit.queries import TrailPage, trail_page
from tracker.auth.permissions import can_read_audit_trail, require_read_audit_trail
from tracker.catalogue import queries as catalogue_queries
from tracker.navigation import add_nav

BIGGEST_ID = 2**63 - 1

add_nav("audit.index", "审计日志", can_read_audit_trail, position=0)


def filter_form() -> tuple[TrailFilterForm, dict[int, str]]:
    """The filter form read from the query string, its department menu filled; and the
    departments' names by id."""
    departments = {d.id: d.name for d in catalogue_queries.departments()}
    form = TrailFilterForm(request.args)
    form.fill(list(departments.items()))
    return form, departments


def before_id_arg() -> int | None:
    """``?before_id=`` as a row id; anything else starts at the newest row."""
    text = request.args.get("before_id", "")
    if text.isascii() and text.isdigit() and 0 < int(text) <= BIGGEST_ID:
        return int(text)
    return None


@bp.route("")
def index() -> ResponseReturnValue:
    """The filtered trail; wrong filter input is shown back with its message (no rows)."""
    require_read_audit_trail(current_user)
    form, departments = filter_form()
    valid = form.validate()
    page = TrailPage([], None)
    if valid:
        page = trail_page(form.to_filter(), before_id=before_id_arg())
    status = 200 if valid else 422
    return render_template(
        "audit/index.html", form=form, page=page, valid=valid, args=form.filter_args(),
        departments=departments, outcomes=OUTCOME_LABELS, actions=SUGGESTED_ACTIONS,
        first_page=before_id_arg() is None,
    ), status  # fmt: skip
