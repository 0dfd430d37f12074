"""The administrator's home, and the to-do block on every role's landing page."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker import clock
from tracker.auth.models import User
from tracker.auth.permissions import can_manage_users, require_manage_users
from tracker.home import bp, todo
from tracker.navigation import add_landing_block, add_nav
from tracker.reports import queries as report_queries


def _todo(user: User) -> list[todo.Item] | None:
    return todo.for_user(user) if user.is_authenticated else None


add_landing_block("todo", "home/_todo.html", _todo)
add_nav("home.admin", "系统管理", can_manage_users, position=0)


@bp.route("/admin")
def admin() -> ResponseReturnValue:
    """The administrator's landing page: what needs doing, the calendar, the admin pages."""
    require_manage_users(current_user)
    today = clock.local_today()
    calendar = report_queries.calendar()
    years = range(today.year - 1, today.year + 3)
    return render_template(
        "home/admin.html",
        coverage=[(year, calendar.is_officially_covered(year)) for year in years],
        extra_holidays=sorted(calendar.extra_holidays),
        extra_workdays=sorted(calendar.extra_workdays),
        today=today,
    )
