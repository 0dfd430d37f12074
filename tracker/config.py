"""Configuration read from the environment (``TRACKER_*``) with safe defaults."""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path

SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret


class ConfigError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from exc


def _dates(name: str) -> tuple[date, ...]:
    """A comma-separated list of ISO dates, e.g. 2027-01-01,2027-02-08."""
    raw = os.environ.get(name, "")
    try:
        return tuple(date.fromisoformat(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} must list dates as YYYY-MM-DD, comma-separated") from exc


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


def from_environment(instance_path: str, *, testing: bool = False) -> dict:
    """Build the Flask config mapping from ``TRACKER_*`` environment variables."""
    env = os.environ.get("TRACKER_ENV", "production").strip().lower()
    development = env in {"development", "dev"}
    return {
        "TRACKER_ENV": env,
        "SQLALCHEMY_DATABASE_URI": os.environ.get("TRACKER_DATABASE_URL")
        or default_database_url(instance_path),
        "SECRET_KEY_LENIENT": development or testing,
        # werkzeug's password hashing: scrypt, memory-hard. Not read from the environment, so
        # that no deployment weakens it by accident; only the test suite lowers the cost.
        "TRACKER_PASSWORD_HASH_METHOD": "scrypt",
        # Sign-in lockout: this many failures within the lock period lock the username for it.
        "TRACKER_LOGIN_MAX_FAILURES": _int("TRACKER_LOGIN_MAX_FAILURES", 5),
        "TRACKER_LOGIN_LOCK_MINUTES": _int("TRACKER_LOGIN_LOCK_MINUTES", 15),
        "TRACKER_TIMEZONE": os.environ.get("TRACKER_TIMEZONE", "Asia/Shanghai"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(os.environ.get("TRACKER_SECURE_COOKIES")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(os.environ.get("TRACKER_SECURE_COOKIES")),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": _int("TRACKER_MAX_UPLOAD_MB", 20) * 1024 * 1024,
        "TRACKER_SEED_FILE": os.environ.get("TRACKER_SEED_FILE"),
        "TRACKER_UPLOAD_DIR": os.environ.get("TRACKER_UPLOAD_DIR")
        or str(Path(instance_path) / "uploads"),
        "TRACKER_FIRST_PERIOD": os.environ.get("TRACKER_FIRST_PERIOD"),
        "TRACKER_DUE_OFFSET_DAYS": _int("TRACKER_DUE_OFFSET_DAYS", 10),
        "TRACKER_SUPPORT_LEAD_DAYS": _int("TRACKER_SUPPORT_LEAD_DAYS", 5),
        "TRACKER_AMBER_WORKING_DAYS": _int("TRACKER_AMBER_WORKING_DAYS", 5),
        "TRACKER_SNAPSHOT_GRACE_DAYS": _int("TRACKER_SNAPSHOT_GRACE_DAYS", 5),
        "TRACKER_EXTRA_HOLIDAYS": _dates("TRACKER_EXTRA_HOLIDAYS"),
        "TRACKER_EXTRA_WORKDAYS": _dates("TRACKER_EXTRA_WORKDAYS"),
        "TRACKER_BASE_URL": os.environ.get("TRACKER_BASE_URL", "http://127.0.0.1:5000"),
        # Reminders, e-mail, urging and the scheduler (tracker/reminders).
        "TRACKER_REMINDER_LADDER": os.environ.get("TRACKER_REMINDER_LADDER") or None,
        "TRACKER_REMIND_AT": os.environ.get("TRACKER_REMIND_AT", "08:30"),
        "TRACKER_URGE_MIN_INTERVAL_DAYS": _int("TRACKER_URGE_MIN_INTERVAL_DAYS", 3),
        "TRACKER_SMTP_HOST": os.environ.get("TRACKER_SMTP_HOST", "").strip() or None,
        "TRACKER_SMTP_PORT": _int("TRACKER_SMTP_PORT", 25),
        "TRACKER_SMTP_USER": os.environ.get("TRACKER_SMTP_USER") or None,
        "TRACKER_SMTP_PASSWORD": os.environ.get("TRACKER_SMTP_PASSWORD") or None,
        "TRACKER_SMTP_STARTTLS": _bool(os.environ.get("TRACKER_SMTP_STARTTLS")),
        "TRACKER_SMTP_SSL": _bool(os.environ.get("TRACKER_SMTP_SSL")),
        "TRACKER_SMTP_TIMEOUT": _int("TRACKER_SMTP_TIMEOUT", 30),
        "TRACKER_MAIL_FROM": os.environ.get("TRACKER_MAIL_FROM", "tracker@localhost"),
        "TRACKER_MAIL_MAX_ATTEMPTS": _int("TRACKER_MAIL_MAX_ATTEMPTS", 16),
        "TRACKER_MAIL_RETRY_SECONDS": _int("TRACKER_MAIL_RETRY_SECONDS", 60),
        "TRACKER_MAIL_RETRY_MAX_SECONDS": _int("TRACKER_MAIL_RETRY_MAX_SECONDS", 3600),
        "TRACKER_MAIL_INTERVAL_SECONDS": _int("TRACKER_MAIL_INTERVAL_SECONDS", 60),
        "TRACKER_SCHEDULER_LEASE_SECONDS": _int("TRACKER_SCHEDULER_LEASE_SECONDS", 90),
        "TRACKER_SCHEDULER_HEARTBEAT_SECONDS": _int("TRACKER_SCHEDULER_HEARTBEAT_SECONDS", 20),
    }
