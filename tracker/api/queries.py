"""Reading API tokens, and the reports the API serves with everything they show."""

from __future__ import annotations

import hmac

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from tracker.api.models import ApiToken
from tracker.api.services import TOKEN_PREFIX, hash_token, split_token
from tracker.auth.models import User
from tracker.catalogue.models import Task
from tracker.extensions import db
from tracker.notifications import queries as reminder_queries
from tracker.notifications.models import Notification
from tracker.reports.models import Obligation, Report


def token_for(raw: str) -> ApiToken | None:
    """The active token whose secret is ``raw``, if its owner is active; else None."""
    prefix = split_token(raw)
    if prefix is None:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if token.revoked_at is not None or not token.user.active:
        return None
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, active ones first, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def token_of(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens (another user's is as good as missing)."""
    return db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )


def all_tokens(username: str | None = None) -> list[ApiToken]:
    """Every token, or one user's, for the command line."""
    query = sa.select(ApiToken).join(ApiToken.user).order_by(User.username, ApiToken.id)
    if username:
        query = query.where(User.username == username)
    return list(db.session.scalars(query))


def token_by_id_or_prefix(key: str) -> ApiToken | None:
    """A token by its number, or its prefix as ``token list`` prints it (``trk_1a2b3c4d_…``),
    bare (``1a2b3c4d``) or inside the whole token."""
    key = key.strip()
    condition = ApiToken.prefix == lookup_prefix(key)
    if key.isdigit():
        condition = sa.or_(condition, ApiToken.id == int(key))
    return db.session.scalar(sa.select(ApiToken).where(condition))


def lookup_prefix(key: str) -> str:
    """``trk_1a2b3c4d_…``, ``trk_1a2b3c4d_...``, ``trk_1a2b3c4d`` or a whole token →
    ``1a2b3c4d``; anything else is returned as given."""
    marker = f"{TOKEN_PREFIX}_"
    if not key.startswith(marker):
        return key
    return key[len(marker) :].split("_", 1)[0]


def report_with_context(report_id: int) -> Report | None:
    """A report with its obligation, item, document, figures and evidence loaded."""
    return db.session.scalar(
        sa.select(Report)
        .where(Report.id == report_id)
        .options(
            joinedload(Report.obligation).joinedload(Obligation.task).joinedload(Task.document),
            joinedload(Report.obligation)
            .joinedload(Obligation.task)
            .selectinload(Task.assignments),
            selectinload(Report.figures),
            selectinload(Report.evidence),
        )
    )


def notifications_of(
    user: User, *, unread_only: bool, limit: int, after: int | None = None
) -> list[Notification] | None:
    """Up to ``limit + 1`` of a user's notifications, newest first, that come after
    notification ``after`` (a keyset page; the extra row says whether another page follows),
    each with the obligation it names; None when ``after`` is not one of the user's own."""
    query = reminder_queries.notifications_for(user.id, unread_only=unread_only)
    if after is not None:
        key = db.session.execute(
            sa.select(Notification.created_at, Notification.id).where(
                Notification.id == after, Notification.user_id == user.id
            )
        ).first()
        if key is None:
            return None
        columns = (Notification.created_at, Notification.id)
        values = [
            sa.literal(value, type_=column.type) for column, value in zip(columns, key, strict=True)
        ]
        query = query.where(sa.tuple_(*columns) < sa.tuple_(*values))
    query = query.limit(limit + 1).options(
        joinedload(Notification.obligation).joinedload(Obligation.task).joinedload(Task.document)
    )
    return list(db.session.scalars(query))
