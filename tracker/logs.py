"""Structured logs: one JSON object a line, every line in one time zone, with a request id.

Each line carries ``time`` (ISO 8601 in ``TRACKER_TIMEZONE`` with its offset, e.g.
``2026-12-02T10:15:00.123+08:00``), ``level``, ``logger``, ``message`` and the ``request_id``
of the request it was written in. The request id is the incoming ``X-Request-ID`` when it is a
plain token (letters, digits, ``.``, ``_``, ``-``, at most 64), else a new one; the response
returns it in ``X-Request-ID``, so a user's report of a failure can be found in the logs. Every
request writes one access line (logger ``tracker.access``).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_TRUSTED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_LOGGER = "tracker.access"
# The attributes every LogRecord has; anything else was passed as ``extra`` and is logged too.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a plain token, else a fresh one."""
    if header and _TRUSTED_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request id of the request being handled, if any."""
    if not has_request_context():
        return None
    value = g.get("request_id")
    return value if isinstance(value, str) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per record, its time in one zone."""

    def __init__(self, zone: ZoneInfo):
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone)
        payload: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        payload.update(
            (key, value) for key, value in record.__dict__.items() if key not in _STANDARD
        )
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of each record."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(zone: ZoneInfo, level: int = logging.INFO) -> None:
    """Send the root logger's records to stderr as JSON lines (once; later calls re-zone)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, StderrHandler):
            handler.setFormatter(JsonFormatter(zone))
            return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter(zone))
    root.addHandler(handler)
    root.setLevel(level)


def init_app(app: Flask) -> None:
    """Request ids and the access log; JSON logging unless the app is under test."""
    if not app.testing:
        configure(ZoneInfo(app.config["TRACKER_TIMEZONE"]))
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = current_request_id() or request_id_from(None)
    response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    elapsed = time.perf_counter() - started if isinstance(started, float) else 0.0
    logging.getLogger(ACCESS_LOGGER).info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 1),
            "endpoint": request.endpoint,
            "remote_addr": request.remote_addr,
            "user_id": _user_id(),
            "bytes": response.calculate_content_length(),
        },
    )
    return response


def note_user(user_id: int) -> None:
    """Name the request's user in its access line (called wherever a user is loaded).

    The access log never loads a user itself: a request that did not need one (``/healthz``
    with a session cookie) must not read the database for its log line.
    """
    g.log_user_id = user_id


def _user_id() -> int | None:
    value = g.get("log_user_id")
    return value if isinstance(value, int) else None
