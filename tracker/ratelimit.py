"""Request rate limits per client address and per user (Flask-Limiter).

The sign-in's *failures* are counted in the database (``tracker.auth.services``: atomic,
shared by every worker and instance, and what locks a username-and-address pair). This module
limits the *number of requests* — successful or not — a client address may send to the sign-in
form and to the JSON API, and the number of API requests one user's tokens may make, so that
one client cannot flood the service. It is Flask-Limiter's job, done better than code of our
own: a moving window, ``Retry-After`` and ``X-RateLimit-*`` headers, and storage that is
per process by default (``memory://``) or shared through Redis
(``TRACKER_RATELIMIT_STORAGE_URI=redis://…``) when several workers or instances must share
one count. With the in-memory storage each worker process counts for itself, so the effective
limit is the setting times the number of workers (docs/security.md).

The client address is ``request.remote_addr``: the socket's peer, or the address a trusted
proxy names in ``X-Forwarded-For`` (``tracker.proxy``), never a header from anyone else.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse


def client_address() -> str:
    """The key of a per-address limit (``tracker.proxy`` has already applied trusted headers)."""
    return request.remote_addr or "unknown"


limiter = Limiter(
    key_func=client_address,
    strategy="moving-window",
    headers_enabled=True,
    key_prefix="tracker",
)


def init_app(app: Flask) -> None:
    """Bind the limiter with the app's ``TRACKER_RATELIMIT_*`` settings."""
    app.config.setdefault("RATELIMIT_ENABLED", app.config["TRACKER_RATELIMIT_ENABLED"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["TRACKER_RATELIMIT_STORAGE_URI"])
    # A storage that cannot be reached (Redis down) must not take the service down with it:
    # the limits fall back to counting in this process, and the failure is logged.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)


def login_per_address() -> str:
    return str(current_app.config["TRACKER_RATELIMIT_LOGIN_PER_ADDRESS"])


def api_per_address() -> str:
    return str(current_app.config["TRACKER_RATELIMIT_API_PER_ADDRESS"])


def hit_user(user_id: int) -> int:
    """Count one API request of ``user_id``: 0 within the limit, else the seconds to wait.

    Checked after the token names its user (the per-address limit runs before, for everyone),
    so that a user's several tokens and addresses share one count.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return 0
    item = parse(str(current_app.config["TRACKER_RATELIMIT_API_PER_USER"]))
    strategy = limiter.limiter
    if strategy.hit(item, "api-user", str(user_id)):
        return 0
    stats = strategy.get_window_stats(item, "api-user", str(user_id))
    return max(1, math.ceil(stats.reset_time - time.time()))
