"""Users: liaison officers, coordinators, viewers (leaders) and administrators."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
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
    """What a user may do; department scoping is separate (see permissions)."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    LIAISON = "liaison"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return {
            "admin": "系统管理员",
            "coordinator": "督办协调员",
            "liaison": "联络员",
            "viewer": "查阅（领导）",
        }[self.value]


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

    department: Mapped[Department | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot stay signed in
        return self.active

    def get_id(self) -> str:
        """Session id: includes a fragment of the password hash, so a new password ends
        every other session of this user."""
        return f"{self.id}:{self.password_hash[-12:]}"

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
    def is_coordinator(self) -> bool:
        return self.role == UserRole.COORDINATOR

    @property
    def is_liaison(self) -> bool:
        return self.role == UserRole.LIAISON

    @property
    def is_viewer(self) -> bool:
        return self.role == UserRole.VIEWER

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginThrottle(Model):
    """Recent failed sign-ins under one username, and the lock they led to.

    Keyed by the username as typed (stripped), not by account: a name nobody has is counted and
    locked exactly like a real one, so neither the messages nor the timing tell an attacker
    which names exist. A successful sign-in deletes the row.
    """

    __tablename__ = "login_throttle"

    username: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)  # since first_failed_at
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.username} {self.failures}>"
