"""Sign in, sign out, change one's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker.api import queries as token_queries
from tracker.api import services as token_services
from tracker.auth import bp
from tracker.auth import queries as user_queries
from tracker.auth import services as user_services
from tracker.auth.forms import ChangePasswordForm, LoginForm, TokenForm, UserForm
from tracker.auth.models import User
from tracker.auth.permissions import can_manage_users, require_manage_users
from tracker.auth.services import SignInRefused, change_password, sign_in
from tracker.catalogue import queries as catalogue_queries
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.navigation import add_nav

add_nav("auth.users", "用户管理", can_manage_users)


def safe_next(target: str | None) -> str | None:
    """Only local paths are followed after sign-in (no open redirects)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in(form.username.data, form.password.data)
        except SignInRefused as exc:
            # 200, not 4xx: the request's commit keeps the failure just counted.
            flash(str(exc), "error")
            return render_template("auth/login.html", form=form), 200
        login_user(user, remember=form.remember.data)
        return redirect(safe_next(request.args.get("next")) or url_for("catalogue.home"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append("当前密码不正确")
        else:
            user = current_user._get_current_object()
            change_password(user, form.new_password.data)
            login_user(user)  # the session id changes with the password
            flash("密码已修改。", "success")
            return redirect(url_for("catalogue.home"))
    return render_template("auth/password.html", form=form)


@bp.route("/profile/tokens", methods=["GET", "POST"])
def tokens():
    """One's own API tokens; a new token is shown once, in the response that issues it."""
    user = current_user._get_current_object()
    form, issued = TokenForm(), None
    if form.validate_on_submit():
        try:
            token, raw = token_services.create_token(user, name=form.name.data, actor=user)
            issued = {"token": token, "raw": raw}
            form.name.data = ""  # ready for the next one
        except token_services.TokenError as exc:
            form.name.errors.append(str(exc))
    page = render_template(
        "auth/tokens.html", form=form, issued=issued, button=EmptyForm(),
        tokens=token_queries.tokens_of(user),
    )  # fmt: skip
    status = 422 if request.method == "POST" and issued is None else 200
    return page, status, {"Cache-Control": "no-store"}  # the new token must not be cached


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    """Revoke one of one's own tokens (another user's token is as good as missing)."""
    token = token_queries.token_of(current_user, token_id) or abort(404)
    if EmptyForm().validate_on_submit():
        token_services.revoke_token(token, actor=current_user._get_current_object())
        flash(f"令牌“{token.name}”已撤销，使用它的系统将无法再访问接口。", "success")
    return redirect(url_for("auth.tokens"))


# -- accounts (administrators) ---------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
def users():
    """Every account, its state and lock; a new account gets a one-time password, shown once."""
    require_manage_users(current_user)
    departments = catalogue_queries.departments()
    form = UserForm(departments=departments)
    issued = None
    if form.validate_on_submit():
        try:
            issued = _create_user(form)
            form = UserForm(formdata=None, departments=departments)  # ready for the next one
        except user_services.UserError as exc:
            db.session.rollback()
            form.username.errors.append(str(exc))
    status = 422 if request.method == "POST" and issued is None else 200
    return _users_page(form, issued), status, {"Cache-Control": "no-store"}


def _create_user(form: UserForm) -> dict:
    password = user_services.generate_password()
    department = form.department.data
    user = user_services.create_user(
        form.username.data,
        role=form.role.data,
        password=password,
        department=user_services.resolve_department(department) if department else None,
        display_name=form.display_name.data or None,
        email=form.email.data or None,
        must_change_password=True,
        actor=current_user._get_current_object(),
    )
    return {"user": user, "password": password, "created": True}


def _users_page(form: UserForm | None = None, issued: dict | None = None):
    """The accounts page; without ``form``, an empty form for a new account."""
    return render_template(
        "auth/users.html",
        form=form or UserForm(formdata=None, departments=catalogue_queries.departments()),
        issued=issued,
        users=list(db.session.scalars(user_queries.users_ordered())),
        locked=user_queries.locked_usernames(),
        button=EmptyForm(),
    )


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
def reset_user_password(user_id: int):
    """A new one-time password for a forgotten one, shown once on the page."""
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.users"))
    password = user_services.reset_password(user, actor=current_user._get_current_object())
    issued = {"user": user, "password": password, "created": False}
    return _users_page(issued=issued), 200, {"Cache-Control": "no-store"}


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    return _account_change(user, user_services.deactivate_user, f"已停用 {user.username}。")


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
def activate_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    return _account_change(user, user_services.activate_user, f"已启用 {user.username}。")


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
def unlock_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    return _account_change(
        user,
        lambda target, actor: user_services.unlock_username(target.username, actor=actor),
        f"已解除 {user.username} 的登录锁定。",
    )


def _account_change(user: User, change, done: str):
    """Apply one account change from a button, with its message (or the refusal's)."""
    if EmptyForm().validate_on_submit():
        try:
            change(user, actor=current_user._get_current_object())
            flash(done, "success")
        except user_services.UserError as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("auth.users"))
