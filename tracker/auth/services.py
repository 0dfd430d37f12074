"""Changing users: creation, deactivation, passwords, sign-in bookkeeping."""

from __future__ import annotations

import enum
import functools
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tracker import clock
from tracker.audit.models import Outcome
from tracker.audit.services import record_apart, record_event
from tracker.auth import directory, liaisons, sessions
from tracker.auth.models import DEPARTMENT_ROLES, LoginThrottle, PasswordHistory, User, UserRole
from tracker.auth.queries import user_by_username
from tracker.catalogue.models import Department
from tracker.catalogue.queries import department_by_name_or_code
from tracker.db import ON_CONFLICT_INSERT, rows_changed, to_local, utcnow
from tracker.errors import Invalid
from tracker.extensions import db


class UserError(Invalid):
    """A user change that cannot be made; the message is shown as it is."""


def generate_password() -> str:
    """A one-time password that a person can type: 16 characters, no look-alikes, with
    lower case, upper case and digits, so that it meets :func:`password_problems` itself."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(16))
        if _classes(password) >= 3:
            return password


# -- password rules (docs/security.md) -------------------------------------------------------

MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_CLASSES = 3
PASSWORD_HISTORY = 5  # a new password is none of the user's last 5 (the current one included)
MSG_LENGTH = f"密码至少 {MIN_PASSWORD_LENGTH} 个字符"
MSG_CLASSES = f"密码须包含大写字母、小写字母、数字、其他符号四类中的至少 {MIN_PASSWORD_CLASSES} 类"
MSG_USERNAME = "密码不能与用户名相同，也不能包含用户名"
MSG_HISTORY = f"新密码不能与最近 {PASSWORD_HISTORY} 次使用过的密码相同"


def _classes(password: str) -> int:
    """How many of the four classes (a-z, A-Z, 0-9, anything else) the password uses."""
    kinds = (
        any(ch.islower() and ch.isascii() for ch in password),
        any(ch.isupper() and ch.isascii() for ch in password),
        any(ch.isdigit() and ch.isascii() for ch in password),
        any(not (ch.isascii() and ch.isalnum()) for ch in password),
    )
    return sum(kinds)


def password_problems(username: str, password: str) -> list[str]:
    """Each rule the password breaks, as the message to show (empty when it is acceptable);
    the history rule needs the account and is :func:`check_new_password`'s."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(MSG_LENGTH)
    if _classes(password) < MIN_PASSWORD_CLASSES:
        problems.append(MSG_CLASSES)
    name = username.strip().casefold()
    if name and name in password.casefold():
        problems.append(MSG_USERNAME)
    return problems


def _recent_hashes(user: User) -> list[str]:
    """The hashes of the user's last passwords, the current one first."""
    if user.id is None:
        return []
    rows = db.session.scalars(
        sa.select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(PASSWORD_HISTORY)
    )
    hashes = list(rows)  # the newest row is the current password, for accounts since 0014
    if user.password_hash and user.password_hash not in hashes:
        hashes = [user.password_hash, *hashes][:PASSWORD_HISTORY]  # an older account
    return hashes


def check_new_password(user: User, password: str, *, field: str | None = "new_password") -> None:
    """Raise :class:`UserError` naming every rule the new password breaks."""
    problems = password_problems(user.username, password)
    if not problems and any(check_password_hash(h, password) for h in _recent_hashes(user)):
        problems.append(MSG_HISTORY)
    if problems:
        raise UserError("；".join(problems), field=field)


def _set_password(user: User, password: str) -> None:
    """Store a new password (rules already checked): hash, date, history of the last 5."""
    user.set_password(password)
    user.password_changed_at = clock.utcnow()
    db.session.flush()
    db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
    db.session.flush()
    keep = (
        sa.select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(PASSWORD_HISTORY)
    )
    db.session.execute(
        sa.delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(keep.scalar_subquery())
        )
    )


