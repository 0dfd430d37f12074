"""Server-side web sessions: opened at sign-in, checked on every request, revocable.

Flask-Login keeps ``s:<random id>`` in the signed session cookie (:meth:`User.get_id`); the
user loader (:func:`load_session_user`) finds the row of ``user_session`` by the id's SHA-256
and signs the request in only while that row is open: not ended, seen within
``TRACKER_SESSION_IDLE_MINUTES`` and opened less than ``TRACKER_SESSION_MAX_HOURS`` ago, its
user active. A replayed cookie of an ended session therefore signs nobody in.

"Remember me" is gone: the cookie lives as long as the browser session and never longer than
the absolute lifetime, and no ``remember_token`` cookie is issued or accepted (its old form,
``user_id:`` and a fragment of the password hash, is refused by the loader).

A GET stays cheap: ``last_seen_at`` is written at most once every :data:`TOUCH_RESOLUTION`
(the one write a page view may make, besides audit events; see tests/test_get_is_read_only.py).
An idle or expired session is refused without a write: it simply no longer counts as open.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from flask_login import login_user

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import User, UserSession
from tracker.db import rows_changed
from tracker.extensions import db

# last_seen_at is bookkeeping for the idle time-out: refreshed at most this often.
TOUCH_RESOLUTION = timedelta(minutes=1)
PREFIX = "s:"

# Why a session ended, as stored in ``end_reason`` and shown on the sessions page.
END_REASONS = {
    "logout": "已退出登录",
    "password_change": "修改了密码",
    "password_reset": "管理员重置了密码",
    "deactivated": "账号已停用",
    "privilege_change": "角色或部门已变更",
    "ended_by_user": "由本人结束",
    "rotated": "会话已更新",
    "ended_by_security_admin": "安全管理员强制下线",
    "second_factor_reset": "管理员重置了第二因素",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config["TRACKER_SESSION_IDLE_MINUTES"]))


def max_age() -> timedelta:
    return timedelta(hours=int(current_app.config["TRACKER_SESSION_MAX_HOURS"]))


def open_condition(now: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition of a session still open at ``now``."""
    return sa.and_(
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - idle_limit(),
        UserSession.created_at > now - max_age(),
    )


def is_open(row: UserSession, now: datetime) -> bool:
    return (
        row.ended_at is None
        and row.last_seen_at > now - idle_limit()
        and row.created_at > now - max_age()
    )


def client_address() -> str | None:
    """The client's address: the socket's, or the one a trusted proxy forwarded
    (:class:`tracker.proxy.TrustedProxyFix` has already put it into ``remote_addr``)."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:64] or None


def _user_agent() -> str | None:
    agent = request.user_agent.string if has_request_context() else ""
    return agent[:255] or None


def open_session(user: User) -> UserSession:
    """Sign ``user`` in with a new server-side session and a fresh cookie.

    Whatever the cookie held before (an earlier sign-in's session, a session id fixed by
    someone else) is thrown away first: the session id changes at every sign-in.
    """
    previous = current_session()
    if previous is not None and previous.ended_at is None:
        _end(previous, "rotated")
    session.clear()
    now = clock.utcnow()
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=hash_token(token), user=user, created_at=now, last_seen_at=now,
        client_address=client_address(), user_agent=_user_agent(),
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    g.session_token = token
    login_user(user, remember=False)
    g.user_session = row
    return row


def rotate_session(user: User) -> UserSession:
    """A new session id for the signed-in user after a privilege or password change."""
    return open_session(user)


def current_session() -> UserSession | None:
    """The open session the current request was signed in with, if any."""
    if not has_request_context():
        return None
    row = g.get("user_session")
    return row if isinstance(row, UserSession) else None


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of an open session named by the cookie, or None."""
    if not session_id.startswith(PREFIX):
        return None  # the old ``user_id:fragment`` form, or anything else: signs nobody in
    token = session_id[len(PREFIX) :]
    if not token or len(token) > 128:
        return None
    row = db.session.scalar(
        sa.select(UserSession).where(UserSession.token_hash == hash_token(token))
    )
    now = clock.utcnow()
    if row is None or not is_open(row, now) or not row.user.active:
        return None
    if now - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = now
        db.session.flush()
    g.session_token = token
    g.user_session = row
    return row.user


def _end(row: UserSession, reason: str) -> None:
    row.ended_at = clock.utcnow()
    row.end_reason = reason
    db.session.flush()


def end_current(reason: str = "logout") -> None:
    """End the session of the current request (signing out)."""
    row = current_session()
    if row is not None and row.ended_at is None:
        _end(row, reason)
        record_event(
            "session.end", row.user, actor=row.user, object_type="user",
            after={"session": row.id, "reason": reason},
        )  # fmt: skip


