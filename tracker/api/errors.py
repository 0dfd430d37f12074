"""Errors as JSON: ``{"error": CODE, "message": TEXT, "fields": {...}}``.

Every failure of an API request answers in this shape: invalid input (400, with a message
per field), a missing or refused token (401), another department's or role's object (403),
a missing object or URL (404), a stale version or a forbidden state change (409). A response
of 400 or more is rolled back by the request hook, so a failed request writes nothing.
"""

from __future__ import annotations

import re

from flask import Response, jsonify
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, default_exceptions

from tracker.api import bp
from tracker.api.contract import CODES, Error
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.guards import RefusedInput

MESSAGES = {
    400: "请求无效。",
    401: "需要有效的 API 令牌：Authorization: Bearer <token>。",
    403: "无权访问：超出本部门或本角色的权限。",
    404: "请求的地址或记录不存在。",
    405: "该地址不支持此请求方式。",
    409: "请求与记录的当前状态冲突。",
    413: "请求内容过大。",
    415: "请求内容应为 JSON（Content-Type: application/json）。",
    429: "请求过于频繁，请按 Retry-After 给出的秒数稍后再试。",
    500: "服务器处理请求时出错；数据未被更改。",
}


class ApiError(Exception):
    """An error the API answers with; raise it from any view or helper."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, str] | None = None,
    ):
        super().__init__(message or MESSAGES.get(status, ""))
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message or MESSAGES.get(status, "")
        self.fields = fields or {}


class InvalidInput(ApiError):
    """400 with a message for each invalid field."""

    def __init__(self, fields: dict[str, str], message: str = "提交的内容有误，请按字段修改。"):
        super().__init__(400, message, code="invalid", fields=fields)


def error_response(
    status: int,
    message: str | None = None,
    *,
    code: str | None = None,
    fields: dict[str, str] | None = None,
) -> Response:
    """The JSON error response; 401 also says how to authenticate."""
    status = status if status in CODES else (500 if status >= 500 else 400)
    body = Error(
        error=code or CODES[status], message=message or MESSAGES[status], fields=fields or {}
    )
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracker"'
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.message, code=exc.code, fields=exc.fields)


# A service names a field as the web form does; the API names it as its request body does
# (a row's errors share the row's key, as pydantic's do: :mod:`tracker.api.validation`).
_FIELD_NAMES = (
    (re.compile(r"^(milestones|indicators)-(\d+)-(\w+)$"), r"\1[\2]"),
    (re.compile(r"^indicator_(\w+)$"), r"indicator_values.\1"),
    (re.compile(r"^milestone_(\w+)_note$"), r"milestone_statuses.\1"),
)


def body_field(name: str) -> str:
    """``milestones-0-due_period`` → ``milestones[0]``; ``indicator_<key>`` →
    ``indicator_values.<key>``; ``milestone_<key>_note`` → ``milestone_statuses.<key>``."""
    for pattern, replacement in _FIELD_NAMES:
        if pattern.match(name):
            return pattern.sub(replacement, name)
    return name


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    """A service's refusal: its status and code (403 not allowed, 409 stale or wrong state…).

    The request hook rolls the transaction back for every answer of 400 and above.
    """
    fields = {body_field(exc.field): exc.message} if exc.field and exc.status == 400 else None
    return error_response(exc.status, exc.message, code=exc.code, fields=fields)


@bp.errorhandler(StaleDataError)
def _stale_row(exc: StaleDataError) -> Response:
    # Two writers raced past the version check; the loser is told to read again.
    return error_response(409, "该报告刚被他人修改，请重新读取后再提交。", code="stale_version")


@bp.errorhandler(IntegrityError)
def _integrity(exc: IntegrityError) -> Response:
    # A concurrent request created the same row first (e.g. two reports for one obligation).
    return error_response(409, "该记录刚被另一请求创建或修改，请重新读取。", code="conflict")


def _http_error(exc: HTTPException) -> Response:
    if exc.code is not None and exc.code >= 500:
        db.session.rollback()
    # A refused input (tracker.guards) says what was wrong with it.
    if isinstance(exc, RefusedInput):
        fields = {exc.field: exc.description} if exc.field else None
        return error_response(400, exc.description, code="invalid", fields=fields)
    return error_response(exc.code or 500)


# By code as well as by class: the application's own HTML handlers are registered by code,
# and Flask prefers a handler for the code over one for the class.
bp.register_error_handler(HTTPException, _http_error)
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