def password_expired(user: User) -> bool:
    """Has the password outlived ``TRACKER_PASSWORD_MAX_AGE_DAYS`` (0: passwords never do)?"""
    days = int(current_app.config["TRACKER_PASSWORD_MAX_AGE_DAYS"])
    changed = user.password_changed_at or user.created_at
    if days <= 0 or changed is None or user.directory_dn is not None:
        return False  # a directory account's password is the directory's to expire
    return clock.utcnow() - changed >= timedelta(days=days)


def must_change_password(user: User) -> bool:
    """A one-time password, or one that has expired: the user must set a new one first."""
    return user.must_change_password or password_expired(user)


# -- credentials that end ------------------------------------------------------------------

# Called with (user, reason, actor) when a user's credentials end for good (a password reset,
# a deactivation): higher layers register here what they hold for the user (API tokens).
CREDENTIALS_ENDED: list[Callable[[User, str, User | None], object]] = []


def on_credentials_ended(hook: Callable[[User, str, User | None], object]) -> None:
    """Register ``hook(user, reason, actor)``; registering the same hook twice adds it once."""
    if hook not in CREDENTIALS_ENDED:
        CREDENTIALS_ENDED.append(hook)


def _end_credentials(user: User, reason: str, actor: User | None) -> None:
    """End the user's web sessions and everything registered (their API tokens)."""
    sessions.end_sessions(user, reason, actor=actor)
    for hook in CREDENTIALS_ENDED:
        hook(user, reason, actor)


def resolve_department(name_or_code: str) -> Department:
    """Find a department by code, full name, short name or alias."""
    department = department_by_name_or_code(name_or_code)
    if department is None:
        raise UserError(f"未知部门：{name_or_code.strip()}", field="department")
    return department


ADMINISTRATOR_ROLES = frozenset({UserRole.ADMIN, UserRole.SECURITY_ADMIN, UserRole.AUDITOR})
"""The three separated administrators (三员分立); none belongs to a department."""

SEPARATE_ROLES = frozenset({UserRole.SECURITY_ADMIN, UserRole.AUDITOR})
"""The roles that check the system administrator: fixed at creation, and made from the web
only while nobody holds them (the command line, on the server, may always make one)."""

ROLE_CHOICES = " / ".join(role.value for role in UserRole)


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
        raise UserError(f"未知角色：{role}（可选 {ROLE_CHOICES}）", field="role") from None
    if user_role in DEPARTMENT_ROLES and department is None:
        raise UserError(f"{user_role.label}必须属于一个部门（--department）", field="department")
    _check_administrator_fit(user_role, department)
    if user_role in SEPARATE_ROLES and actor is not None and _active_holders(user_role):
        raise UserError(
            f"已有启用的{user_role.label}账号：三员分立下只能在服务器上用命令行"
            f"（flask user create）另建，以免一人兼任。",
            field="role",
        )
    _check_department_active(department)
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UserError(f"用户名已存在：{username}", field="username")
    problems = password_problems(username, password)
    if problems:
        raise UserError("；".join(problems), field="password")
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        email=email,
        phone=normalise_phone(phone),
        role=user_role,
        department=department,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    _set_password(user, password)
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
    if user.role in ADMINISTRATOR_ROLES and _other_active_admins(user) == 0:
        raise UserError(f"这是最后一个启用的{user.role.label}账号，不能停用。")
    before = user_snapshot(user)
    user.active = False
    liaisons.release_slot(user)
    record_event("user.deactivate", user, actor=actor, before=before, after=user_snapshot(user))
    _end_credentials(user, "deactivated", actor)


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
        if account.role in ADMINISTRATOR_ROLES and _other_active_admins(account) == 0:
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
        _end_credentials(account, "deactivated", actor)
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
        raise UserError(f"未知角色：{role}（可选 {ROLE_CHOICES}）", field="role") from None


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
    if new_role in DEPARTMENT_ROLES and new_department is None:
        raise UserError(f"{new_role.label}必须属于一个部门", field="department")
    if new_role != user.role:
        _check_role_change(user, new_role, actor)
    _check_administrator_fit(new_role, new_department)
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
    if (after["role"], after["department"]) != (before["role"], before["department"]):
        # A privilege change: the user's sessions end, and a new sign-in gets a new id.
        sessions.end_sessions(user, "privilege_change", actor=actor)
        liaisons.release_slot(user)  # an A/B slot belongs to one department's liaison
    return True


