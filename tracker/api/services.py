"""Issuing and revoking API tokens (audited); noting their use. Flushes, never commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from tracker import clock
from tracker.api.models import ApiToken
from tracker.audit.services import record_event
from tracker.auth import services as auth_services
from tracker.auth.models import User
from tracker.errors import Invalid
from tracker.extensions import db

TOKEN_PREFIX = "trk"  # noqa: S105 - the public marker of a token, not a secret
MAX_ACTIVE_TOKENS = 20
MAX_NAME_LENGTH = 64
# ``last_used_at`` is bookkeeping, not an audit trail: refresh it at most this often.
USE_RESOLUTION = timedelta(minutes=1)


class TokenError(Invalid):
    """A token change that cannot be made; the message is shown as it is, beside the name."""

    def __init__(self, message: str, *, field: str | None = "name"):
        super().__init__(message, field=field)


def hash_token(raw: str) -> str:
    """SHA-256 of the whole token. Tokens carry 256 random bits, so no salt or slow hash."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def split_token(raw: str) -> str | None:
    """The lookup prefix of a well-formed ``trk_<prefix>_<secret>`` token, else None."""
    parts = raw.split("_", 2)  # the secret itself may contain "_"
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1]


def create_token(user: User, *, name: str, actor: User | None) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns the row and the token, which is never stored."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise TokenError(f"令牌名称不能为空，且不超过 {MAX_NAME_LENGTH} 个字符")
    if not user.active:
        raise TokenError(f"账号 {user.username} 已停用，不能签发令牌")
    active = sa.select(sa.func.count()).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
    )
    if (db.session.scalar(active) or 0) >= MAX_ACTIVE_TOKENS:
        raise TokenError(f"每个账号最多 {MAX_ACTIVE_TOKENS} 个有效令牌，请先撤销不用的令牌")
    prefix = _unused_prefix()
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user=user, name=name, prefix=prefix, token_hash=hash_token(raw))
    db.session.add(token)
    record_event("token.create", token, actor=actor, after=token_snapshot(token))
    return token, raw


def _unused_prefix() -> str:
    while True:
        prefix = secrets.token_hex(4)
        if db.session.scalar(sa.select(ApiToken.id).where(ApiToken.prefix == prefix)) is None:
            return prefix


def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    """Revoke a token at once; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return
    before = token_snapshot(token)
    token.revoked_at = clock.utcnow()
    db.session.flush()
    record_event("token.revoke", token, actor=actor, before=before, after=token_snapshot(token))


def revoke_tokens_of(user: User, reason: str, actor: User | None) -> int:
    """Revoke every active token of ``user`` for good (a password reset, a deactivation:
    reactivating the account later revives none of them); how many. Audited."""
    tokens = list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    now = clock.utcnow()
    for token in tokens:
        token.revoked_at = now
    if tokens:
        db.session.flush()
        record_event(
            "token.revoke_all", user, actor=actor, object_type="user",
            after={"reason": reason, "tokens": [t.prefix for t in tokens]},
        )  # fmt: skip
    return len(tokens)


# The account's credentials ending (tracker.auth.services) ends its tokens too.
auth_services.on_credentials_ended(revoke_tokens_of)


def note_use(token: ApiToken) -> None:
    """Record when a token was last used (at most once a minute, so reads stay reads)."""
    now = clock.utcnow()
    if token.last_used_at is None or now - token.last_used_at >= USE_RESOLUTION:
        token.last_used_at = now
        db.session.flush()


def token_snapshot(token: ApiToken) -> dict[str, Any]:
    """What the audit log keeps of a token: never the token itself."""
    return {
        "user": token.user.username if token.user else None,
        "name": token.name,
        "prefix": token.prefix,
        "revoked": token.revoked_at is not None,
    }
