"""Configuration: one typed :class:`Settings` object read from ``TRACKER_*`` variables."""

from __future__ import annotations

import json
import os
import secrets
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from tracker.instance import check as check_instance
from tracker.proxy import Network, parse_networks

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
AUDIT_MIN_RETENTION_DAYS = 180  # 等保 2.0 三级: audit records kept for six months at least


# The roles a directory group may grant (tracker/auth/directory.py), strongest first: the
# business roles only; the three administrators (三员分立) are local accounts.
DIRECTORY_ROLE_VALUES = ("coordinator", "approver", "liaison", "viewer")


def parse_group_map(text: str) -> dict[str, dict[str, str]]:
    """``TRACKER_LDAP_GROUPS``: a JSON object from group DN to ``{"role": …}`` and/or
    ``{"department": code or name}``; ``ValueError`` says what is wrong."""
    if not text.strip():
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise ValueError(
            'TRACKER_LDAP_GROUPS 须为 JSON 对象：组的 DN → {"role": …, "department": …}'
        ) from None
    if not isinstance(raw, dict):
        raise ValueError("TRACKER_LDAP_GROUPS 须为 JSON 对象")
    for dn, value in raw.items():
        if not isinstance(value, dict) or not set(value) <= {"role", "department"}:
            raise ValueError(f"TRACKER_LDAP_GROUPS 中 {dn} 的值须为含 role 和/或 department 的对象")
        role = value.get("role")
        if role is not None and role not in DIRECTORY_ROLE_VALUES:
            raise ValueError(
                f"TRACKER_LDAP_GROUPS 中 {dn} 的角色 {role} 不能由目录授予（只能是 "
                f"{'、'.join(DIRECTORY_ROLE_VALUES)}；三个管理员角色只用本地账号）"
            )
        if "department" in value and not isinstance(value["department"], str):
            raise ValueError(f"TRACKER_LDAP_GROUPS 中 {dn} 的部门须为部门代码或名称")
    return raw


class ConfigError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


def default_database_url(instance_path: str) -> str:
    """The embedded default: an SQLite file inside the instance folder."""
    return "sqlite:///" + str(Path(instance_path) / "tracker.sqlite3")


def load_secret_key(instance_path: str, *, lenient: bool) -> str:
    """Return the secret key from the environment or the instance folder.

    Outside development and testing the app refuses to start without one, so that sessions
    are never signed with a guessable or throw-away key.
    """
    key = os.environ.get("TRACKER_SECRET_KEY", "").strip()
    if key:
        return key
    key_file = Path(instance_path) / SECRET_KEY_FILE
    if key_file.is_file():
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            return key
    if lenient:
        return secrets.token_hex(32)
    raise ConfigError(
        f"未设置 TRACKER_SECRET_KEY，实例目录 {instance_path} 中也没有 secret_key 文件：拒绝启动。"
        "请运行 scripts/run.sh（自动生成），或在环境文件中设置 TRACKER_SECRET_KEY"
        "（生成：python3 -c 'import secrets; print(secrets.token_hex(32))'）。 / "
        "TRACKER_SECRET_KEY is not set and the instance folder holds no secret_key file; "
        "refusing to start. Run scripts/run.sh, or set TRACKER_SECRET_KEY."
    )


def ensure_secret_key_file(instance_path: str) -> Path:
    """Create ``instance/secret_key`` (mode 600) once; used by the run command."""
    path = Path(instance_path) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path