def _check_role_change(user: User, new_role: UserRole, actor: User | None) -> None:
    """三员分立: nobody changes their own role; the security and audit administrators' roles
    are fixed when the account is made (moving an account into or out of them would let one
    person hold two administrator roles in turn); the last active holder of each of the three
    administrator roles keeps it."""
    if actor is not None and actor.id == user.id:
        raise UserError("不能更改自己的角色。", field="role")
    if user.role in SEPARATE_ROLES or new_role in SEPARATE_ROLES:
        raise UserError(
            "安全管理员、审计管理员的角色在建号时确定，不能改入或改出；请另建账号后停用旧账号。",
            field="role",
        )
    if user.role in ADMINISTRATOR_ROLES and user.active and _other_active_admins(user) == 0:
        raise UserError(
            f"这是最后一个启用的{user.role.label}账号，不能改为其他角色。", field="role"
        )


def _check_administrator_fit(role: UserRole, department: Department | None) -> None:
    """Administrator roles belong to no department; nor does a county account, whose scope is
    its county (tracker/counties), never a department's data."""
    if (role in ADMINISTRATOR_ROLES or role == UserRole.COUNTY) and department is not None:
        raise UserError(f"{role.label}不属于任何部门，请不选部门。", field="department")


def _active_holders(role: UserRole, *, besides: User | None = None) -> int:
    """How many active accounts hold ``role`` (other than ``besides``)."""
    query = sa.select(sa.func.count()).where(User.role == role, User.active.is_(True))
    if besides is not None:
        query = query.where(User.id != besides.id)
    return db.session.scalar(query) or 0


def _other_active_admins(user: User) -> int:
    """Active accounts other than ``user`` holding ``user``'s administrator role."""
    return _active_holders(user.role, besides=user)


def activate_user(user: User, *, actor: User | None = None) -> None:
    """Let a deactivated account sign in again (its password is unchanged)."""
    if user.active:
        return
    before = user_snapshot(user)
    user.active = True
    record_event("user.activate", user, actor=actor, before=before, after=user_snapshot(user))


def reset_password(user: User, *, actor: User | None = None) -> str:
    """Give the account a new one-time password, to be changed at the next sign-in.

    Ends the user's web sessions and API tokens for good, and lifts any sign-in lock of the
    username; returns the password, which is shown once and never stored.
    """
    password = generate_password()
    _set_password(user, password)
    user.must_change_password = True
    _forget_failures(user.username)
    record_event("user.reset_password", user, actor=actor)
    _end_credentials(user, "password_reset", actor)
    return password


def end_access(user: User, *, actor: User) -> None:
    """The security administrator signs ``user`` out everywhere: every web session ends and
    every API token is revoked for good (a lost laptop, a suspected takeover). The password
    stays; the user signs in again and issues new tokens. Not for one's own account (the
    sessions page ends one's other sessions)."""
    if actor.id == user.id:
        raise UserError("不能对自己的账号强制下线；请在“登录会话”页结束其他会话。")
    record_event("user.end_access", user, actor=actor)
    _end_credentials(user, "ended_by_security_admin", actor)


def change_password(user: User, new_password: str) -> None:
    """Set a new password chosen by the user (every rule checked); clears the one-time flag
    and ends every session of the user (the caller opens a new one for the request)."""
    check_new_password(user, new_password)
    _set_password(user, new_password)
    user.must_change_password = False
    record_event("user.change_password", user, actor=user)
    sessions.end_sessions(user, "password_change", actor=user)


class SignInRefused(Invalid):
    """A sign-in that does not succeed; the message is shown as it is and names no reason
    that would tell whether the username exists."""


WRONG_CREDENTIALS = "用户名或密码不正确，或账号已停用。"
PAIR, ADDRESS, NAME, SLOW = "pair", "address", "name", "slow"
NO_ADDRESS = "-"


