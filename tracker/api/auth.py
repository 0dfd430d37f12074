"""Bearer-token authentication of every API request; the session cookie is never read.

The application's ``_require_login`` hook skips this blueprint (it authenticates itself), and
the hook here answers 401 JSON instead of redirecting to the sign-in page. Because the API
trusts only the ``Authorization`` header, which a browser never adds on its own to a
cross-site request, its blueprint is exempt from CSRF protection.
"""

from __future__ import annotations

from flask import abort, g, request

from tracker import logs, ratelimit
from tracker.api import bp, queries, services
from tracker.api.errors import ApiError, error_response
from tracker.auth.models import User
from tracker.auth.services import must_change_password
from tracker.extensions import login_manager

# Endpoints of the API that anyone may read: the OpenAPI document describes shapes, not data,
# and clients (and code generators) need it before they hold a token.
PUBLIC_API_ENDPOINTS = frozenset({"api.openapi"})

# Every API request counts against its client address's limit (before the token is read, so
# that guessing tokens is limited too), and, once the token names its user, against the user's.
ratelimit.limiter.limit(ratelimit.api_per_address)(bp)


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or " " in value:
        return None
    return value


@bp.before_request
def _authenticate() -> None:
    """Set ``g.api_user`` from the bearer token, or answer 401."""
    # Pin Flask-Login's user for this request to anonymous, so that nothing (a template
    # helper, a shared function) can load the session's user behind the token's back.
    g._login_user = login_manager.anonymous_user()
    g.api_user = None
    if request.endpoint in PUBLIC_API_ENDPOINTS:
        return None
    raw = bearer_token(request.headers.get("Authorization"))
    if raw is None:
        raise ApiError(401)
    token = queries.token_for(raw)
    if token is None:
        raise ApiError(401, "API 令牌无效、已撤销，或其所属账号已停用。")
    if must_change_password(token.user):
        raise ApiError(
            403,
            "该账号须先登录网页修改一次性密码或已过期的密码，之后才能使用接口。",
            code="password_change_required",
        )
    wait = ratelimit.hit_user(token.user.id)
    if wait:
        response = error_response(429, "该账号的接口请求过于频繁，请稍后再试。")
        response.headers["Retry-After"] = str(wait)
        abort(response)
    services.note_use(token)
    g.api_user = token.user
    logs.note_user(token.user.id)
    return None


def api_user() -> User:
    """The user the request's token belongs to (set for every non-public endpoint)."""
    user = g.get("api_user")
    if not isinstance(user, User):  # pragma: no cover - the before_request hook sets it
        raise ApiError(401)
    return user
