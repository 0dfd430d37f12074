"""Validating the API's input: JSON bodies and query arguments, with a message per field.

The rules match the web forms (:mod:`tracker.reports.forms`: lengths, figure rows, numbers)
and the request schemas of the OpenAPI document (:mod:`tracker.api.schemas`), which are built
from the same constants. Unknown fields are refused, so that a misspelt field name is reported
instead of silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import request

from tracker.api.errors import ApiError, InvalidInput
from tracker.auth.services import UserError, resolve_department
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.forms import MAX_FIGURES, MAX_NARRATIVE, parse_number
from tracker.reports.models import ProgressStatus
from tracker.reports.services import NARRATIVE_FIELDS, ReportInput

MAX_ID = 2**31 - 1
MAX_FIGURE_NAME = 100
MAX_FIGURE_UNIT = 20
MAX_REVIEW_TEXT = 2000
STATUS_VALUES = [s.value for s in ProgressStatus]
# A figure given as a string: digits, optional thousands commas and decimals (``1,200.5``).
NUMBER_PATTERN = r"-?[0-9][0-9,]*(\.[0-9]+)?"
REPORT_FIELDS = ("status", *NARRATIVE_FIELDS, "figures")


# -- bodies ----------------------------------------------------------------------------------


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as ``{}`` when ``optional``."""
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


