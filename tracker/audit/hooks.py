"""Recording refusals: every answer 403, from any page or API call, becomes an audit event.

One ``after_request`` hook instead of a call beside every ``abort(403)``: the permission
wrappers, the domain errors' handlers and the API all end in a 403 response, and this sees
each of them. The request's transaction is rolled back for a 403 anyway, so the event is
written in a transaction of its own (after rolling the request's back, so that on SQLite it
never waits for the request's own write lock).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from flask_login import current_user

from tracker.audit.models import Outcome
from tracker.audit.services import record_apart
from tracker.extensions import db

PATH_LENGTH = 500


def request_actor() -> Any:
    """The user behind the request: the API's token holder, else the signed-in user."""
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user
    return current_user if current_user.is_authenticated else None


def request_object() -> tuple[str, int | None, dict[str, Any]]:
    """(object type, object id, details) of the request: its endpoint, the first number in
    its URL, and the method and path."""
    numbers = [v for v in (request.view_args or {}).values() if isinstance(v, int)]
    details = {"method": request.method, "path": request.full_path.rstrip("?")[:PATH_LENGTH]}
    return (request.endpoint or "")[:64], numbers[0] if numbers else None, details


def init_app(app: Flask) -> None:
    """Install the hook; registered after the request commit's, so it runs before it."""

    @app.after_request
    def _record_refusal(response: Response) -> Response:
        if response.status_code == 403:
            db.session.rollback()
            object_type, object_id, details = request_object()
            record_apart(
                "access.refused", actor=request_actor(), object_type=object_type,
                object_id=object_id, after=details, outcome=Outcome.REFUSED,
            )  # fmt: skip
        return response