def sign_in(username: str, password: str, address: str | None = None, *, note: bool = True) -> User:
    """The active user with this username and password, signed-in bookkeeping done (with
    ``note=False`` the caller calls :func:`note_login` itself, once a second factor is right).

    Every attempt is counted *before* the password is checked, in one atomic upsert per
    counter (:func:`_reserve`), committed in a transaction of its own, so that concurrent
    guesses cannot all pass a check made before any of them was counted, and the request's
    rollback cannot undo the count. Refused without checking the password:

    - the pair (username as typed, client ``address``) after ``TRACKER_LOGIN_MAX_FAILURES``
      failures within ``TRACKER_LOGIN_LOCK_MINUTES``: it is locked for that long. The same
      username from another address is not locked, so nobody can lock its owner out;
    - the address after ``TRACKER_LOGIN_ADDRESS_MAX_FAILURES`` failures (any usernames);
    - once the username has failed ``TRACKER_LOGIN_USERNAME_SLOW_AFTER`` times from all
      addresses together, each pair is slowed to one guess per ``TRACKER_LOGIN_SLOW_SECONDS``.

    A success forgets the pair's failures and gives back the attempt to the other counters.
    """
    name = username.strip()[:64]
    where = (address or NO_ADDRESS)[:63]
    now = clock.utcnow()
    refusal = _reserve_apart(name, where, now)
    if refusal is not None:
        record_apart("user.login", object_type="user", after={"username": name},
                     outcome=Outcome.REFUSED)  # fmt: skip
        raise SignInRefused(refusal)
    user = user_by_username(name)
    if directory.enabled() and (user is None or user.directory_dn is not None):
        # The directory decides for the accounts it manages and for names nobody has here;
        # a local account (the break-glass administrators) keeps its own password.
        try:
            person = directory.authenticate(name, password)
        except (directory.DirectoryRefused, directory.DirectoryUnavailable) as error:
            outcome = (
                Outcome.REFUSED
                if isinstance(error, directory.DirectoryRefused)
                else Outcome.FAILURE
            )
            record_apart("user.login", object_type="user", outcome=outcome,
                         after={"username": name, "directory": error.code})  # fmt: skip
            raise
        if person is not None:
            user = _from_directory(user, person)
            if user.active:
                _forget_success(name, where)
                if note:
                    note_login(user, address)
                return user
    elif user is None:
        _spend_a_hash_check(password)  # as long as a real check: timing tells nothing either
    elif user.check_password(password) and user.active:
        _forget_success(name, where)
        if note:
            note_login(user, address)
        return user
    raise SignInRefused(_failed_apart(name, where, user.id if user else None, now))


def _from_directory(user: User | None, person: directory.DirectoryPerson) -> User:
    """The account of a directory sign-in: made on the first, brought up to date on each one
    after (name, e-mail, phone, role, department), every change audited."""
    phone = _directory_phone(person.phone)
    if user is None:
        user = User(
            username=person.username, display_name=person.display_name, email=person.email,
            phone=phone, role=person.role, department=person.department,
            directory_dn=person.dn, must_change_password=False,
        )  # fmt: skip
        user.set_password(directory.unusable_password())
        db.session.add(user)
        db.session.flush()
        record_event(
            "user.directory_create", user, actor=None, object_type="user",
            after={"username": user.username, "role": user.role.value,
                   "department": person.department.code if person.department else None,
                   "dn": person.dn},
        )  # fmt: skip
        return user
    changed = dict(directory.changes(user, person))
    if phone != user.phone:
        changed["phone"] = (user.phone, phone)
    if not changed:
        return user
    if "role" in changed or "department_id" in changed:
        sessions.end_sessions(user, "privilege_change")  # the old sessions end
    for name, (_, value) in changed.items():
        setattr(user, name, value)
    db.session.flush()
    record_event(
        "user.directory_sync", user, actor=None, object_type="user",
        before={k: _jsonable_value(old) for k, (old, _) in changed.items()},
        after={k: _jsonable_value(new) for k, (_, new) in changed.items()},
    )  # fmt: skip
    return user


def _directory_phone(phone: str | None) -> str | None:
    """The directory's phone as the account keeps it; one it cannot keep is left out."""
    try:
        return normalise_phone(phone)
    except UserError:
        return None