def end_sessions(
    user: User, reason: str, *, actor: User | None = None, except_id: int | None = None
) -> int:
    """End every open session of ``user`` (but ``except_id``); how many ended. Audited."""
    now = clock.utcnow()
    query = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    statement = query.values(ended_at=now, end_reason=reason)
    fetch = {"synchronize_session": "fetch"}  # rows already loaded see the end too
    ended = rows_changed(db.session.execute(statement, execution_options=fetch))
    if ended:
        record_event(
            "session.end_all", user, actor=actor, object_type="user",
            after={"reason": reason, "sessions": ended, "kept": except_id},
        )  # fmt: skip
    return ended


def purge_closed(now: datetime | None = None) -> int:
    """Delete the sessions that ended, or went idle or out of date, more than
    ``TRACKER_SESSION_KEEP_DAYS`` ago; how many. Open sessions are never touched: a row is
    deleted only once its last activity is older than the idle limit and the keep period."""
    now = now or clock.utcnow()
    keep = timedelta(days=int(current_app.config["TRACKER_SESSION_KEEP_DAYS"]))
    before = now - keep - idle_limit()
    statement = sa.delete(UserSession).where(
        sa.or_(
            UserSession.ended_at < now - keep,
            sa.and_(UserSession.ended_at.is_(None), UserSession.last_seen_at < before),
        )
    )
    return rows_changed(
        db.session.execute(statement, execution_options={"synchronize_session": False})
    )


def open_session_counts() -> dict[int, int]:
    """user id → how many sessions the user has open now (users with none are absent)."""
    now = clock.utcnow()
    rows = db.session.execute(
        sa.select(UserSession.user_id, sa.func.count())
        .where(open_condition(now))
        .group_by(UserSession.user_id)
    )
    return {user_id: count for user_id, count in rows}


def open_sessions_of(user: User) -> list[UserSession]:
    """The user's open sessions, the most recently seen first."""
    now = clock.utcnow()
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, open_condition(now))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def own_open_session(user: User, session_id: int) -> UserSession | None:
    """One of the user's own open sessions (another user's is as good as missing)."""
    return db.session.scalar(
        sa.select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            open_condition(clock.utcnow()),
        )
    )


def end_one(user: User, session_id: int) -> bool:
    """End one of the user's own open sessions from the sessions page; False if none."""
    row = own_open_session(user, session_id)
    if row is None:
        return False
    _end(row, "ended_by_user")
    record_event(
        "session.end", user, actor=user, object_type="user",
        after={"session": row.id, "reason": "ended_by_user", "address": row.client_address},
    )  # fmt: skip
    return True


# -- between the password and the second factor -----------------------------------------------

PENDING_KEY = "second_factor_pending"
PENDING_LIFETIME = timedelta(minutes=5)
ENROL_KEY = "second_factor_enrol"


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in whose password was right and whose second factor is still to come; nobody is
    signed in yet. ``expired`` after :data:`PENDING_LIFETIME` or from another address."""

    user: User
    address: str | None
    next: str | None
    expired: bool


def start_pending(user: User, address: str | None, next_url: str | None) -> None:
    """Remember, in the signed session cookie, that ``user`` gave the right password here."""
    until = clock.utcnow() + PENDING_LIFETIME
    session[PENDING_KEY] = {
        "user": user.id, "until": int(until.timestamp()), "address": address, "next": next_url,
    }  # fmt: skip


def pending_sign_in() -> PendingSignIn | None:
    """The sign-in waiting for its second factor, or None (none, or its user now inactive)."""
    value = session.get(PENDING_KEY)
    if not isinstance(value, dict) or not isinstance(value.get("user"), int):
        return None
    user = db.session.get(User, value["user"])
    if user is None or not user.active:
        return None
    address = value.get("address")
    expired = (
        int(clock.utcnow().timestamp()) >= int(value.get("until") or 0)
        or address != client_address()
    )
    return PendingSignIn(user=user, address=address, next=value.get("next"), expired=expired)


def drop_pending() -> None:
    session.pop(PENDING_KEY, None)


def enrolment_secret(user: User, new_secret: Callable[[], str]) -> str:
    """The secret offered to ``user`` for enrolment: the same one from the page's GET to its
    POST (kept in the signed session cookie), so that a wrong code keeps the same QR code."""
    value = session.get(ENROL_KEY)
    if isinstance(value, dict) and value.get("user") == user.id and value.get("secret"):
        return str(value["secret"])
    secret = new_secret()
    session[ENROL_KEY] = {"user": user.id, "secret": secret}
    return secret


def drop_enrolment_secret() -> None:
    session.pop(ENROL_KEY, None)
