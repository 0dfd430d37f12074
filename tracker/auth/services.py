"""Changing users: creation, deactivation, passwords, sign-in bookkeeping."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from tracker.audit.services import record_event
from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Department
from tracker.db import utcnow
from tracker.extensions import db


class UserError(ValueError):
    """A user change that cannot be made; the message is shown as it is."""


def generate_password() -> str:
    """A one-time password that a person can type: 16 characters, no look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def resolve_department(name_or_code: str) -> Department:
    """Find a department by code, full name, short name or alias."""
    key = name_or_code.strip()
    department = db.session.scalar(
        sa.select(Department).where(
            sa.or_(Department.code == key, Department.name == key, Department.short_name == key)
        )
    )
    if department is not None:
        return department
    for candidate in db.session.scalars(sa.select(Department)):
        if key in (candidate.aliases or []):
            return candidate
    raise UserError(f"未知部门：{key}")


def create_user(
    username: str,
    *,
    role: str,
    password: str,
    department: Department | None = None,
    display_name: str | None = None,
    email: str | None = None,
    must_change_password: bool = False,
    actor: User | None = None,
) -> User:
    """Create an account after checking role and department fit together."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("用户名不能为空，且不超过 64 个字符")
    try:
        user_role = UserRole(role)
    except ValueError:
        raise UserError(
            f"未知角色：{role}（可选 admin / coordinator / liaison / viewer）"
        ) from None
    if user_role == UserRole.LIAISON and department is None:
        raise UserError("联络员必须属于一个部门（--department）")
    if len(password) < 10:
        raise UserError("密码至少 10 个字符")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UserError(f"用户名已存在：{username}")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=email,
        role=user_role,
        department=department,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    db.session.add(user)
    record_event("user.create", user, actor=actor, after=user_snapshot(user))
    return user


def deactivate_user(user: User, *, actor: User | None = None) -> None:
    """Deactivate an account; its sessions end on their next request."""
    if not user.active:
        return
    before = user_snapshot(user)
    user.active = False
    record_event("user.deactivate", user, actor=actor, before=before, after=user_snapshot(user))


def change_password(user: User, new_password: str) -> None:
    """Set a new password chosen by the user; clears the one-time flag."""
    user.set_password(new_password)
    user.must_change_password = False
    record_event("user.change_password", user, actor=user)


def note_login(user: User) -> None:
    user.last_login_at = utcnow()
    record_event("user.login", user, actor=user)


def user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "role": user.role.value if user.role else None,
        "department": user.department.code if user.department else None,
        "active": user.active,
    }
