"""Sign in, sign out, change one's password.

Signing in is required by the application's one ``_require_login`` hook (default deny), so
no view here repeats it with Flask-Login's decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from markupsafe import Markup

from tracker.auth import bp, liaisons, second_factor, sessions
from tracker.auth import queries as user_queries
from tracker.auth import services as user_services
from tracker.auth.forms import (
    ChangePasswordForm,
    EnrolSecondFactorForm,
    LoginForm,
    RegenerateRecoveryCodesForm,
    RemoveSecondFactorForm,
    SecondFactorLoginForm,
    UserEditForm,
    UserForm,
)
from tracker.auth.models import User
from tracker.auth.permissions import (
    can_manage_security,
    can_reset_second_factor,
    can_view_accounts,
    require_manage_security,
    require_manage_users,
    require_reset_second_factor,
    require_view_accounts,
    require_view_all_contacts,
    require_view_contacts,
)
from tracker.auth.services import change_password, password_expired, sign_in
from tracker.catalogue import queries as catalogue_queries
from tracker.db import to_local
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.forms import EmptyForm
from tracker.navigation import add_nav
from tracker.ratelimit import limiter, login_per_address
from tracker.urls import safe_next
from tracker.web import (
    Choice,
    confirmation_page,
    confirmed,
    field_error,
    on_error_redirect,
    on_error_render,
)

add_nav("auth.users", "用户管理", can_view_accounts)
add_nav("auth.security_policy", "安全策略", can_manage_security)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_per_address, methods=["POST"], on_breach=lambda _limit: _login_flooded())
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    on_error_render(lambda error: _login_refused(form, error))
    assert form.username.data is not None and form.password.data is not None  # DataRequired
    address = sessions.client_address()
    user = sign_in(form.username.data, form.password.data, address, note=False)
    next_url = safe_next(request.args.get("next"))
    if second_factor.is_enrolled(user):
        sessions.start_pending(user, address, next_url)  # not signed in until the code is right
        return redirect(url_for("auth.second_factor_login"))
    user_services.note_login(user, address)
    sessions.open_session(user)  # a new session id at every sign-in
    return redirect(next_url or url_for("catalogue.home"))


def _login_flooded() -> Response:
    """Too many sign-in requests from this address: the form again, the username kept, 429."""
    form = LoginForm()
    flash("该地址的登录请求过于频繁，请稍后再试。", "error")
    return make_response(render_template("auth/login.html", form=form), 429)


def _login_refused(form: LoginForm, error: DomainError) -> ResponseReturnValue:
    """The sign-in page again with the username typed; the failure was counted apart."""
    flash(error.message, "error")
    return render_template("auth/login.html", form=form)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(login_per_address, methods=["POST"], on_breach=lambda _limit: _code_flooded())
def second_factor_login() -> ResponseReturnValue:
    """The second step of signing in: the password was right, the code is still to come."""
    if current_user.is_authenticated:
        return redirect(url_for("catalogue.home"))
    pending = sessions.pending_sign_in()
    if pending is None:
        return redirect(url_for("auth.login"))
    if pending.expired:
        sessions.drop_pending()
        flash("登录已超时：请在输入密码后 5 分钟内输入动态口令。请重新输入用户名和密码。", "error")
        return redirect(url_for("auth.login"))
    form = SecondFactorLoginForm()
    if not form.validate_on_submit():
        return _code_page(form)
    on_error_render(lambda error: _code_page(form, error))
    assert form.code.data is not None  # DataRequired
    second_factor.verify(pending.user, form.code.data, pending.address)
    user_services.note_login(pending.user, pending.address)
    sessions.open_session(pending.user)  # a new session id; the pending sign-in is gone
    return redirect(safe_next(pending.next) or url_for("catalogue.home"))


def _code_page(
    form: SecondFactorLoginForm, error: DomainError | None = None
) -> ResponseReturnValue:
    """The code form (again, with the refusal beside the field); a wrong code was counted."""
    if error is not None:
        form.code.errors = [*form.code.errors, error.message]
    status = 422 if request.method == "POST" else 200
    return render_template("auth/second_factor_login.html", form=form), status


def _code_flooded() -> Response:
    """Too many code requests from this address: the code form again, 429."""
    flash("该地址的登录请求过于频繁，请稍后再试。", "error")
    page = render_template("auth/second_factor_login.html", form=SecondFactorLoginForm())
    return make_response(page, 429)


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    form = EmptyForm()
    if form.validate_on_submit():
        sessions.end_current("logout")  # on the server: a replayed cookie signs nobody in
        logout_user()
        flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    if current_user.directory_dn is not None:
        message = "您的账号由目录服务（统一身份认证）管理，密码请在目录服务中修改。"
        page = render_template("error.html", code=409, title="密码由目录服务管理", message=message)
        return page, 409
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors = [*form.current_password.errors, "当前密码不正确"]
        else:
            assert form.new_password.data is not None  # DataRequired
            on_error_render(lambda error: _password_page(form, error))
            user = current_user._get_current_object()
            change_password(user, form.new_password.data)  # ends every session of the user
            sessions.rotate_session(user)  # this browser goes on under a new session id
            flash("密码已修改，您在其他设备上的登录已全部退出。", "success")
            return redirect(url_for("catalogue.home"))
    return _password_page(form)


def _password_page(form: ChangePasswordForm, error: DomainError | None = None) -> tuple[str, int]:
    if error is not None:
        field_error(form, error)
    page = render_template(
        "auth/password.html", form=form, expired=password_expired(current_user),
        max_age_days=current_app.config["TRACKER_PASSWORD_MAX_AGE_DAYS"],
    )  # fmt: skip
    return page, 422 if form.errors else 200


# -- one's own sessions ----------------------------------------------------------------------


@bp.route("/account/sessions")
def my_sessions() -> ResponseReturnValue:
    """The user's open sessions (where, which browser, since when), this one marked."""
    current = sessions.current_session()
    return render_template(
        "auth/sessions.html", rows=sessions.open_sessions_of(current_user),
        current_id=current.id if current else None, button=EmptyForm(),
        idle_minutes=current_app.config["TRACKER_SESSION_IDLE_MINUTES"],
        max_hours=current_app.config["TRACKER_SESSION_MAX_HOURS"],
    ), 200, {"Cache-Control": "no-store"}  # fmt: skip


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of one's other sessions (a browser left signed in elsewhere)."""
    back = url_for("auth.my_sessions")
    current = sessions.current_session()
    row = sessions.own_open_session(current_user, session_id) or abort(404)
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    if current is not None and current.id == session_id:
        flash("这是当前会话；要结束它，请退出登录。", "error")
        return redirect(back)
    if not confirmed():
        return confirmation_page(
            title="确认结束这个会话",
            lines=[
                f"结束 {to_local(row.created_at):%Y-%m-%d %H:%M} "
                f"自 {row.client_address or '未知地址'} 登录的会话"
                f"（{(row.user_agent or '未知浏览器')[:80]}）；",
                "该会话所在的浏览器随即退出登录，需重新登录；此操作记入审计日志。",
            ],
            action=url_for("auth.end_session", session_id=session_id),
            button="确认结束会话", cancel=back,
        )  # fmt: skip
    if sessions.end_one(current_user._get_current_object(), session_id):
        flash("该会话已结束。", "success")
    else:
        flash("该会话已结束或不存在。", "info")
    return redirect(back)


