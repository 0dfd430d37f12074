"""Parsing a request into its contract model, and pydantic's errors into the API's messages.

Views call :func:`body` or :func:`query`; either answers the envelope's 400 (one Chinese
message per field, keyed ``obligation_id``, ``figures``, ``figures[2]``) or 415. The lookups
below (a tracked period, a department, a document) are the checks a pattern cannot make.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tracker.api.contract import PERIOD_PATTERN, QueryModel, ReportFields
from tracker.api.errors import ApiError, InvalidInput
from tracker.auth.services import UserError, resolve_department
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument
from tracker.delivery.rules import AMOUNT_MESSAGE
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation
from tracker.reports.services import planned_indicators, planned_milestones

M = TypeVar("M", bound=BaseModel)
Q = TypeVar("Q", bound=QueryModel)

UNKNOWN_FIELD = "未知字段"
UNKNOWN_ARGUMENT = "未知的查询参数"


def body(model: type[M], *, optional: bool = False) -> M:
    """The request's JSON object as ``model``; an empty body counts as ``{}`` if ``optional``."""
    return parse(model, json_object(optional=optional))


def query(model: type[Q]) -> Q:
    """The request's query arguments (the first value of each) as ``model``."""
    return parse(model, request.args.to_dict(), unknown=UNKNOWN_ARGUMENT)


def parse(model: type[M], data: dict[str, Any], *, unknown: str = UNKNOWN_FIELD) -> M:
    """``data`` validated as ``model``, or :class:`InvalidInput` with a message per field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_messages(model, exc.errors(), unknown=unknown)) from None


def json_object(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; 400 for no body or not an object, 415 for not JSON."""
    if not request.get_data(cache=True):
        if optional:
            return {}
        raise ApiError(400, "请求体不能为空，应为 JSON 对象。", code="invalid_json")
    if not request.is_json:
        raise ApiError(415)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "请求体不是有效的 JSON 对象。", code="invalid_json")
    return data


# -- messages --------------------------------------------------------------------------------


def field_messages(
    model: type[BaseModel], errors: list[ErrorDetails], *, unknown: str = UNKNOWN_FIELD
) -> dict[str, str]:
    """One message per field: the first error pydantic reports for it."""
    messages: dict[str, str] = {}
    for error in errors:
        key, label = _key_and_label(model, error["loc"])
        messages.setdefault(key, _message(error, label, unknown))
    return messages


def _key_and_label(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[str, str]:
    """``("figures", 2, "value")`` → ``("figures[2]", "数值")``: a row's errors share its key,
    and the message names the innermost field's title; a mapping's entry is keyed by its key
    (``("indicator_values", "k1")`` → ``indicator_values.k1``)."""
    key, label = str(loc[0]), str(loc[0])
    current: type[BaseModel] | None = model
    mapping = False
    for part in loc:
        if isinstance(part, int):
            key = f"{key}[{part}]"
            continue
        if mapping:
            key, label, mapping = f"{key}.{part}", f"{label}“{part}”", False
            continue
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            current = None
            label = part
            continue
        label = field.title or part
        current = _item_model(field.annotation)
        mapping = getattr(field.annotation, "__origin__", None) is dict
    return key, label


def _item_model(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or as the items of a list."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _message(error: ErrorDetails, label: str, unknown: str) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "extra_forbidden":
        return unknown
    if kind == "missing" or (error["input"] is None and kind.endswith(("_type", "enum"))):
        return f"{label}为必填项"
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "项" if kind == "too_long" else "字"
        return f"{label}不能超过 {limit} {unit}"
    if kind in ("enum", "literal_error"):
        return f"{label}应为 {_choices(str(ctx.get('expected', '')))} 之一"
    if kind == "blank":
        return f"请填写{label}"
    return _type_message(kind, ctx, label)


def _choices(expected: str) -> str:
    """pydantic's ``'a', 'b' or 'c'`` as ``a / b / c``."""
    return " / ".join(re.findall(r"'([^']*)'", expected)) or expected


def _type_message(kind: str, ctx: dict[str, Any], label: str) -> str:
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == PERIOD_PATTERN:
        return f"{label}应形如 2026Q3"
    if kind in ("string_pattern_mismatch", "string_unicode"):
        return f"{label}含有无法保存的字符（如 NUL）"
    if kind == "string_type":
        return f"{label}应为字符串"
    if kind == "less_than_equal":
        return f"{label}不能大于 {ctx.get('le')}"
    if kind == "greater_than_equal" and ctx.get("ge") != 1:
        return f"{label}不能小于 {ctx.get('ge')}"
    if kind.startswith("int_") or kind == "greater_than_equal":
        return f"{label}应为正整数"
    if kind == "figure_value":
        return f"{label}应为数字，如 1200 或 35.5"
    if kind == "amount_value":
        return f"{label}{AMOUNT_MESSAGE}"
    if kind == "dict_type":
        return f"{label}应为 JSON 对象（key → 值）"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return f"{label}应为日期，如 2026-12-31"
    if kind == "list_type":
        return f"{label}应为列表"
    if kind == "model_type":
        return f"{label}应为 JSON 对象"
    return f"{label}无效"


# -- lookups ---------------------------------------------------------------------------------


def tracked_period(key: str | None) -> Period:
    """A tracked quarter by its key (already well-formed); the current one when absent."""
    if key is None:
        return report_queries.current_period()
    try:
        period = Period.parse(key)
    except ValueError as exc:
        raise InvalidInput({"period": str(exc)}) from None
    tracked = report_queries.tracked_periods()
    if period not in tracked:
        keys = "、".join(p.key for p in tracked)
        raise InvalidInput({"period": f"报告期 {period.key} 不在跟踪范围内（可选：{keys}）"})
    return period


def department(key: str | None) -> Department | None:
    """A department by code, name, short name or alias."""
    if key is None:
        return None
    try:
        return resolve_department(key)
    except UserError as exc:
        raise InvalidInput({"department": str(exc)}) from None


def document(number: str | None) -> PolicyDocument | None:
    """A policy document by its number (``民发〔2019〕86号``)."""
    if number is None:
        return None
    found = catalogue_queries.document_by_number(number.strip())
    if found is None:
        raise InvalidInput({"document": f"没有文号为“{number}”的文件"})
    return found


def plan_fields(changes: ReportFields, obligation: Obligation) -> None:
    """Refuse indicator values and milestone statuses the plans in force do not ask of this
    report (the web form has no field for them; the API says so rather than drop them)."""
    problems: dict[str, str] = {}
    if "indicator_values" in changes.model_fields_set:
        planned = {i.key for i in planned_indicators(obligation)}
        for key in changes.indicator_values.keys() - planned:
            problems[f"indicator_values.{key}"] = (
                "本部门在本事项上没有这个要报送的指标（见报告的 plan.indicators）"
            )
    if "milestone_statuses" in changes.model_fields_set:
        due = {m.key for m in planned_milestones(obligation)}
        for key in changes.milestone_statuses.keys() - due:
            problems[f"milestone_statuses.{key}"] = (
                "本部门在本季度没有这个到期节点（见报告的 plan.milestones）"
            )
    if problems:
        raise InvalidInput(problems)
