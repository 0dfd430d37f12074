"""The OpenAPI 3.1 document, generated from the contract's models and the operations table.

Each view declares its operation once, where it is defined (``@operations.post(...)``): path,
method, summary, query model, body model, success response and error statuses. The decorator
registers the Flask route and records the operation; :func:`openapi_document` turns the
records and the models' JSON Schemas (pydantic's own generator) into the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from tracker.api import URL_PREFIX, bp, contract

JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REF_TEMPLATE = "#/components/schemas/{model}"

ERROR_DESCRIPTIONS = {
    400: "输入无效（含未列出的查询参数）：fields 给出每个字段的错误",
    401: "缺少有效的 API 令牌（令牌无效、已撤销或账号已停用）",
    403: "超出本部门或本角色的权限；或账号须先在网页修改一次性密码或已过期的密码"
    "（password_change_required）",
    404: "记录不存在",
    409: "版本已过期（stale_version）、状态不允许（invalid_state）或报告已存在（report_exists）",
    415: "请求体不是 JSON",
    429: "请求过于频繁（每个客户端地址、每个用户各有限额）；Retry-After 给出须等待的秒数",
}

View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Success:
    """The success response of an operation: a model, or raw content (a file, the document)."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    content: dict[str, Any] | None = None
    headers: dict[str, str] | None = None  # header name → its description


@dataclass(frozen=True)
class Operation:
    """One operation of the API, as the document lists it."""

    method: str
    rule: str
    operation_id: str
    summary: str
    success: Success
    description: str = ""
    also: tuple[Success, ...] = ()  # other successful answers (a 202 for a queued export)
    query: type[contract.QueryModel] = contract.NoQuery
    path: type[contract.QueryModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    public: bool = False

    @property
    def template(self) -> str:
        """``/reports/<int:report_id>`` → ``/reports/{report_id}``."""
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", self.rule)

    @property
    def statuses(self) -> list[int]:
        """Error statuses: every protected operation may answer 400 (arguments), 401, 403
        (a token whose owner must first change a one-time or expired password) and, like
        every operation, 429 (tracker/ratelimit.py)."""
        common = {429} if self.public else {400, 401, 403, 429}
        return sorted(common | set(self.errors))


class Operations:
    """The table of operations, filled by the decorators beside the views."""

    def __init__(self, blueprint: Blueprint):
        self.blueprint = blueprint
        self.by_endpoint: dict[str, Operation] = {}

    def route(self, method: str, rule: str, **spec: Any) -> Callable[[View], View]:
        """Register ``view`` at ``rule`` for ``method`` and record its operation."""

        def register(view: View) -> View:
            operation = Operation(method=method.lower(), rule=rule, **spec)
            self.by_endpoint[f"{self.blueprint.name}.{view.__name__}"] = operation
            self.blueprint.add_url_rule(rule, view_func=view, methods=[method])
            return view

        return register

    def get(self, rule: str, **spec: Any) -> Callable[[View], View]:
        """A GET operation."""
        return self.route("GET", rule, **spec)

    def post(self, rule: str, **spec: Any) -> Callable[[View], View]:
        """A POST operation."""
        return self.route("POST", rule, **spec)

    def patch(self, rule: str, **spec: Any) -> Callable[[View], View]:
        """A PATCH operation."""
        return self.route("PATCH", rule, **spec)

    def for_endpoint(self, endpoint: str | None) -> Operation | None:
        """The operation a request's endpoint serves, if any."""
        return self.by_endpoint.get(endpoint or "")


operations = Operations(bp)


# -- the document ----------------------------------------------------------------------------


class _Schemas(GenerateJsonSchema):
    """pydantic's generator, without the titles it would invent from field names
    (``"Task Number"``); titles given on purpose (the Chinese labels) stay."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def openapi_document() -> dict[str, Any]:
    """The whole document; server URLs are relative to where it is served."""
    # The operations are declared beside their views: make sure they have all been read.
    import tracker.api.routes  # noqa: F401

    table = list(operations.by_endpoint.values())
    refs, schemas = _component_schemas(table)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "任务分工落实跟踪系统 API",
            "version": "1.0.0",
            "description": (
                "供各部门自有系统使用的 JSON 接口。每个请求须带 "
                "`Authorization: Bearer <token>`（令牌在“接口令牌”页面或用 "
                "`flask --app tracker token create` 签发）；不接受登录会话 Cookie。"
                "令牌代表其所属用户，权限与网页相同。错误一律为 "
                '`{"error", "message", "fields"}`；失败的请求不写入任何数据。'
            ),
        },
        "servers": [{"url": URL_PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(table, refs),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "trk_…"}
            },
            "schemas": schemas,
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": {JSON: {"schema": refs[(contract.Error, "serialization")]}},
                }
                for code, description in ERROR_DESCRIPTIONS.items()
            },
        },
    }


# pydantic's own key type also admits dataclasses, which the contract does not use.
ModelKey = tuple[type[Any], JsonSchemaMode]


def _component_schemas(table: list[Operation]) -> tuple[dict[ModelKey, Any], dict[str, Any]]:
    """Every body (as validated) and response (as serialized) model, with what they use."""
    keys: list[ModelKey] = [(contract.Error, "serialization")]
    for operation in table:
        if operation.body is not None:
            keys.append((operation.body, "validation"))
        for success in (operation.success, *operation.also):
            if success.model is not None:
                keys.append((success.model, "serialization"))
    unique = list(dict.fromkeys(keys))
    refs, definitions = models_json_schema(
        unique, ref_template=REF_TEMPLATE, schema_generator=_Schemas
    )
    return dict(refs), definitions.get("$defs", {})


def _paths(table: list[Operation], refs: dict[ModelKey, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for operation in table:
        item = paths.setdefault(operation.template, {})
        if operation.path is not None:
            item["parameters"] = parameters(operation.path, "path")
        item[operation.method] = _operation(operation, refs)
    return paths


def _operation(operation: Operation, refs: dict[ModelKey, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
    }
    if operation.description:
        document["description"] = operation.description
    if operation.public:
        document["security"] = []
    query = parameters(operation.query, "query")
    if query:
        document["parameters"] = query
    if operation.body is not None:
        document["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": refs[(operation.body, "validation")]}},
        }
    document["responses"] = _responses(operation, refs)
    return document


def _responses(operation: Operation, refs: dict[ModelKey, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for success in (operation.success, *operation.also):
        content = success.content
        if success.model is not None:
            content = {JSON: {"schema": refs[(success.model, "serialization")]}}
        answer: dict[str, Any] = {"description": success.description, "content": content}
        if success.headers:
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in success.headers.items()
            }
        responses[str(success.status)] = answer
    for code in operation.statuses:
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return responses


def parameters(model: type[BaseModel], location: str) -> list[dict[str, Any]]:
    """The query (or path) parameters a model declares, each with its own schema."""
    properties = model.model_json_schema(ref_template=REF_TEMPLATE)["properties"]
    found = []
    for name, field in model.model_fields.items():
        schema = _present(properties[name])
        found.append(
            {
                "name": name,
                "in": location,
                "required": location == "path" or field.is_required(),
                "description": field.description or "",
                "schema": schema,
            }
        )
    return found


def _present(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema when it is given: a query argument is never ``null``."""
    schema = {k: v for k, v in schema.items() if k not in ("title", "description")}
    if "anyOf" in schema:
        branches = [s for s in schema.pop("anyOf") if s.get("type") != "null"]
        if len(branches) == 1:
            schema = {**branches[0], **schema}
        else:
            schema["anyOf"] = branches
    if schema.get("default", ...) is None:
        del schema["default"]
    return schema