def _jsonable_value(value: object) -> object:
    return value.value if isinstance(value, UserRole) else value


def _pair_key(name: str, address: str) -> str:
    return f"{address}\n{name}"


def unlock_username(username: str, *, actor: User | None = None) -> bool:
    """Lift every sign-in lock of the username (from every address), forget its failures;
    False when there was nothing to lift."""
    name = username.strip()
    if not _forget_failures(name):
        return False
    user = user_by_username(name)
    record_event("user.unlock", user, actor=actor, object_type="user", after={"username": name})
    return True


def _forget_failures(name: str) -> int:
    """Delete the username's counters and locks at every address; how many of its
    (username, address) pairs had failures or a lock."""
    pairs = LoginThrottle.key.endswith(f"\n{name}", autoescape=True)
    removed = db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.scope == PAIR, pairs))
    db.session.execute(
        sa.delete(LoginThrottle).where(
            sa.or_(
                sa.and_(LoginThrottle.scope == SLOW, pairs),
                sa.and_(LoginThrottle.scope == NAME, LoginThrottle.key == name),
            )
        )
    )
    return rows_changed(removed)


def _forget_success(name: str, address: str) -> None:
    """A right password: the pair starts afresh; the address and the name get their attempt
    back (their counters only hold failures)."""
    table = LoginThrottle
    key = _pair_key(name, address)
    db.session.execute(sa.delete(table).where(table.scope.in_((PAIR, SLOW)), table.key == key))
    db.session.execute(
        sa.update(table)
        .where(
            sa.or_(
                sa.and_(table.scope == ADDRESS, table.key == address),
                sa.and_(table.scope == NAME, table.key == name),
            ),
            table.failures > 0,
        )
        .values(failures=table.failures - 1)
    )


def _lock_period() -> timedelta:
    return timedelta(minutes=_minutes())


def _locked_message(until: datetime) -> str:
    return (
        f"登录失败次数过多，该账号已暂时锁定，请于 {to_local(until):%H:%M}（北京时间）后再试，"
        "或请系统管理员解锁。"
    )


def _address_message(until: datetime) -> str:
    return (
        f"本机地址登录失败次数过多，已暂停从该地址登录，请于 {to_local(until):%H:%M}"
        "（北京时间）后再试。"
    )


def _slow_message() -> str:
    seconds = int(current_app.config["TRACKER_LOGIN_SLOW_SECONDS"])
    return f"该账号近期登录失败较多，为防止猜测密码，请 {seconds} 秒后再试。"


