"""Every API write audited once, by one hook on the blueprint, with the answer it got."""

from __future__ import annotations

from flask import Response, request

from tracker.api import bp
from tracker.audit.hooks import request_actor, request_object
from tracker.audit.models import Outcome
from tracker.audit.services import record_apart, record_event
from tracker.extensions import db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@bp.after_request
def _audit_write(response: Response) -> Response:
    """Every API write is audited once here, with its answer: success in the request's own
    transaction (committed with it), a failure apart (the request's is rolled back). A 403 is
    recorded by the refusal hook of every surface (``tracker.audit.hooks``)."""
    if request.method not in WRITE_METHODS or response.status_code == 403:
        return response
    object_type, object_id, details = request_object()
    details["status"] = response.status_code
    if response.status_code < 400:
        record_event(request.endpoint or "api", actor=request_actor(), object_type=object_type,
                     object_id=object_id, after=details)  # fmt: skip
    else:
        db.session.rollback()
        record_apart(request.endpoint or "api", actor=request_actor(), object_type=object_type,
                     object_id=object_id, after=details, outcome=Outcome.FAILURE)  # fmt: skip
    return response