@bp.route("/account/sessions/end-others", methods=["POST"])
def end_other_sessions() -> ResponseReturnValue:
    """End every session of the user but this one."""
    back = url_for("auth.my_sessions")
    if not EmptyForm().validate_on_submit():
        return redirect(back)
    if not confirmed():
        return confirmation_page(
            title="确认结束其他全部会话",
            lines=[
                "除当前浏览器外，您在其他设备和浏览器上的登录随即全部退出；",
                "此操作记入审计日志。",
            ],
            action=url_for("auth.end_other_sessions"), button="确认结束其他会话", cancel=back,
        )  # fmt: skip
    current = sessions.current_session()
    ended = sessions.end_sessions(
        current_user._get_current_object(), "ended_by_user",
        actor=current_user._get_current_object(), except_id=current.id if current else None,
    )  # fmt: skip
    flash(f"已结束其他 {ended} 个会话。" if ended else "没有其他会话。", "success")
    return redirect(back)


# -- one's own second factor ------------------------------------------------------------------


@bp.route("/account/second-factor", methods=["GET", "POST"])
def my_second_factor() -> ResponseReturnValue:
    """Enrol a second factor (QR code, secret for typing, first code), or its state once
    enrolled. A user whose role requires one reaches no other page until it is enrolled."""
    user = current_user._get_current_object()
    if second_factor.is_enrolled(user):
        return _factor_page(user) if request.method == "GET" else redirect(request.path)
    secret = sessions.enrolment_secret(user, second_factor.new_secret)
    form = EnrolSecondFactorForm()
    if not form.validate_on_submit():
        return _enrol_page(user, secret, form)
    on_error_render(lambda error: _enrol_page(user, secret, form, error))
    assert form.code.data is not None  # DataRequired
    codes = second_factor.enrol(user, secret, form.code.data)
    sessions.drop_enrolment_secret()
    flash(
        "已启用双因素认证：今后登录时，输入密码后还须输入身份验证器应用显示的动态口令。", "success"
    )
    return _factor_page(user, codes=codes)


