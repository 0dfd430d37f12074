"""Changing users: creation, deactivation, passwords, sign-in bookkeeping."""

from __future__ import annotations

import enum
import functools
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import LoginThrottle, User, UserRole
from tracker.auth.queries import user_by_username
from tracker.catalogue.models import Department
from tracker.db import ON_CONFLICT_INSERT, rows_changed, to_local, utcnow
from tracker.errors import Invalid
from tracker.extensions import db


class UserError(Invalid):
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
    raise UserError(f"未知部门：{key}", field="department")


def create_user(
    username: str,
    *,
    role: str,
    password: str,
    department: Department | None = None,
    display_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    must_change_password: bool = False,
    actor: User | None = None,
) -> User:
    """Create an account after checking role and department fit together."""
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("用户名不能为空，且不超过 64 个字符", field="username")
    try:
        user_role = UserRole(role)
    except ValueError:
        raise UserError(
            f"未知角色：{role}（可选 admin / coordinator / liaison / viewer）", field="role"
        ) from None
    if user_role == UserRole.LIAISON and department is None:
        raise UserError("联络员必须属于一个部门（--department）", field="department")
    _check_department_active(department)
    if len(password) < 10:
        raise UserError("密码至少 10 个字符")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UserError(f"用户名已存在：{username}", field="username")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=email,
        phone=normalise_phone(phone),
        role=user_role,
        department=department,
        must_change_password=must_change_password,
    )
    user.set_password(password)
    db.session.add(user)
    record_event("user.create", user, actor=actor, after=user_snapshot(user))
    return user


def deactivate_user(user: User, *, actor: User | None = None) -> None:
    """Deactivate an account; its sessions end on their next request.

    Nobody deactivates their own account, and the last active administrator stays: without
    one, nobody could manage accounts from the web any more.
    """
    if not user.active:
        return
    if actor is not None and actor.id == user.id:
        raise UserError("不能停用自己的账号。")
    if user.role == UserRole.ADMIN and _other_active_admins(user) == 0:
        raise UserError("这是最后一个启用的系统管理员账号，不能停用。")
    before = user_snapshot(user)
    user.active = False
    record_event("user.deactivate", user, actor=actor, before=before, after=user_snapshot(user))


def _check_department_active(department: Department | None) -> None:
    if department is not None and not department.active:
        raise UserError(f"部门「{department.name}」已停用，不能再为它分配账号", field="department")


