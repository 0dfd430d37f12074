"""任务分工落实跟踪系统: a tracker for the inter-agency task division of policy documents."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from tracker import config as config_module
from tracker import guards, instance, logs, metrics, ratelimit, resources, web
from tracker.audit import hooks as audit_hooks
from tracker.db import init_request_transaction, make_sqlite_file_private, to_local
from tracker.extensions import csrf, db, login_manager, migrate
from tracker.forms import error_attrs, form_error_attrs
from tracker.periods import period_label
from tracker.proxy import TrustedProxyFix

if TYPE_CHECKING:
    from tracker.auth.models import User

# Every blueprint, registered in this order, as (package, its views module, blueprint name in
# the package); the views module attaches the views when it is imported.
BLUEPRINTS = (
    ("auth", "routes", "bp"),
    ("catalogue", "routes", "bp"),
    ("reports", "routes", "bp"),
    ("delivery", "routes", "bp"),  # delivery plans: milestones and indicators per item
    ("counties", "routes", "bp"),  # counties and the aggregate ledger of county counts
    ("imports", "routes", "bp"),
    ("api", "routes", "bp"),
    ("api", "pages", "tokens_bp"),  # the token pages of one's profile (session, CSRF)
    ("exports", "routes", "bp"),
    ("exports", "pages", "audit_bp"),  # the audit trail's workbook, beside the auditor's page
    ("audit", "routes", "bp"),  # the auditor's page /audit
    ("notifications", "routes", "bp"),
    ("followups", "routes", "bp"),
    ("reminders", "routes", "bp"),
    ("dashboard", "routes", "bp"),
    ("search", "routes", "bp"),
    ("home", "routes", "bp"),
    ("help", "routes", "bp"),  # 操作说明: one page per role, and the public sign-in help
    ("ops", "routes", "bp"),  # /readyz (public) and /metrics (its own bearer token)
    ("federation", "routes", "bp"),  # the cascade's pages (docs/federation.md)
    ("federation", "routes", "api_bp"),  # what other instances call (instance tokens)
)

# Endpoints anyone may reach without signing in; every other endpoint requires login.
PUBLIC_ENDPOINTS = frozenset(
    {"auth.login", "auth.second_factor_login", "help.sign_in", "static", "health", "ops.ready"}
)
# Endpoints that check a token of their own and never read the session (no sign-in page).
TOKEN_ENDPOINTS = frozenset({"ops.metrics"})
# Endpoints a user who must change their one-time password may still reach.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout", "static", "health"})
# Endpoints a user whose role requires a second factor, not yet enrolled, may still reach.
SECOND_FACTOR_ENROL_ENDPOINTS = PASSWORD_CHANGE_ENDPOINTS | {"auth.my_second_factor"}
# Blueprints that authenticate every request themselves and never read the session: the JSON
# API (bearer tokens; 401 JSON instead of a redirect to the sign-in page).
SELF_AUTHENTICATING_BLUEPRINTS = frozenset({"api", "federation_api"})
# Blueprints whose answers no browser or proxy may keep (reports, evidence, exports, the API):
# ``Cache-Control: no-store``.
NO_STORE_BLUEPRINTS = frozenset(
    {"reports", "exports", "api", "tokens", "audit", "audit_export", "federation", "federation_api"}
)
# Form fields that are buttons or plumbing, never text a user typed.
BUTTON_FIELDS = frozenset({"submit", "save", "save_and_submit", "confirm", "next", "insert"})
# URL prefixes answered with JSON errors, even for URLs that match no route.
JSON_ERROR_PREFIXES = ("/api/",)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application. Never creates tables or migrates: that is ``flask db upgrade``."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or resources.default_instance_path(),
        template_folder=str(resources.templates_dir()),
    )
    testing = bool(test_config and test_config.get("TESTING"))
    app.config.update(config_module.from_environment(app.instance_path, testing=testing))
    if test_config:
        app.config.update(test_config)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", config_module.engine_options(app.config))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = config_module.load_secret_key(
            app.instance_path, lenient=app.config["SECRET_KEY_LENIENT"] or app.debug
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    make_sqlite_file_private(app.config["SQLALCHEMY_DATABASE_URI"])

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_hooks(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    if app.config["TRACKER_TRUSTED_PROXIES"]:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, app.config["TRACKER_TRUSTED_PROXIES"]
        )
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resources.migrations_dir()))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    logs.init_app(app)  # first: the request id is set before any other hook logs
    metrics.init_app(app)
    init_request_transaction(app)
    audit_hooks.init_app(app)  # after the commit hook, so its 403 record runs before it
    web.init_app(app)
    guards.init_app(app)  # before the blueprints: their <int:…> routes use its converter
    ratelimit.init_app(app)  # its check runs before the sign-in check of every request
    _import_models()


def _import_models() -> None:
    """Import every model module so that the metadata (and Alembic) sees all tables."""
    from tracker import models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    import importlib

    for package, views, name in BLUEPRINTS:
        importlib.import_module(f"tracker.{package}.{views}")
        app.register_blueprint(getattr(importlib.import_module(f"tracker.{package}"), name))

    @app.route("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}


def _register_cli(app: Flask) -> None:
    from tracker.api.cli import token_cli
    from tracker.audit.cli import audit_cli
    from tracker.auth.cli import user_cli
    from tracker.catalogue.cli import department_cli, seed_command
    from tracker.counties.cli import counties_cli
    from tracker.dashboard.cli import demo_data_command, freeze_snapshots_command, snapshots_cli
    from tracker.delivery.cli import delivery_cli
    from tracker.exports.cli import export_cli
    from tracker.federation.cli import federation_cli
    from tracker.imports.cli import import_text_command
    from tracker.jobs import scheduler_command
    from tracker.notifications.cli import send_mail_command
    from tracker.ops.cli import backup_command, restore_command
    from tracker.reminders.cli import remind_command
    from tracker.reports.cli import evidence_cli, open_periods_command
    from tracker.startup import prepare_command

    for command in (
        user_cli,
        audit_cli,
        seed_command,
        department_cli,
        delivery_cli,
        counties_cli,
        import_text_command,
        token_cli,
        open_periods_command,
        evidence_cli,
        export_cli,
        federation_cli,
        remind_command,
        send_mail_command,
        scheduler_command,
        demo_data_command,
        freeze_snapshots_command,
        snapshots_cli,
        backup_command,
        restore_command,
        prepare_command,
    ):
        app.cli.add_command(command)


def _load_user(session_id: str) -> User | None:
    """The user of the open server-side session the signed cookie names (see
    :mod:`tracker.auth.sessions`), or None: an ended, idle or expired session signs nobody in."""
    from tracker.auth.sessions import load_session_user

    user = load_session_user(session_id)
    if user is not None:
        logs.note_user(user.id)
    return user


login_manager.user_loader(_load_user)


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _require_login() -> ResponseReturnValue | None:
        """Default deny: every endpoint not listed as public needs a signed-in, active user."""
        endpoint = request.endpoint
        if endpoint is None or endpoint in PUBLIC_ENDPOINTS or endpoint in TOKEN_ENDPOINTS:
            return None
        if request.blueprint in SELF_AUTHENTICATING_BLUEPRINTS:
            return None
        if getattr(app.view_functions.get(endpoint), "_tracker_public", False):
            return None
        if not current_user.is_authenticated:
            # Flask-Login ships no types: its answer is a redirect to the sign-in page (or 401).
            unauthorized: ResponseReturnValue = login_manager.unauthorized()
            return unauthorized
        from tracker.auth.services import must_change_password

        if endpoint not in PASSWORD_CHANGE_ENDPOINTS and must_change_password(current_user):
            return redirect(url_for("auth.password"))  # a one-time or an expired password
        from tracker.auth.second_factor import must_enrol

        if endpoint not in SECOND_FACTOR_ENROL_ENDPOINTS and must_enrol(current_user):
            return redirect(url_for("auth.my_second_factor"))  # the role requires a factor
        return None

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SESSION_COOKIE_SECURE"] and app.config["TRACKER_HSTS_MAX_AGE_SECONDS"]:
            # Served over HTTPS (secure cookies say so): browsers keep to HTTPS from now on.
            response.headers.setdefault(
                "Strict-Transport-Security", f"max-age={app.config['TRACKER_HSTS_MAX_AGE_SECONDS']}"
            )
        if request.blueprint in NO_STORE_BLUEPRINTS:
            response.headers["Cache-Control"] = "no-store"
        return response


def _register_error_handlers(app: Flask) -> None:
    messages = {
        400: ("请求无效", "提交的内容无法处理，请返回重试。"),
        403: ("无权访问", "您没有访问此页面的权限。"),
        404: ("页面不存在", "您访问的页面或记录不存在。"),
        405: ("请求方式不允许", "该页面不支持此操作。"),
        413: ("文件过大", "上传的文件超过了大小限制。"),
        429: ("请求过于频繁", "该地址的请求过于频繁，请稍后再试；已填写的内容请返回上一页查看。"),
        500: ("系统错误", "服务器处理请求时出错，请稍后重试；数据未被更改。"),
    }

    def render_error(code: int, exc: Exception | None = None) -> ResponseReturnValue:
        limited: Response | None = getattr(exc, "response", None)
        if code == 429 and limited is not None:
            return limited  # the limit's own answer (the sign-in form, its username kept)
        # A refused input says what was wrong with it; other errors keep the page's words.
        said = exc.description if isinstance(exc, guards.RefusedInput) else None
        if request.path.startswith(JSON_ERROR_PREFIXES):
            from tracker.api.errors import error_response

            return error_response(code, said)
        title, message = messages[code]
        return render_template("error.html", code=code, title=title, message=said or message), code

    for code in messages:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: render_error(code, exc))

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        if _expired_form_of_ours(exc):
            # The token was ours and only too old: the user gets what they typed back, with a
            # fresh token, to send again (a file input cannot be refilled: the page says so).
            from tracker.forms import EmptyForm

            fields = [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]
            # What the user typed, shown back; short codes (states, versions, buttons) are not.
            typed = [
                v for k, v in fields
                if v.strip() and k not in BUTTON_FIELDS and not (v.isascii() and len(v) <= 20)
            ]  # fmt: skip
            action = request.path + (
                f"?{request.query_string.decode()}" if request.query_string else ""
            )
            return render_template(
                "csrf_expired.html", action=action, fields=fields, typed=typed, form=EmptyForm(),
                back=web.referrer_path() or url_for("catalogue.home"),
                had_files=any(f.filename for f in request.files.values()),
                lifetime=_duration(int(app.config["WTF_CSRF_TIME_LIMIT"])),
            ), 400  # fmt: skip
        return render_template(
            "error.html", code=400, title="表单已过期", message="表单已失效，请刷新页面后重新提交。"
        ), 400

    @app.errorhandler(500)
    def _server_error(exc: Exception) -> ResponseReturnValue:
        db.session.rollback()
        return render_error(500)


def _duration(seconds: int) -> str:
    """``28800`` → ``8 小时``; ``5400`` → ``90 分钟``; ``45`` → ``45 秒``."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds // 3600} 小时"
    if seconds >= 60:
        return f"{seconds // 60} 分钟"
    return f"{seconds} 秒"


def _expired_form_of_ours(exc: CSRFError) -> bool:
    """A form of this site whose token is genuine but past ``WTF_CSRF_TIME_LIMIT``."""
    if exc.description != "The CSRF token has expired." or not request.form:
        return False
    try:
        guards.check_origin()
    except guards.RefusedInput:
        return False
    return True


def _register_template_helpers(app: Flask) -> None:
    @app.template_filter("localtime")
    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        local = to_local(value)
        return local.strftime(fmt) if local else ""

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        from tracker.navigation import landing_blocks, nav_items

        return {
            "nav_items": lambda: nav_items(current_user),
            "landing_blocks": lambda: landing_blocks(current_user),
        }

    app.jinja_env.globals.update(error_attrs=error_attrs, form_error_attrs=form_error_attrs)
    # The instance (level, code, name) in the page header and footer (tracker/instance.py).
    app.jinja_env.globals.update(this_instance=lambda: instance.from_config(app.config))

    app.add_template_filter(period_label, "period_label")

    @app.template_filter("cndate")
    def cndate(value: date | None) -> str:
        return f"{value.year}年{value.month}月{value.day}日" if value else ""