def _enrol_page(
    user: User, secret: str, form: EnrolSecondFactorForm, error: DomainError | None = None
) -> ResponseReturnValue:
    if error is not None:
        form.code.errors = [*form.code.errors, error.message]
    uri = second_factor.provisioning_uri(user, secret)
    page = render_template(
        "auth/second_factor.html", enrolled=False, form=form, secret=secret,
        grouped_secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr=Markup(second_factor.qr_svg(uri)),  # noqa: S704 (segno's own SVG, nothing typed)
        required=second_factor.is_required(user),
    )  # fmt: skip
    status = 422 if request.method == "POST" else 200
    return page, status, {"Cache-Control": "no-store"}


def _factor_page(
    user: User,
    *,
    codes: list[str] | None = None,
    regenerate: RegenerateRecoveryCodesForm | None = None,
    remove: RemoveSecondFactorForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """The enrolled factor's state; ``codes``: new recovery codes, shown this once."""
    factor = second_factor.factor_of(user)
    page = render_template(
        "auth/second_factor.html", enrolled=True, factor=factor, codes=codes,
        unused=second_factor.unused_recovery_codes(user),
        total=second_factor.RECOVERY_CODES, required=second_factor.is_required(user),
        regenerate=regenerate or RegenerateRecoveryCodesForm(formdata=None),
        remove=remove or RemoveSecondFactorForm(formdata=None),
    )  # fmt: skip
    return page, status, {"Cache-Control": "no-store"}


def _release_write_lock() -> None:
    """Commit what the request wrote so far (the session's last activity) before a code is
    checked: a wrong code is counted and audited in transactions of their own, which on SQLite
    would otherwise wait for this request's write lock until they time out."""
    db.session.commit()


@bp.route("/account/second-factor/recovery-codes", methods=["POST"])
def regenerate_recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes (shown once); the old ones stop working."""
    user = current_user._get_current_object()
    if not second_factor.is_enrolled(user):
        return redirect(url_for("auth.my_second_factor"))
    form = RegenerateRecoveryCodesForm()
    if not form.validate_on_submit():
        return _factor_page(user, regenerate=form, status=422)

    def refused(error: DomainError) -> ResponseReturnValue:
        form.regenerate_code.errors = [*form.regenerate_code.errors, error.message]
        return _factor_page(user, regenerate=form, status=422)

    on_error_render(refused)
    assert form.regenerate_code.data is not None  # DataRequired
    _release_write_lock()
    codes = second_factor.regenerate_recovery_codes(
        user, form.regenerate_code.data, sessions.client_address()
    )
    flash("已重新生成恢复码，原有的恢复码全部作废。", "success")
    return _factor_page(user, codes=codes)


@bp.route("/account/second-factor/remove", methods=["POST"])
def remove_second_factor() -> ResponseReturnValue:
    """Remove one's own second factor, with a current code (not if one's role requires it)."""
    user = current_user._get_current_object()
    back = url_for("auth.my_second_factor")
    if not second_factor.is_enrolled(user):
        return redirect(back)
    if second_factor.is_required(user):
        flash("您的角色必须启用双因素认证，不能停用。", "error")
        return redirect(back)
    form = RemoveSecondFactorForm()
    if not form.validate_on_submit():
        return _factor_page(user, remove=form, status=422)
    assert form.remove_code.data is not None  # DataRequired
    if not confirmed():
        return confirmation_page(
            title="确认停用双因素认证",
            lines=[
                "停用后，登录时只需输入用户名和密码；",
                "身份验证器应用中的这个账号和全部恢复码随即作废，需要时可重新启用；",
                "此操作记入审计日志。",
            ],
            action=url_for("auth.remove_second_factor"), button="确认停用", cancel=back,
            fields={"remove_code": form.remove_code.data},
        )  # fmt: skip

    def refused(error: DomainError) -> ResponseReturnValue:
        form.remove_code.errors = [*form.remove_code.errors, error.message]
        return _factor_page(user, remove=form, status=422)

    on_error_render(refused)
    _release_write_lock()
    second_factor.remove(user, form.remove_code.data, sessions.client_address())
    flash("已停用双因素认证。", "success")
    return redirect(back)


# -- accounts (administrators) ---------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
def users() -> ResponseReturnValue:
    """Every account, its state and lock; a new account gets a one-time password, shown once.

    The security administrator reads the list (to unlock and reset); only the system
    administrator creates accounts."""
    require_view_accounts(current_user)
    if request.method == "POST":
        require_manage_users(current_user)
    departments = catalogue_queries.assignable_departments()
    form = UserForm(departments=departments)
    issued = None
    if form.validate_on_submit():
        on_error_render(lambda error: _users_refused(form, error))
        issued = _create_user(form)
        form = UserForm(formdata=None, departments=departments)  # ready for the next one
    status = 422 if request.method == "POST" and issued is None else 200
    return _users_page(form, issued), status, {"Cache-Control": "no-store"}


def _users_refused(form: UserForm, error: DomainError) -> ResponseReturnValue:
    """The accounts page again, the refusal beside its field (or atop the form), input kept."""
    field_error(form, error)
    return _users_page(form), 422, {"Cache-Control": "no-store"}


def _create_user(form: UserForm) -> dict[str, Any]:
    assert form.username.data is not None  # DataRequired: a validated form has it
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


USERS_PER_PAGE = 50


def _users_page(form: UserForm | None = None, issued: dict[str, Any] | None = None) -> str:
    """The accounts page; without ``form``, an empty form for a new account."""
    return render_template(
        "auth/users.html",
        form=form
        or UserForm(formdata=None, departments=catalogue_queries.assignable_departments()),
        issued=issued,
        users=db.paginate(
            user_queries.users_ordered(),
            page=request.args.get("page", 1, type=int),
            per_page=USERS_PER_PAGE,
            error_out=False,
        ),
        locked=user_queries.locked_usernames(),
        open_sessions=sessions.open_session_counts() if can_manage_security(current_user) else None,
        enrolled=(
            second_factor.enrolled_user_ids() if can_reset_second_factor(current_user) else None
        ),
        button=EmptyForm(),
    )


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int) -> ResponseReturnValue:
    """An account's name, e-mail, phone, role and department; the username stays."""
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    departments = catalogue_queries.assignable_departments(keep=user.department)
    form = UserEditForm(obj=user, departments=departments)
    if request.method == "GET":
        form.role.data = user.role.value
        form.department.data = user.department.code if user.department else ""
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("auth/user_edit.html", form=form, user=user), status
    on_error_render(lambda error: _edit_refused(form, user, error))
    department = form.department.data
    changed = user_services.edit_user(
        user,
        display_name=form.display_name.data or "",
        email=form.email.data or None,
        phone=form.phone.data or None,
        role=form.role.data,
        department=user_services.resolve_department(department) if department else None,
        actor=current_user._get_current_object(),
    )
    current = sessions.current_session()
    if changed and user.id == current_user.id and current and current.ended_at is not None:
        sessions.rotate_session(user)  # one's own privilege change ended it: a new session id
    flash(f"已保存 {user.username} 的修改。" if changed else "没有修改任何内容。", "success")
    return redirect(url_for("auth.users"))