class _Checker:
    """Collects one message per invalid field while reading a JSON object."""

    def __init__(self, data: dict[str, Any], allowed: tuple[str, ...]):
        self.data = data
        self.errors: dict[str, str] = {name: "未知字段" for name in data if name not in allowed}

    def given(self, name: str) -> bool:
        return name in self.data

    def integer(self, name: str, *, required: bool, label: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = f"请提供{label}"
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
            self.errors[name] = f"{label}应为正整数"
            return None
        return value

    def text(self, name: str, *, max_length: int, label: str, required: bool = False) -> str:
        value = self.data.get(name, "")
        if not isinstance(value, str):
            self.errors[name] = f"{label}应为字符串"
            return ""
        if not storable(value):
            self.errors[name] = f"{label}含有无法保存的字符（如 NUL）"
        elif len(value) > max_length:
            self.errors[name] = f"{label}不能超过 {max_length} 字"
        elif required and blank(value):
            self.errors[name] = f"请填写{label}"
        return value

    def status(self, name: str, *, required: bool, label: str) -> ProgressStatus | None:
        value = self.data.get(name)
        if value is None:
            if required:
                self.errors[name] = f"请选择{label}"
            return None
        if value not in STATUS_VALUES:
            self.errors[name] = f"{label}应为 {' / '.join(STATUS_VALUES)} 之一"
            return None
        return ProgressStatus(value)

    def figures(self, name: str) -> list[tuple[str, Decimal, str]]:
        rows = self.data.get(name, [])
        if not isinstance(rows, list) or len(rows) > MAX_FIGURES:
            self.errors[name] = f"关键数据应为列表，最多 {MAX_FIGURES} 项"
            return []
        figures = []
        for i, row in enumerate(rows):
            parsed = _figure(row)
            if isinstance(parsed, str):
                self.errors[f"{name}[{i}]"] = parsed
            else:
                figures.append(parsed)
        return figures

    def done(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


def storable(text: str) -> bool:
    """Text every database keeps: no NUL character, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def blank(text: str) -> bool:
    """Nothing but white space (also as JSON Schema's ``\\s`` sees it: U+FEFF counts)."""
    return not text.replace("\ufeff", "").strip()


def _figure(row: Any) -> tuple[str, Decimal, str] | str:
    """One key figure ``{"name", "value", "unit"}``, or the message saying what is wrong."""
    if not isinstance(row, dict) or set(row) - {"name", "value", "unit"}:
        return "每项关键数据应为 {name, value, unit}"
    name, value, unit = row.get("name"), row.get("value"), row.get("unit", "")
    if not isinstance(name, str) or blank(name) or len(name) > MAX_FIGURE_NAME:
        return f"指标名称不能为空，且不超过 {MAX_FIGURE_NAME} 字"
    if not isinstance(unit, str) or len(unit) > MAX_FIGURE_UNIT:
        return f"单位应为字符串，且不超过 {MAX_FIGURE_UNIT} 字"
    if not storable(name) or not storable(unit):
        return "指标名称或单位含有无法保存的字符（如 NUL）"
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = parse_number(str(value))
    elif isinstance(value, str) and re.fullmatch(NUMBER_PATTERN, value):
        number = parse_number(value)
    if number is None:
        return "数值应为数字，如 1200 或 35.5"
    return name, number, unit


def _report_fields(check: _Checker) -> dict[str, Any]:
    """The report fields present in the body, validated."""
    values: dict[str, Any] = {}
    if check.given("status"):
        values["status"] = check.status("status", required=False, label="自评状态")
    labels = report_queries.FIELD_LABELS
    for name in NARRATIVE_FIELDS:
        if check.given(name):
            values[name] = check.text(name, max_length=MAX_NARRATIVE, label=labels[name])
    if check.given("figures"):
        values["figures"] = check.figures("figures")
    return values


@dataclass
class ReportChanges:
    """The fields a request sets; the others keep their stored (or empty) values."""

    values: dict[str, Any] = field(default_factory=dict)

    def onto(self, report=None) -> ReportInput:
        """The full input for :func:`tracker.reports.services.save_draft`."""
        current = ReportInput()
        if report is not None:
            current = ReportInput(
                status=report.status,
                figures=[(f.name, f.value, f.unit) for f in report.figures],
                **{name: getattr(report, name) for name in NARRATIVE_FIELDS},
            )
        for name, value in self.values.items():
            setattr(current, name, value)
        return current


def report_create(data: dict[str, Any]) -> tuple[int, ReportChanges]:
    """``POST /reports``: the obligation and the report's fields."""
    check = _Checker(data, ("obligation_id", *REPORT_FIELDS))
    obligation_id = check.integer("obligation_id", required=True, label="事项编号 obligation_id")
    changes = ReportChanges(_report_fields(check))
    check.done()
    return obligation_id, changes


def report_update(data: dict[str, Any]) -> tuple[int, ReportChanges]:
    """``PATCH /reports/<id>``: the version the client read, and the fields it changes."""
    check = _Checker(data, ("version", *REPORT_FIELDS))
    version = check.integer("version", required=True, label="读取时的版本号 version")
    changes = ReportChanges(_report_fields(check))
    check.done()
    return version, changes


def submit(data: dict[str, Any]) -> int | None:
    """``POST /reports/<id>/submit``: an optional version guard."""
    check = _Checker(data, ("version",))
    version = check.integer("version", required=False, label="版本号 version")
    check.done()
    return version


@dataclass
class Review:
    """A coordinator's accept or return."""

    version: int | None
    confirmed_status: ProgressStatus | None
    comment: str = ""
    reason: str = ""


def accept(data: dict[str, Any]) -> Review:
    check = _Checker(data, ("version", "confirmed_status", "comment"))
    review = Review(
        version=check.integer("version", required=False, label="版本号 version"),
        confirmed_status=check.status("confirmed_status", required=True, label="核定状态"),
        comment=check.text("comment", max_length=MAX_REVIEW_TEXT, label="审核意见"),
    )
    check.done()
    return review


def return_(data: dict[str, Any]) -> Review:
    check = _Checker(data, ("version", "reason", "confirmed_status"))
    review = Review(
        version=check.integer("version", required=False, label="版本号 version"),
        reason=check.text("reason", max_length=MAX_REVIEW_TEXT, label="退回理由", required=True),
        confirmed_status=check.status("confirmed_status", required=False, label="核定状态"),
    )
    check.done()
    return review


# -- query arguments -------------------------------------------------------------------------


def _arg(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and not storable(value):
        raise InvalidInput({name: "含有无法识别的字符"})
    return value


def period_arg() -> Period:
    """``?period=2026Q3``: a tracked quarter; the current one when absent."""
    key = _arg("period")
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


def department_arg() -> Department | None:
    """``?department=``: a department by code, name, short name or alias."""
    key = _arg("department")
    if key is None:
        return None
    try:
        return resolve_department(key)
    except UserError as exc:
        raise InvalidInput({"department": str(exc)}) from None


def document_arg() -> PolicyDocument | None:
    """``?document=民发〔2019〕86号``: a policy document by its number."""
    number = _arg("document")
    if number is None:
        return None
    document = catalogue_queries.document_by_number(number.strip())
    if document is None:
        raise InvalidInput({"document": f"没有文号为“{number}”的文件"})
    return document


def flag_arg(name: str) -> bool | None:
    """``?unread=1``: a yes/no argument, ``1`` or ``0``."""
    value = _arg(name)
    if value is None:
        return None
    if value not in ("0", "1"):
        raise InvalidInput({name: "应为 1 或 0"})
    return value == "1"


MAX_LIMIT = 500


def limit_arg(default: int = 100) -> int:
    """``?limit=``: how many items at most (1 to 500)."""
    value = _arg("limit")
    if value is None:
        return default
    if not re.fullmatch("[0-9]{1,6}", value) or not 1 <= int(value) <= MAX_LIMIT:
        raise InvalidInput({"limit": f"应为 1 到 {MAX_LIMIT} 之间的整数"})
    return int(value)
