"""What other instances call: ``/api/v1/federation``, instance tokens and signatures only.

Like the JSON API it never reads the session cookie (the application's sign-in hook skips
this blueprint, which authenticates each request itself), so it is exempt from CSRF. Errors
answer the API's JSON envelope (tracker.api.errors.error_response).

A member's token reads the documents it may adopt and posts its own roll-ups; there is no
endpoint from which it could read another member's roll-ups.
"""

from __future__ import annotations

import time

from flask import Response, g, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, default_exceptions

from tracker.api.auth import bearer_token
from tracker.api.errors import error_response
from tracker.catalogue.queries import document_by_number
from tracker.errors import DomainError
from tracker.extensions import csrf
from tracker.federation import api_bp, queries, services, wire
from tracker.federation.models import MemberInstance

csrf.exempt(api_bp)


class Refused(Exception):
    """Answer with the JSON envelope."""

    def __init__(self, status: int, message: str, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@api_bp.before_request
def _authenticate() -> None:
    """``g.member`` from the bearer instance token, or 401."""
    from tracker.extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    raw = bearer_token(request.headers.get("Authorization"))
    member = queries.member_for_token(raw) if raw else None
    if member is None:
        raise Refused(401, "需要有效的实例令牌：Authorization: Bearer <instance token>。")
    if request.headers.get(wire.INSTANCE_HEADER, member.code) != member.code:
        raise Refused(401, f"{wire.INSTANCE_HEADER} 与实例令牌所属的实例不符。")
    g.member = member


def _member() -> MemberInstance:
    member = g.get("member")
    if not isinstance(member, MemberInstance):  # pragma: no cover - the hook sets it
        raise Refused(401, "需要有效的实例令牌。")
    return member


@api_bp.get("/documents/<path:number>")
def document(number: str) -> Response:
    """The document as ``tracker.document/1``, for a member to adopt."""
    found = document_by_number(number)
    if found is None:
        raise Refused(404, f"没有文件 {number}。", "not_found")
    return jsonify(queries.export_document(found))


@api_bp.post("/rollups")
def rollups() -> tuple[Response, int]:
    """A member's signed roll-up: 201 and the receipt; the same body again 200 and the same
    receipt (``duplicate: true``); another body under a held revision 409."""
    member = _member()
    body = request.get_data(cache=True)
    problem = wire.check_signature(
        member.token_hash,
        request.headers.get(wire.TIMESTAMP_HEADER),
        request.headers.get(wire.SIGNATURE_HEADER),
        body,
        time.time(),
    )
    if problem:
        raise Refused(401, problem)
    try:
        rollup = wire.Rollup.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Refused(
            400, f"报送内容不符合 {wire.ROLLUP_FORMAT}：{where}: {first['msg']}", "invalid"
        ) from None
    row, duplicate = services.receive_rollup(member, body, rollup)
    services.note_use(member)
    return jsonify(services.receipt_of(row, duplicate)), 200 if duplicate else 201


@api_bp.errorhandler(Refused)
def _refused(exc: Refused) -> Response:
    return error_response(exc.status, exc.message, code=exc.code)


@api_bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    fields = {exc.field: exc.message} if exc.field and exc.status == 400 else None
    return error_response(exc.status, exc.message, code=exc.code, fields=fields)


def _http_error(exc: HTTPException) -> Response:
    return error_response(exc.code or 500)


api_bp.register_error_handler(HTTPException, _http_error)
for _code in default_exceptions:
    api_bp.register_error_handler(_code, _http_error)