def _edit_refused(form: UserEditForm, user: User, error: DomainError) -> ResponseReturnValue:
    """The edit page again, the refusal beside its field, the input kept."""
    field_error(form, error)
    return render_template("auth/user_edit.html", form=form, user=user), 422


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
def reset_user_password(user_id: int) -> ResponseReturnValue:
    """A new one-time password for a forgotten one, shown once on the page.

    The security administrator's (a credential, like a lock): the system administrator, who
    makes accounts, cannot take over an existing one, the auditor's included."""
    user = db.session.get(User, user_id) or abort(404)
    require_manage_security(current_user)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.users"))
    if not confirmed():
        return confirmation_page(
            title=f"确认重置 {user.username} 的密码",
            lines=[
                f"为 {user.username}（{user.display_name}）生成新的一次性密码，"
                "只在下一页显示一次；",
                "其原密码立即失效，已登录的会话随即退出，下次登录后须修改密码；",
                "解除该用户名的登录锁定；此操作记入审计日志。",
            ],
            action=url_for("auth.reset_user_password", user_id=user.id),
            button="确认重置密码",
            cancel=url_for("auth.users"),
        )
    password = user_services.reset_password(user, actor=current_user._get_current_object())
    issued = {"user": user, "password": password, "created": False}
    return _users_page(issued=issued), 200, {"Cache-Control": "no-store"}