def _upsert(session: Session, scope: str, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Count one attempt under (scope, key) atomically: a single ``INSERT … ON CONFLICT DO
    UPDATE … RETURNING`` on both backends. Counters older than the lock period whose lock
    has passed start afresh. Returns the count and the lock."""
    table = LoginThrottle.__table__
    insert = ON_CONFLICT_INSERT[session.get_bind().dialect.name]
    statement = insert(LoginThrottle).values(scope=scope, key=key, failures=1, first_failed_at=now)
    stale = sa.and_(
        table.c.first_failed_at < now - _lock_period(),
        sa.or_(table.c.locked_until.is_(None), table.c.locked_until <= now),
    )
    upsert = statement.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={
            "failures": sa.case((stale, 1), else_=table.c.failures + 1),
            "first_failed_at": sa.case(
                (stale, statement.excluded.first_failed_at), else_=table.c.first_failed_at
            ),
            "locked_until": sa.case((stale, sa.null()), else_=table.c.locked_until),
        },
    ).returning(table.c.failures, table.c.locked_until)
    failures, locked_until = session.execute(upsert).one()
    return failures, locked_until


def _claim_slot(session: Session, key: str, now: datetime) -> bool:
    """One guess per ``TRACKER_LOGIN_SLOW_SECONDS`` for the pair: claim the next slot
    atomically (an upsert that updates only when the last slot has passed)."""
    table = LoginThrottle.__table__
    until = now + timedelta(seconds=int(current_app.config["TRACKER_LOGIN_SLOW_SECONDS"]))
    insert = ON_CONFLICT_INSERT[session.get_bind().dialect.name]
    statement = insert(LoginThrottle).values(
        scope=SLOW, key=key, failures=0, first_failed_at=now, locked_until=until
    )
    claim = statement.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={"locked_until": statement.excluded.locked_until},
        where=table.c.locked_until <= now,
    ).returning(table.c.key)
    return session.execute(claim).first() is not None


def _reserve_apart(name: str, address: str, now: datetime) -> str | None:
    """Count the attempt under the address, the pair and the name, in a transaction of its
    own; the refusal's message, or None when the password may be checked."""
    config = current_app.config
    with Session(db.engine) as session, session.begin():
        failures, until = _upsert(session, ADDRESS, address, now)
        if _refused(failures, until, config["TRACKER_LOGIN_ADDRESS_MAX_FAILURES"], now):
            return _address_message(until if until and until > now else now + _lock_period())
        key = _pair_key(name, address)
        failures, until = _upsert(session, PAIR, key, now)
        if _refused(failures, until, config["TRACKER_LOGIN_MAX_FAILURES"], now):
            return _locked_message(until if until and until > now else now + _lock_period())
        failures, _ = _upsert(session, NAME, name, now)
        if failures > config["TRACKER_LOGIN_USERNAME_SLOW_AFTER"] and not _claim_slot(
            session, key, now
        ):
            return _slow_message()
    return None


def _refused(failures: int, until: datetime | None, allowed: int, now: datetime) -> bool:
    """Locked now, or this attempt is one more than the failures allowed (the ones before it
    are still being checked, or were all wrong)."""
    return (until is not None and until > now) or failures > allowed


def _failed_apart(name: str, address: str, user_id: int | None, now: datetime) -> str:
    """A wrong password: lock the pair or the address when this was the last failure
    allowed (in a transaction of its own, audited); the message to show."""
    config = current_app.config
    allowed = config["TRACKER_LOGIN_MAX_FAILURES"]
    until = now + _lock_period()
    key = _pair_key(name, address)
    with Session(db.engine) as session, session.begin():
        record_event(
            "user.login", object_type="user", object_id=user_id, session=session,
            after={"username": name}, outcome=Outcome.FAILURE,
        )  # fmt: skip
        failures = (
            session.scalar(
                sa.select(LoginThrottle.failures).where(
                    LoginThrottle.scope == PAIR, LoginThrottle.key == key
                )
            )
            or 0
        )
        at_address = (
            session.scalar(
                sa.select(LoginThrottle.failures).where(
                    LoginThrottle.scope == ADDRESS, LoginThrottle.key == address
                )
            )
            or 0
        )
        if at_address >= config["TRACKER_LOGIN_ADDRESS_MAX_FAILURES"]:
            _lock(session, ADDRESS, address, until)
            record_event(
                "login.address_lock", object_type="address", session=session,
                outcome=Outcome.FAILURE,
                after={"address": address, "failures": at_address,
                       "locked_until": until.isoformat()},
            )  # fmt: skip
        if failures < allowed:
            left = allowed - failures
            return (
                f"{WRONG_CREDENTIALS}再失败 {left} 次，该账号将在本机地址被锁定 {_minutes()} 分钟。"
            )
        _lock(session, PAIR, key, until)
        record_event(
            "user.lock", object_type="user", object_id=user_id, session=session,
            outcome=Outcome.FAILURE,
            after={"username": name, "address": address, "failures": failures,
                   "locked_until": until.isoformat()},
        )  # fmt: skip
    return _locked_message(until)


def _lock(session: Session, scope: str, key: str, until: datetime) -> None:
    session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        .values(locked_until=until)
    )


def _minutes() -> int:
    return int(current_app.config["TRACKER_LOGIN_LOCK_MINUTES"])


def _spend_a_hash_check(password: str) -> None:
    check_password_hash(_decoy_hash(current_app.config["TRACKER_PASSWORD_HASH_METHOD"]), password)


@functools.cache
def _decoy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(16), method=method)


def note_login(user: User, address: str | None = None) -> None:
    user.last_login_at = utcnow()
    record_event("user.login", user, actor=user, after={"address": address})


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


