"""``/readyz`` (public readiness, JSON) and ``/metrics`` (Prometheus, bearer token)."""

from __future__ import annotations

import hmac

from flask import Response, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from tracker import metrics
from tracker.ops import bp, queries


@bp.get("/readyz")
def ready() -> ResponseReturnValue:
    """Ready to serve: every check passes (200), else 503. Public, and reveals nothing."""
    checks = queries.readiness()
    ready = all(check.ok for check in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: check.as_json() for name, check in checks.items()},
    }
    response = jsonify(body)
    response.status_code = 200 if ready else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics", endpoint="metrics")
def metrics_endpoint() -> ResponseReturnValue:
    """The Prometheus exposition, for ``Authorization: Bearer <TRACKER_METRICS_TOKEN>``.

    Without a configured token the endpoint does not exist (404); a missing or wrong token
    is 401. The session cookie is never enough.
    """
    token = (current_app.config["TRACKER_METRICS_TOKEN"] or "").strip()
    if not token:
        abort(404)
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        return Response(
            "需要有效的监控令牌。\n", status=401, mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )  # fmt: skip
    directory = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    response = metrics.scrape(directory, queries.outbox_metrics)
    response.headers["Cache-Control"] = "no-store"
    return response