@bp.route("/admin/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate_user(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    valid = EmptyForm().validate_on_submit()
    held = liaisons.holdings_of(user) if user.active else []
    others = (
        liaisons.active_liaisons(user.department_id, besides=user)
        if held and user.department_id is not None
        else []
    )
    successor, problem = None, ""
    if valid and confirmed() and others:
        successor = next((u for u in others if str(u.id) == request.form.get("successor")), None)
        problem = "" if successor else "请选择接手的联络员。"
    if valid and (not confirmed() or problem):
        return _deactivation_page(user, held, others, problem)
    if not valid:
        return _account_change(user, user_services.deactivate_user, "")

    def deactivate(target: User, *, actor: User) -> None:
        if held:
            liaisons.hand_over(target, successor, actor=actor)
        user_services.deactivate_user(target, actor=actor)

    done = f"已停用 {user.username}。"
    if successor is not None:
        done += f"其工作已交接给 {successor.display_name}（{successor.username}）。"
    elif held:
        done += "本部门已没有其他启用中的联络员，请尽快为该部门新建或启用联络员账号。"
    return _account_change(user, deactivate, done)


def _deactivation_page(
    user: User, held: list[str], others: list[User], problem: str
) -> ResponseReturnValue:
    lines = [
        f"停用 {user.username}（{user.display_name}，{user.role.label}"
        + (f" · {user.department.name}" if user.department else "")
        + "），其已登录的会话随即失效，也不能再登录；",
        "其接口令牌随之失效，不再收到提醒和通知；",
        "账号和填报记录保留，可随时重新启用；此操作记入审计日志。",
    ]
    choice = None
    if held and others:
        lines.append("交接给所选的本部门联络员（记入审计日志）：" + "；".join(held))
        choice = Choice(
            "successor", "接手的联络员",
            [(str(u.id), f"{u.display_name}（{u.username}）") for u in others],
            request.form.get("successor", ""), problem,
        )  # fmt: skip
    elif held:
        lines.append(
            "本部门没有其他启用中的联络员，无人接手：" + "；".join(held)
            + "。停用后该部门将列入督办协调员的待办“无在岗联络员的部门”。"
        )  # fmt: skip
    return confirmation_page(
        title=f"确认停用账号 {user.username}",
        lines=lines,
        action=url_for("auth.deactivate_user", user_id=user.id),
        button="确认停用",
        cancel=url_for("auth.users"),
        choice=choice,
    )


@bp.route("/admin/users/<int:user_id>/activate", methods=["POST"])
def activate_user(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    require_manage_users(current_user)
    return _account_change(user, user_services.activate_user, f"已启用 {user.username}。")


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
def unlock_user(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id) or abort(404)
    require_manage_security(current_user)
    return _account_change(
        user,
        lambda target, actor: user_services.unlock_username(target.username, actor=actor),
        f"已解除 {user.username} 的登录锁定。",
    )


@bp.route("/admin/users/<int:user_id>/end-access", methods=["POST"])
def end_user_access(user_id: int) -> ResponseReturnValue:
    """Sign a user out everywhere: web sessions end, API tokens are revoked (the security
    administrator's, for a lost device or a suspected takeover)."""
    user = db.session.get(User, user_id) or abort(404)
    require_manage_security(current_user)
    if EmptyForm().validate_on_submit() and not confirmed():
        return confirmation_page(
            title=f"确认强制 {user.username} 下线",
            lines=[
                f"{user.username}（{user.display_name}）在所有浏览器和设备上的登录会话随即结束，"
                "须重新登录；",
                "其全部接口令牌永久撤销，需要时由本人登录后重新生成；密码不变；",
                "此操作记入审计日志。",
            ],
            action=url_for("auth.end_user_access", user_id=user.id),
            button="确认强制下线",
            cancel=url_for("auth.users"),
        )
    return _account_change(
        user,
        user_services.end_access,
        f"{user.username} 已在所有设备上退出登录，其接口令牌已撤销。",
    )


@bp.route("/admin/users/<int:user_id>/reset-second-factor", methods=["POST"])
def reset_user_second_factor(user_id: int) -> ResponseReturnValue:
    """Remove someone's second factor (a lost phone): they sign in with the password alone
    and, if their role requires one, enrol a new one at once (the security administrator's)."""
    user = db.session.get(User, user_id) or abort(404)
    require_reset_second_factor(current_user)
    if EmptyForm().validate_on_submit() and not confirmed():
        return confirmation_page(
            title=f"确认重置 {user.username} 的双因素认证",
            lines=[
                f"删除 {user.username}（{user.display_name}）的动态口令密钥和全部恢复码，"
                "其已登录的会话随即结束；",
                "下次登录时只需密码；其角色要求双因素认证的，登录后须先重新启用；",
                "请先当面或通过安全渠道核实本人身份；此操作记入审计日志。",
            ],
            action=url_for("auth.reset_user_second_factor", user_id=user.id),
            button="确认重置双因素", cancel=url_for("auth.users"),
        )  # fmt: skip
    return _account_change(
        user, second_factor.reset, f"已重置 {user.username} 的双因素认证，其登录会话已结束。"
    )


@bp.route("/admin/security-policy")
def security_policy() -> ResponseReturnValue:
    """The password, session, lockout, second-factor and request-limit rules in force, read
    from the settings (changed in the environment file, by whoever runs the server)."""
    require_manage_security(current_user)
    return render_template(
        "auth/security_policy.html", policy=user_services.security_policy()
    ), 200, {"Cache-Control": "no-store"}  # fmt: skip


def _account_change(user: User, change: Callable[..., object], done: str) -> ResponseReturnValue:
    """Apply one account change from a button, with its message (or the refusal's)."""
    if EmptyForm().validate_on_submit():
        on_error_redirect(url_for("auth.users"))
        change(user, actor=current_user._get_current_object())
        flash(done, "success")
    return redirect(url_for("auth.users"))


# -- the contact directory -------------------------------------------------------------------


@bp.route("/contacts")
def contacts() -> ResponseReturnValue:
    """Every department's liaisons and viewers with work phone and e-mail (coordinators and
    admins; a department's users read their own department's page)."""
    require_view_all_contacts(current_user)
    people = list(db.session.scalars(user_queries.department_contacts()))
    return render_template("auth/contacts.html", people=people, department=None)


@bp.route("/departments/<code>/contacts")
def department_contacts(code: str) -> ResponseReturnValue:
    """One department's liaisons and viewers: for coordinators, admins and its own users."""
    department = catalogue_queries.department_by_code(code) or abort(404)
    require_view_contacts(current_user, department.id)
    people = list(db.session.scalars(user_queries.department_contacts(department.id)))
    return render_template("auth/contacts.html", people=people, department=department)