# -- the policy in force -------------------------------------------------------------------


def _roles_named(values: str) -> str:
    labels = [
        role.label for role in UserRole if role.value in {v.strip() for v in values.split(",")}
    ]
    return "、".join(labels) or "无（均可自愿启用）"


def security_policy() -> list[tuple[str, list[tuple[str, str]]]]:
    """The rules in force, as (section, [(rule, value)]) for the security administrator's page:
    the fixed password rules and what the settings make of the rest (the setting's name beside
    each, so that whoever runs the server knows what to change)."""
    config = current_app.config
    max_age = int(config["TRACKER_PASSWORD_MAX_AGE_DAYS"])
    per = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天"}

    def rate(key: str) -> str:
        count, _, unit = str(config[key]).partition(" per ")
        return f"每{per.get(unit.strip(), unit)} {count} 次（{key}）"

    def setting(key: str, unit: str) -> str:
        return f"{config[key]} {unit}（{key}）"

    return [
        ("密码", [
            ("最短长度", f"{MIN_PASSWORD_LENGTH} 个字符"),
            ("字符类别", f"大写字母、小写字母、数字、其他符号四类中至少 {MIN_PASSWORD_CLASSES} 类"),
            ("不得使用", f"用户名，以及本人最近 {PASSWORD_HISTORY} 次用过的密码"),
            ("有效期", (f"{max_age} 天，到期须修改" if max_age else "不过期")
             + "（TRACKER_PASSWORD_MAX_AGE_DAYS）"),
            ("存储", f"只存散列（{config['TRACKER_PASSWORD_HASH_METHOD']}），不存明文"),
            ("新账号和重置", "系统生成一次性密码，首次登录后须修改；修改前不能使用接口"),
        ]),
        ("登录会话", [
            ("闲置退出", setting("TRACKER_SESSION_IDLE_MINUTES", "分钟")),
            ("最长登录", setting("TRACKER_SESSION_MAX_HOURS", "小时")),
            ("保持登录", "不提供；关闭浏览器即退出"),
            ("会话标识", "登录、修改密码和角色变更时更换；退出、改密、重置、停用即失效"),
        ]),
        ("登录失败与锁定", [
            ("用户名与地址", f"同一用户名自同一地址失败 {config['TRACKER_LOGIN_MAX_FAILURES']} 次，"
             f"锁定 {config['TRACKER_LOGIN_LOCK_MINUTES']} 分钟"
             "（TRACKER_LOGIN_MAX_FAILURES、TRACKER_LOGIN_LOCK_MINUTES）"),
            ("同一地址", f"失败 {config['TRACKER_LOGIN_ADDRESS_MAX_FAILURES']} 次即锁定该地址"
             "（TRACKER_LOGIN_ADDRESS_MAX_FAILURES）"),
            ("同一用户名", f"各地址合计失败 {config['TRACKER_LOGIN_USERNAME_SLOW_AFTER']} 次后，"
             f"每 {config['TRACKER_LOGIN_SLOW_SECONDS']} 秒只受理一次，不锁定本人"
             "（TRACKER_LOGIN_USERNAME_SLOW_AFTER、TRACKER_LOGIN_SLOW_SECONDS）"),
        ]),
        ("双因素认证", [
            ("必须启用的角色", f"{_roles_named(str(config['TRACKER_TOTP_REQUIRED_ROLES']))}"
             "（TRACKER_TOTP_REQUIRED_ROLES）"),
            ("方式", "动态口令（TOTP，30 秒一换），另有一次性恢复码"),
        ]),
        ("请求频率", [
            ("登录（每个地址）", rate("TRACKER_RATELIMIT_LOGIN_PER_ADDRESS")),
            ("接口（每个地址）", rate("TRACKER_RATELIMIT_API_PER_ADDRESS")),
            ("接口（每个用户）", rate("TRACKER_RATELIMIT_API_PER_USER")),
        ] if config["TRACKER_RATELIMIT_ENABLED"] else [
            ("限制", "已关闭（TRACKER_RATELIMIT_ENABLED）"),
        ]),
    ]  # fmt: skip
