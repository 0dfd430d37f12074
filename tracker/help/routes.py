"""The help pages: one per role (any signed-in user may read each), and sign-in help that
needs no login (it states nothing internal)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from tracker.auth.models import UserRole
from tracker.help import bp, queries


@bp.app_context_processor
def _help_link() -> dict[str, Callable[[], str]]:
    """``help_url()``: the 操作说明 of the signed-in user's role (sign-in help otherwise)."""

    def help_url() -> str:
        if current_user.is_authenticated:
            return url_for(queries.endpoint_for(current_user.role))
        return url_for("help.sign_in")

    return {"help_url": help_url}


@bp.route("")
def index() -> ResponseReturnValue:
    """The help of the signed-in user's own role."""
    return redirect(url_for(queries.endpoint_for(current_user.role)))


def _role_page(role: UserRole) -> str:
    # Each role reads its own page: another role's page links to pages this user cannot open.
    if current_user.role != role:
        abort(403)
    return render_template(
        f"help/{role.value}.html",
        role=role,
        pages=queries.ROLE_PAGES,
        facts=queries.facts(),
        contacts=queries.contacts(),
    )


@bp.route("/liaison")
def liaison() -> ResponseReturnValue:
    return _role_page(UserRole.LIAISON)


@bp.route("/coordinator")
def coordinator() -> ResponseReturnValue:
    return _role_page(UserRole.COORDINATOR)


@bp.route("/approver")
def approver() -> ResponseReturnValue:
    return _role_page(UserRole.APPROVER)


@bp.route("/viewer")
def viewer() -> ResponseReturnValue:
    return _role_page(UserRole.VIEWER)


@bp.route("/admin")
def admin() -> ResponseReturnValue:
    return _role_page(UserRole.ADMIN)


@bp.route("/security_admin")
def security_admin() -> ResponseReturnValue:
    return _role_page(UserRole.SECURITY_ADMIN)


@bp.route("/auditor")
def auditor() -> ResponseReturnValue:
    return _role_page(UserRole.AUDITOR)


@bp.route("/sign-in")
def sign_in() -> ResponseReturnValue:
    """Public: how to sign in, what locks an account, whom to ask (no names, no data)."""
    return render_template("help/sign_in.html", **queries.sign_in_facts())


@bp.route("/county")
def county() -> ResponseReturnValue:
    return _role_page(UserRole.COUNTY)
