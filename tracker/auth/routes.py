"""Sign in, sign out, change one's password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from tracker.auth import bp
from tracker.auth.forms import ChangePasswordForm, LoginForm
from tracker.auth.queries import user_by_username
from tracker.auth.services import change_password, note_login
from tracker.forms import EmptyForm


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
        user = user_by_username(form.username.data)
        if user is None or not user.active or not user.check_password(form.password.data):
            flash("用户名或密码不正确，或账号已停用。", "error")
            return render_template("auth/login.html", form=form), 200
        login_user(user, remember=form.remember.data)
        note_login(user)
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
