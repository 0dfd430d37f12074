"""Users: liaison officers, coordinators, viewers (leaders) and administrators."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.catalogue.models import Department
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model

if TYPE_CHECKING:

    class UserMixin:
        """What Flask-Login's ``UserMixin`` gives a user class, as a type checker sees it.

        Flask-Login ships no types, so its ``UserMixin`` is ``Any``, and a class deriving from
        it would let any attribute name through; :class:`User` derives from this instead,
        which is Flask-Login's class at run time.
        """

        @property
        def is_active(self) -> bool: ...
        @property
        def is_authenticated(self) -> bool: ...
        @property
        def is_anonymous(self) -> bool: ...
        def get_id(self) -> str: ...

else:
    from flask_login import UserMixin


class UserRole(enum.StrEnum):
    """What a user may do; department scoping is separate (see permissions).

    The three administrator roles (三员分立) are separate: no account holds two of them.
    """

    ADMIN = "admin"
    SECURITY_ADMIN = "security_admin"
    AUDITOR = "auditor"
    COORDINATOR = "coordinator"
    LIAISON = "liaison"
    APPROVER = "approver"  # 审核人: signs off the department's reports (审核签发)
    VIEWER = "viewer"
    # 县级填报员: enters its own county's aggregate ledger counts and nothing else; its county
    # is its scope (tracker/counties), never a department.
    COUNTY = "county"

    @property
    def label(self) -> str:
        return {
            "admin": "系统管理员",
            "security_admin": "安全管理员",
            "auditor": "审计管理员",
            "coordinator": "督办协调员",
            "liaison": "联络员",
            "approver": "审核人（部门领导）",
            "viewer": "查阅（领导）",
            "county": "县级填报员",
        }[self.value]


# Roles that act for one department and so must belong to one.
DEPARTMENT_ROLES = frozenset({UserRole.LIAISON, UserRole.APPROVER})


class User(UserMixin, Model):
    """A person who signs in."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64))
    email: Mapped[str | None] = mapped_column(sa.String(255))
    phone: Mapped[str | None] = mapped_column(sa.String(32))  # work phone (联系电话)
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"), index=True)
    role: Mapped[UserRole] = mapped_column(
        sa.Enum(
            UserRole,
            name="user_role",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda roles: [r.value for r in roles],
        )
    )
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the password was last set (expiry counts from here; None: before expiry existed).
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A liaison named the department's main (A角, "main") or alternate (B角, "alternate")
    # liaison; at most one of each per department (tracker/auth/liaisons.py).
    liaison_slot: Mapped[str | None] = mapped_column(sa.String(16))
    # The directory entry (LDAP DN) of an account the directory manages; None for a local one.
    directory_dn: Mapped[str | None] = mapped_column(sa.String(255))

    department: Mapped[Department | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.Index("uq_user_department_liaison_slot", "department_id", "liaison_slot", unique=True),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot stay signed in
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the signed cookie: ``s:`` and the random id of the
        request's row of ``user_session`` (``g.session_token``, set by
        :mod:`tracker.auth.sessions`), checked on every request."""
        token = g.get("session_token") if has_request_context() else None
        if not token:
            raise RuntimeError("no server-side session opened for this sign-in")
        return f"s:{token}"

    def set_password(self, password: str) -> None:
        # The method is werkzeug's (scrypt unless configured); check_password reads it back
        # from the stored hash, so changing the setting never locks anybody out.
        method = current_app.config["TRACKER_PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN

    @property
    def is_security_admin(self) -> bool:
        return self.role == UserRole.SECURITY_ADMIN

    @property
    def is_auditor(self) -> bool:
        return self.role == UserRole.AUDITOR

    @property
    def is_coordinator(self) -> bool:
        return self.role == UserRole.COORDINATOR

    @property
    def is_liaison(self) -> bool:
        return self.role == UserRole.LIAISON

    @property
    def is_approver(self) -> bool:
        return self.role == UserRole.APPROVER

    @property
    def is_viewer(self) -> bool:
        return self.role == UserRole.VIEWER

    @property
    def is_county(self) -> bool:
        return self.role == UserRole.COUNTY

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginThrottle(Model):
    """Recent failed sign-ins counted under one key, and the lock or slow-down they led to.

    ``scope`` says what is counted: ``pair`` (a username as typed and one client address:
    locked after ``TRACKER_LOGIN_MAX_FAILURES``), ``address`` (every username from one
    address: locked after ``TRACKER_LOGIN_ADDRESS_MAX_FAILURES``) and ``name`` (one username
    from every address: slowed, never locked, after ``TRACKER_LOGIN_USERNAME_SLOW_AFTER``).
    Usernames nobody has are counted exactly like real ones, so that neither messages nor
    timing tell which names exist. Every attempt is counted *before* its password is checked,
    by one atomic upsert, so concurrent guesses cannot slip past the limit.
    """

    __tablename__ = "login_throttle"

    scope: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)  # since first_failed_at
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # pair and address: locked until then; name: the next guess is evaluated no earlier.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def username(self) -> str:
        """The username of a ``pair`` or ``slow`` row (its key is ``address`` NL ``username``),
        or a ``name`` row's key; "" for an ``address`` row."""
        if self.scope == "address":
            return ""
        return self.key.partition("\n")[2] if "\n" in self.key else self.key

    @property
    def address(self) -> str:
        """The client address of a ``pair``, ``slow`` or ``address`` row; "" for a name."""
        if self.scope == "name":
            return ""
        return self.key.partition("\n")[0]

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.scope} {self.key!r} {self.failures}>"


class UserSession(Model):
    """One signed-in web session, revocable on the server.

    The signed session cookie carries a random id; only its SHA-256 is stored here, so that
    the table alone signs nobody in. A session ends when its user signs out, changes or is
    given a new password, is deactivated or has their role or department changed, when it is
    ended from the sessions page, and by itself after ``TRACKER_SESSION_IDLE_MINUTES`` idle
    or ``TRACKER_SESSION_MAX_HOURS`` after sign-in.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(32))

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"


class PasswordHistory(Model):
    """A password a user had: its hash, so that none of the last few is chosen again."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SecondFactor(Model):
    """A user's enrolled TOTP second factor: the shared secret (needed to verify codes, so
    stored as is, protected like the other credentials) and the last time step accepted, so
    that no code is used twice."""

    __tablename__ = "second_factor"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(sa.String(64))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_step: Mapped[int | None] = mapped_column(sa.BigInteger)


class RecoveryCode(Model):
    """A one-time recovery code of a second factor: only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