def active_department_accounts(department: Department) -> list[User]:
    """The department's accounts that can still sign in, by role and name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.department_id == department.id, User.active.is_(True))
            .order_by(User.role, User.display_name, User.id)
        )
    )


def deactivate_department_accounts(department: Department, *, actor: User | None = None) -> int:
    """Deactivate every active account of a department that is being deactivated, each
    audited as ``user.deactivate`` (with the department's code); how many. The checks of
    :func:`deactivate_user` hold: nobody's own account, never the last administrator."""
    accounts = active_department_accounts(department)
    for account in accounts:
        if actor is not None and actor.id == account.id:
            raise UserError(f"您的账号属于「{department.name}」，不能随部门停用自己的账号。")
        if account.role == UserRole.ADMIN and _other_active_admins(account) == 0:
            raise UserError("这是最后一个启用的系统管理员账号，不能随部门停用。")
        before = user_snapshot(account)
        account.active = False
        record_event(
            "user.deactivate",
            account,
            actor=actor,
            before=before,
            after={**user_snapshot(account), "with_department": department.code},
        )
    return len(accounts)


class Keep(enum.Enum):
    """The value of an :func:`edit_user` argument that leaves the attribute as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A work phone as people write it: digits, dashes, an optional leading +, e.g. 010-58123456,
# +86-10-58123456, 13800000000; 5 to 20 digits, 32 characters at most.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9-]*[0-9]$")
PHONE_MAX_LENGTH = 32
PHONE_MESSAGE = "联系电话只能含数字、“-”和开头的“+”，5 至 20 位数字，如 010-58123456"


def normalise_phone(phone: str | None) -> str | None:
    """A work phone as stored (``None`` when blank); :class:`UserError` when malformed."""
    text = (phone or "").strip()
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if (
        len(text) > PHONE_MAX_LENGTH
        or not PHONE_PATTERN.match(text)
        or "--" in text
        or not 5 <= digits <= 20
    ):
        raise UserError(PHONE_MESSAGE, field="phone")
    return text


def _normalise_email(email: str | None) -> str | None:
    text = (email or "").strip()
    if not text:
        return None
    if len(text) > 255 or not EMAIL_PATTERN.match(text):
        raise UserError("邮箱格式不正确", field="email")
    return text


def _checked_display_name(name: str) -> str:
    text = name.strip()
    if not text or len(text) > 64:
        raise UserError("姓名不能为空，且不超过 64 个字符", field="display_name")
    return text


def _checked_role(role: str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        raise UserError(
            f"未知角色：{role}（可选 admin / coordinator / liaison / viewer）", field="role"
        ) from None


def edit_user(
    user: User,
    *,
    display_name: str | Keep = KEEP,
    email: str | Keep | None = KEEP,
    phone: str | Keep | None = KEEP,
    role: str | Keep = KEEP,
    department: Department | Keep | None = KEEP,
    actor: User | None = None,
) -> bool:
    """Change an account's name, contact details, role or department; whether anything changed.

    Arguments left at :data:`KEEP` stay as they are. A liaison keeps a department; an
    administrator may not take the admin role from themself, nor from the last active
    administrator. The audit event ``user.edit`` carries the account before and after; an
    edit that changes nothing records nothing.
    """
    new_name = user.display_name if display_name is KEEP else _checked_display_name(display_name)
    new_email = user.email if email is KEEP else _normalise_email(email)
    new_phone = user.phone if phone is KEEP else normalise_phone(phone)
    new_role = user.role if role is KEEP else _checked_role(role)
    new_department = user.department if department is KEEP else department
    if new_department is not user.department:
        _check_department_active(new_department)
    if new_role == UserRole.LIAISON and new_department is None:
        raise UserError("联络员必须属于一个部门", field="department")
    if user.role == UserRole.ADMIN and new_role != UserRole.ADMIN:
        if actor is not None and actor.id == user.id:
            raise UserError("不能取消自己的系统管理员角色。", field="role")
        if user.active and _other_active_admins(user) == 0:
            raise UserError("这是最后一个启用的系统管理员账号，不能改为其他角色。", field="role")
    before = user_snapshot(user)
    user.display_name = new_name
    user.email = new_email
    user.phone = new_phone
    user.role = new_role
    user.department = new_department
    after = user_snapshot(user)
    if after == before:
        return False
    record_event("user.edit", user, actor=actor, before=before, after=after)
    return True


def _other_active_admins(user: User) -> int:
    count = db.session.scalar(
        sa.select(sa.func.count()).where(
            User.role == UserRole.ADMIN, User.active.is_(True), User.id != user.id
        )
    )
    return count or 0


def activate_user(user: User, *, actor: User | None = None) -> None:
    """Let a deactivated account sign in again (its password is unchanged)."""
    if user.active:
        return
    before = user_snapshot(user)
    user.active = True
    record_event("user.activate", user, actor=actor, before=before, after=user_snapshot(user))


def reset_password(user: User, *, actor: User | None = None) -> str:
    """Give the account a new one-time password, to be changed at the next sign-in.

    Ends the user's sessions (the session id carries the password hash) and lifts any
    sign-in lock; returns the password, which is shown once and never stored.
    """
    password = generate_password()
    user.set_password(password)
    user.must_change_password = True
    _forget_failures(user.username)
    record_event("user.reset_password", user, actor=actor)
    return password


def change_password(user: User, new_password: str) -> None:
    """Set a new password chosen by the user; clears the one-time flag."""
    user.set_password(new_password)
    user.must_change_password = False
    record_event("user.change_password", user, actor=user)


class SignInRefused(Invalid):
    """A sign-in that does not succeed; the message is shown as it is and names no reason
    that would tell whether the username exists."""


WRONG_CREDENTIALS = "用户名或密码不正确，或账号已停用。"


def sign_in(username: str, password: str) -> User:
    """The active user with this username and password, signed-in bookkeeping done.

    Raises :class:`SignInRefused` for a wrong name or password, an inactive account, or a
    username locked by ``TRACKER_LOGIN_MAX_FAILURES`` failures within
    ``TRACKER_LOGIN_LOCK_MINUTES``; the failure is counted (and the lock recorded) in a
    transaction of its own, committed before the refusal is raised, so that the request's
    rollback cannot undo it.
    """
    name = username.strip()
    now = clock.utcnow()
    locked_until = _locked_until(name, now)
    if locked_until is not None:
        raise SignInRefused(_locked_message(locked_until))
    user = user_by_username(name)
    if user is None:
        _spend_a_hash_check(password)  # as long as a real check: timing tells nothing either
    elif user.check_password(password) and user.active:
        _forget_failures(name)
        note_login(user)
        return user
    raise SignInRefused(_count_failure_apart(name, user.id if user else None, now))


def unlock_username(username: str, *, actor: User | None = None) -> bool:
    """Lift a sign-in lock and forget the failures; False when there was nothing to lift."""
    name = username.strip()
    if not _forget_failures(name):
        return False
    user = user_by_username(name)
    record_event("user.unlock", user, actor=actor, object_type="user", after={"username": name})
    return True


def _forget_failures(name: str) -> int:
    """Delete the username's failures and lock; how many rows went (0 or 1)."""
    removed = db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.username == name))
    return rows_changed(removed)