class Settings(BaseSettings):
    """Every setting the application reads, typed, each default written here once.

    Read from ``TRACKER_*`` environment variables, once, when the app is built; the app's
    config mapping is filled from it (:func:`from_environment`), so code reads
    ``current_app.config["TRACKER_…"]`` and never supplies a default of its own.
    """

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore", frozen=True)

    env: str = "production"
    database_url: str | None = None
    timezone: str = "Asia/Shanghai"
    secure_cookies: bool = False
    max_upload_mb: int = Field(default=20, ge=1)
    # Sign-in lockout: this many failures within the lock period lock the username for it.
    login_max_failures: int = Field(default=5, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    # Identity and sessions (docs/security.md): failures one client address may make within
    # the lock period before it is locked out; failures of one username from every address
    # after which its guesses are slowed to one per ``login_slow_seconds`` (never locked).
    login_address_max_failures: int = Field(default=30, ge=1)
    login_username_slow_after: int = Field(default=10, ge=1)
    login_slow_seconds: int = Field(default=5, ge=1)
    # A web session ends after this many idle minutes, and this many hours after sign-in.
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # Ended and expired sessions are deleted this many days after their end (their sign-ins
    # and ends stay in the audit trail).
    session_keep_days: int = Field(default=30, ge=1)
    # Second factor (TOTP): roles (comma list of role values) that must enrol one, the issuer
    # name shown in the authenticator app, and how many 30-second steps either side count.
    totp_required_roles: str = "admin,security_admin,auditor,coordinator"
    totp_issuer: str = "任务分工督办"
    totp_valid_window: int = Field(default=1, ge=0, le=10)
    # Sign-off inside the department (审核签发): whether a department's reports need its
    # approver's sign-off before they reach the coordinators, unless an administrator set
    # the department otherwise; and the working days before the due date (negative) on which
    # approvers hear of reports still waiting for them.
    signoff_required: bool = True
    signoff_reminder_offset: int = Field(default=-1, le=0)
    # Passwords expire after this many days (0: never) and must then be changed.
    password_max_age_days: int = Field(default=90, ge=0)
    # Requests per client address to the sign-in form and the API, and per user to the API
    # (tracker/ratelimit.py; "N per second|minute|hour"), counted in memory per worker process
    # or in Redis (redis://host:6379/0) when given.
    ratelimit_enabled: bool = True
    ratelimit_storage_uri: str = "memory://"
    ratelimit_login_per_address: str = "60 per minute"
    ratelimit_api_per_address: str = "1200 per minute"
    ratelimit_api_per_user: str = "600 per minute"
    # Strict-Transport-Security max-age (seconds), sent only when secure cookies are on.
    hsts_max_age_seconds: int = Field(default=365 * 24 * 3600, ge=0)
    seed_file: str | None = None
    upload_dir: str | None = None
    # Evidence is encrypted at rest (tracker/reports/vault.py): base64 keys, the first
    # sealing, separated by commas; else the key file (default: instance/evidence_keys).
    evidence_key: str | None = Field(default=None, repr=False)
    evidence_key_file: str | None = None
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Directory sign-on (tracker/auth/directory.py): off while the URL is empty.
    ldap_url: str = ""
    ldap_bind_dn: str = ""
    ldap_bind_password: str = Field(default="", repr=False)
    ldap_user_base: str = ""
    ldap_user_filter: str = "(uid={username})"
    ldap_group_base: str = ""
    # JSON: group DN → {"role": "liaison", "department": "mps"} (either key may be left out).
    ldap_groups: str = ""
    ldap_start_tls: bool = False
    ldap_ca_file: str = ""
    ldap_timeout_seconds: int = Field(default=5, ge=1, le=60)
    # A form's CSRF token is valid this long after the page was served (seconds).
    csrf_time_limit_seconds: int = Field(default=8 * 3600, ge=60)
    # Origins besides the application's own from which a browser may send forms.
    trusted_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # An uploaded workbook: rows read at most (blank ones included), and seconds of reading.
    import_max_rows: int = Field(default=5000, ge=1)
    import_seconds: float = Field(default=10.0, gt=0)
    # County ledger (tracker/counties): counts below this are shown as "<N" above county
    # level; the department whose reported indicators the counties report.
    small_count_threshold: int = Field(default=5, ge=1, le=1000)
    county_department: str = "mca"
    # Reporting periods, due dates and the dashboard's lights.
    first_period: str | None = None
    due_offset_days: int = Field(default=10, ge=0)
    support_lead_days: int = Field(default=5, ge=0)
    # Supporting input is never due before this many working days after the quarter's end.
    support_min_days_after_quarter: int = Field(default=3, ge=0)
    amber_working_days: int = Field(default=5, ge=0)
    # 发文机关署名 of the quarterly 通报 draft (tracker/exports/notice.py).
    notice_issuer: str = Field(default="民政部办公厅", min_length=1, max_length=60)
    snapshot_grace_days: int = Field(default=5, ge=0)
    extra_holidays: Annotated[tuple[date, ...], NoDecode] = ()
    extra_workdays: Annotated[tuple[date, ...], NoDecode] = ()
    base_url: str = "http://127.0.0.1:5000"
    # Reminders, e-mail, urging and the scheduler.
    reminder_ladder: str | None = None
    remind_at: str = "08:30"
    digest_at: str = "17:30"  # the daily digest mail (Beijing time)
    urge_min_interval_days: int = Field(default=3, ge=0)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_timeout: int = Field(default=30, ge=1)
    mail_from: str = "tracker@localhost"
    mail_max_attempts: int = Field(default=16, ge=1)
    mail_retry_seconds: int = Field(default=60, ge=1)
    mail_retry_max_seconds: int = Field(default=3600, ge=1)
    mail_interval_seconds: int = Field(default=60, ge=1)
    scheduler_lease_seconds: int = Field(default=90, ge=1)
    # Quarterly workbooks reading more obligations than this are written by the scheduler
    # process, not in the request (0: always in the request); their files are kept this many
    # hours; the scheduler looks for queued exports every so many seconds.
    export_background_obligations: int = Field(default=20000, ge=0)
    export_keep_hours: int = Field(default=24, ge=1)
    export_poll_seconds: int = Field(default=5, ge=1)
    export_dir: str | None = None
    scheduler_heartbeat_seconds: int = Field(default=20, ge=1)
    # The database's connection pool (PostgreSQL): connections kept per process, extra ones
    # allowed under load, seconds before a connection is replaced, seconds to wait for one.
    # Every connection is tested before use (pool_pre_ping), so a restarted server costs
    # only the requests that were in flight.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    db_pool_timeout: int = Field(default=30, ge=1)
    # Operations: the bearer token /metrics requires (unset: no /metrics), how long an e-mail
    # may wait past its due time before /readyz calls the outbox stuck, and prometheus-client's
    # directory for several processes' metrics (its own variable name, without TRACKER_).
    metrics_token: str | None = Field(default=None, min_length=16)
    # Where pg_dump and pg_restore are (unset: found on the PATH), for backup and restore.
    pg_bin_dir: str | None = None
    outbox_stuck_seconds: int = Field(default=900, ge=60)
    prometheus_multiproc_dir: str | None = Field(
        default=None, validation_alias="PROMETHEUS_MULTIPROC_DIR"
    )
    # Reverse proxies whose X-Forwarded-* headers are believed (tracker.proxy).
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = ()
    # The audit trail (tracker.audit): the key of its hash chain and archives (unset: derived
    # from the secret key), and how many days its rows stay in the database at least.
    audit_key: str | None = Field(default=None, min_length=32)
    # Keys used before the current one (after a rotation), separated by spaces: they verify
    # the rows and archives sealed before the rotation. ``secret:<old secret key>`` stands
    # for a key that was derived from an earlier secret key.
    audit_previous_keys: Annotated[tuple[str, ...], NoDecode] = ()
    audit_retention_days: int = AUDIT_MIN_RETENTION_DAYS
    # The cascade (tracker/instance.py, docs/federation.md): this instance's level (central,
    # provincial, prefectural, county), 6-digit administrative division code and name; the
    # instance above (its URL, and the instance token its centre issued for us).
    instance_level: str = "central"
    instance_code: str = "000000"
    instance_name: str = "中央"
    upstream_url: str = ""
    upstream_token: str = Field(default="", repr=False)

    @field_validator("extra_holidays", "extra_workdays", mode="before")
    @classmethod
    def _comma_separated_dates(cls, value: object) -> object:
        """``2027-01-01,2027-02-08`` → dates (the variables hold a plain list, not JSON)."""
        if isinstance(value, str):
            return tuple(
                date.fromisoformat(part.strip()) for part in value.split(",") if part.strip()
            )
        return value

    @field_validator("trusted_origins", mode="before")
    @classmethod
    def _comma_separated_origins(cls, value: object) -> object:
        """``https://a.example,https://b.example:8443`` → origins without a trailing slash."""
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(str(part).strip().rstrip("/").lower() for part in value)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated_networks(cls, value: object) -> object:
        """``127.0.0.1,10.0.0.0/8`` → networks (a plain list, not JSON)."""
        return parse_networks(value) if isinstance(value, str) else value

    @field_validator("audit_previous_keys", mode="before")
    @classmethod
    def _space_separated_keys(cls, value: object) -> object:
        """``key-one key-two`` → keys (a plain list, not JSON)."""
        return tuple(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _instance(self) -> Settings:
        """The instance's level, code and name fit together (tracker.instance.check)."""
        check_instance(
            self.instance_level, self.instance_code, self.instance_name, self.upstream_url
        )
        return self

    @field_validator("audit_retention_days")
    @classmethod
    def _retention_floor(cls, value: int) -> int:
        """等保 2.0 三级 asks for six months of audit records: never fewer than 180 days."""
        if value < AUDIT_MIN_RETENTION_DAYS:
            raise ValueError(
                f"审计记录至少保存 {AUDIT_MIN_RETENTION_DAYS} 天（等保 2.0 三级），"
                f"不能设为 {value} 天 / "
                f"the audit trail is kept at least {AUDIT_MIN_RETENTION_DAYS} days"
            )
        return value

    @field_validator("digest_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        """``HH:MM`` on a 24-hour clock, as ``17:30``."""
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f"应为 HH:MM，如 17:30，实际为 {value!r}")
        if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
            raise ValueError(f"应为 00:00 至 23:59 之间的时间，实际为 {value!r}")
        return f"{int(hours):02d}:{minutes}"

    @field_validator(
        "ratelimit_login_per_address", "ratelimit_api_per_address", "ratelimit_api_per_user"
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        """``60 per minute``, ``10/second``: what Flask-Limiter (the ``limits`` package) reads."""
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"应为“次数 per second|minute|hour|day”，如 60 per minute，实际为 {value!r}"
            ) from None
        return value.strip()

    @field_validator("ldap_groups")
    @classmethod
    def _group_map(cls, value: str) -> str:
        """The group map is read at start-up, so that a typo stops the app, not a sign-in."""
        parse_group_map(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @field_validator(
        "smtp_host", "database_url", "first_period", "reminder_ladder", "metrics_token",
        "prometheus_multiproc_dir", "pg_bin_dir", "audit_key", mode="before",
    )  # fmt: skip
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value

    @property
    def development(self) -> bool:
        return self.env.strip().lower() in {"development", "dev"}


def read_settings() -> Settings:
    """The settings from the environment, or a :class:`ConfigError` naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"TRACKER_{str(error['loc'][0]).upper()}: {error['msg']}"
            if error["loc"]
            else str(error["msg"]).removeprefix("Value error, ")
            for error in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


def from_environment(instance_path: str, *, testing: bool = False) -> dict[str, Any]:
    """Build the Flask config mapping from the ``TRACKER_*`` environment variables."""
    settings = read_settings()
    config = {f"TRACKER_{name.upper()}": value for name, value in settings.model_dump().items()}
    config.update(
        {
            "TRACKER_ENV": settings.env.strip().lower(),
            "SQLALCHEMY_DATABASE_URI": settings.database_url or default_database_url(instance_path),
            "SECRET_KEY_LENIENT": settings.development or testing,
            # werkzeug's password hashing: scrypt, memory-hard. Not read from the environment,
            # so that no deployment weakens it by accident; only the test suite lowers the cost.
            "TRACKER_PASSWORD_HASH_METHOD": "scrypt",
            "TRACKER_UPLOAD_DIR": settings.upload_dir or str(Path(instance_path) / "uploads"),
            "TRACKER_EXPORT_DIR": settings.export_dir or str(Path(instance_path) / "exports"),
            "TRACKER_EVIDENCE_KEY": settings.evidence_key or "",
            "TRACKER_EVIDENCE_KEY_FILE": settings.evidence_key_file
            or str(Path(instance_path) / "evidence_keys"),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": settings.secure_cookies,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "REMEMBER_COOKIE_SECURE": settings.secure_cookies,
            "WTF_CSRF_TIME_LIMIT": settings.csrf_time_limit_seconds,
            "MAX_CONTENT_LENGTH": settings.max_upload_mb * 1024 * 1024,
            "PROMETHEUS_MULTIPROC_DIR": settings.prometheus_multiproc_dir,
        }
    )
    return config


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for the configured database URL.

    Every backend tests a pooled connection before handing it out (``pool_pre_ping``), so
    connections that a database restart broke are replaced instead of failing a request.
    A server database (PostgreSQL) also gets the ``TRACKER_DB_POOL_*`` sizes; an SQLite file
    keeps SQLAlchemy's own pool.
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        options.update(
            pool_size=config["TRACKER_DB_POOL_SIZE"],
            max_overflow=config["TRACKER_DB_MAX_OVERFLOW"],
            pool_recycle=config["TRACKER_DB_POOL_RECYCLE"],
            pool_timeout=config["TRACKER_DB_POOL_TIMEOUT"],
        )
    return options