def _lock_period() -> timedelta:
    return timedelta(minutes=_minutes())


def _locked_until(name: str, now: datetime) -> datetime | None:
    until = db.session.scalar(
        sa.select(LoginThrottle.locked_until).where(LoginThrottle.username == name)
    )
    return until if until is not None and until > now else None


def _locked_message(until: datetime) -> str:
    return (
        f"登录失败次数过多，该账号已暂时锁定，请于 {to_local(until):%H:%M}（北京时间）后再试，"
        "或请系统管理员解锁。"
    )


def _count_failure_apart(name: str, user_id: int | None, now: datetime) -> str:
    """:func:`_count_failure` in its own session and transaction, committed at once."""
    with Session(db.engine) as session, session.begin():
        return _count_failure(session, name, user_id, now)


def _count_failure(session: Session, name: str, user_id: int | None, now: datetime) -> str:
    """Count one failure under ``name`` (atomically), lock when it is one too many; the
    message to show."""
    table = LoginThrottle.__table__
    dialect = session.get_bind().dialect.name
    insert = ON_CONFLICT_INSERT[dialect]
    statement = insert(LoginThrottle).values(username=name, failures=1, first_failed_at=now)
    stale = table.c.first_failed_at < now - _lock_period()  # failures long ago start afresh
    upsert = statement.on_conflict_do_update(
        index_elements=["username"],
        set_={
            "failures": sa.case((stale, 1), else_=table.c.failures + 1),
            "first_failed_at": sa.case(
                (stale, statement.excluded.first_failed_at), else_=table.c.first_failed_at
            ),
        },
    ).returning(table.c.failures)
    failures = session.scalar(upsert)
    allowed = current_app.config["TRACKER_LOGIN_MAX_FAILURES"]
    if failures < allowed:
        left = allowed - failures
        return f"{WRONG_CREDENTIALS}再失败 {left} 次，该账号将被锁定 {_minutes()} 分钟。"
    until = now + _lock_period()
    session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.username == name)
        .values(failures=0, first_failed_at=now, locked_until=until)
    )
    record_event(
        "user.lock", object_type="user", object_id=user_id, session=session,
        after={"username": name, "failures": failures, "locked_until": until.isoformat()},
    )  # fmt: skip
    return _locked_message(until)


def _minutes() -> int:
    return int(current_app.config["TRACKER_LOGIN_LOCK_MINUTES"])


def _spend_a_hash_check(password: str) -> None:
    check_password_hash(_decoy_hash(current_app.config["TRACKER_PASSWORD_HASH_METHOD"]), password)


@functools.cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def note_login(user: User) -> None:
    user.last_login_at = utcnow()
    record_event("user.login", user, actor=user)


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "phone": user.phone,
        "role": user.role.value if user.role else None,
        "department": user.department.code if user.department else None,
        "active": user.active,
    }
