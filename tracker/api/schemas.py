"""The OpenAPI 3.1 document of the API, built in code from the same constants as the checks.

Every operation lists its parameters, its request body, its success response and each error it
can answer with; tests validate every response the suite sees against this document, and
fuzz the API with it (schemathesis).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from tracker.api.errors import CODES
from tracker.api.forms import (
    MAX_FIGURE_NAME,
    MAX_FIGURE_UNIT,
    MAX_ID,
    MAX_LIMIT,
    MAX_NARRATIVE,
    MAX_REVIEW_TEXT,
    NUMBER_PATTERN,
    STATUS_VALUES,
)
from tracker.catalogue.models import Role
from tracker.dashboard.rag import Rag, Reason
from tracker.notifications.models import NotificationKind
from tracker.reports.forms import MAX_FIGURES
from tracker.reports.models import ReportState
from tracker.reports.queries import FIELD_LABELS
from tracker.reports.services import NARRATIVE_FIELDS

JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_NUL = "^[^\\u0000]*$"  # a database cannot keep the NUL character
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"  # and something besides white space


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra) -> dict:
    """A closed object: every property documented, nothing else present."""
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    schema["required"] = list(properties) if required is None else required
    return {**schema, **extra}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATE = {"type": "string", "format": "date"}
TIME = {"type": "string", "format": "date-time"}
STATUS = {"type": "string", "enum": STATUS_VALUES}
ROLE = {
    "type": "string",
    "enum": [r.value for r in Role],
    "description": "lead 牵头 · support 配合 · joint 共同负责",
}
PERIOD_KEY = {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$", "examples": ["2026Q3"]}
OBLIGATION_STATES = ["not_filed", *(s.value for s in ReportState), "waived"]


def _text(max_length: int, description: str = "") -> dict:
    schema = {"type": "string", "maxLength": max_length, "pattern": NO_NUL}
    return {**schema, "description": description} if description else schema


def _report_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": {
            "enum": [*STATUS_VALUES, None],
            "description": "自评状态：not_started 未启动 · in_progress 推进中 · "
            "completed 已完成 · ongoing 常态化推进；null 为未选",
        }
    }
    for name in NARRATIVE_FIELDS:
        fields[name] = _text(MAX_NARRATIVE, FIELD_LABELS[name])
    fields["figures"] = {
        "type": "array",
        "maxItems": MAX_FIGURES,
        "items": ref("FigureInput"),
        "description": "关键数据；给出时整体替换原有各项",
    }
    return fields


def component_schemas() -> dict[str, Any]:
    department_ref = obj({"id": INTEGER, "code": STRING, "name": STRING})
    return {
        "Error": obj(
            {
                "error": {"type": "string", "examples": sorted(set(CODES.values()))},
                "message": STRING,
                "fields": {
                    "type": "object",
                    "additionalProperties": STRING,
                    "description": "字段名 → 该字段的错误说明（仅 400 时非空）",
                },
            }
        ),
        "DepartmentRef": department_ref,
        "Department": obj(
            {
                **department_ref["properties"],
                "short_name": STRING,
                "aliases": {"type": "array", "items": STRING},
            }
        ),
        "Me": obj(
            {
                "id": INTEGER,
                "username": STRING,
                "display_name": STRING,
                "role": {"type": "string", "enum": ["admin", "coordinator", "liaison", "viewer"]},
                "department": nullable(ref("DepartmentRef")),
            }
        ),
        "Assignment": obj({"department": ref("DepartmentRef"), "role": ROLE}),
        "Task": obj(
            {
                "id": INTEGER,
                "document": {"type": "string", "description": "文号，如 民发〔2019〕86号"},
                "number": {"type": "integer", "description": "第 N 项"},
                "section": nullable(STRING),
                "text": STRING,
                "clause": {"type": "string", "description": "括号内的责任分工原文"},
                "all_departments": {"type": "boolean"},
                "assignments": {"type": "array", "items": ref("Assignment")},
            }
        ),
        "Period": obj(
            {
                "key": PERIOD_KEY,
                "label": STRING,
                "start": DATE,
                "end": DATE,
                "due_date": {**DATE, "description": "牵头及共同负责部门的报送截止日"},
                "support_due_date": {**DATE, "description": "配合部门的报送截止日（更早）"},
                "current": {"type": "boolean"},
            }
        ),
        "Obligation": obj(
            {
                "id": INTEGER,
                "task_id": INTEGER,
                "task_number": INTEGER,
                "document": STRING,
                "department": ref("DepartmentRef"),
                "role": ROLE,
                "period": PERIOD_KEY,
                "due_date": DATE,
                "state": {
                    "type": "string",
                    "enum": OBLIGATION_STATES,
                    "description": "not_filed 未填报 · draft · submitted · returned · "
                    "accepted · waived 已豁免",
                },
                "report_id": nullable(INTEGER),
            }
        ),
        "FigureInput": obj(
            {
                "name": {**_text(MAX_FIGURE_NAME), "pattern": NOT_BLANK},
                "value": {
                    "anyOf": [
                        {"type": "number", "exclusiveMinimum": -1e16, "exclusiveMaximum": 1e16},
                        {"type": "string", "pattern": f"^{NUMBER_PATTERN}$"},
                    ]
                },
                "unit": _text(MAX_FIGURE_UNIT),
            },
            required=["name", "value"],
        ),
        "Figure": obj(
            {
                "name": STRING,
                "value": {"type": "string", "description": "精确小数，如 1200、35.5"},
                "unit": STRING,
            }
        ),
        "Evidence": obj(
            {
                "id": INTEGER,
                "filename": STRING,
                "content_type": STRING,
                "size": INTEGER,
                "uploaded_at": TIME,
            }
        ),
        "Report": obj(
            {
                "id": INTEGER,
                "obligation_id": INTEGER,
                "period": PERIOD_KEY,
                "task_number": INTEGER,
                "document": STRING,
                "department": ref("DepartmentRef"),
                "role": ROLE,
                "state": {"type": "string", "enum": [s.value for s in ReportState]},
                "version": {
                    "type": "integer",
                    "description": "每次保存或状态变化加一；PATCH 时须带上读取到的版本",
                },
                "status": nullable(STATUS),
                "confirmed_status": nullable(STATUS),
                **{name: STRING for name in NARRATIVE_FIELDS},
                "figures": {"type": "array", "items": ref("Figure")},
                "evidence": {"type": "array", "items": ref("Evidence")},
                "return_reason": nullable(STRING),
                "review_comment": nullable(STRING),
                "first_submitted_at": nullable(TIME),
                "submitted_at": nullable(TIME),
                "reviewed_at": nullable(TIME),
                "created_at": TIME,
                "updated_at": TIME,
            }
        ),
        "ReportCreate": obj(
            {"obligation_id": ID_SCHEMA, **_report_fields()}, required=["obligation_id"]
        ),
        "ReportUpdate": obj(
            {
                "version": {**ID_SCHEMA, "description": "读取报告时的 version"},
                **_report_fields(),
            },
            required=["version"],
        ),
        "SubmitRequest": obj(
            {"version": {**ID_SCHEMA, "description": "可选：与当前版本不符时 409"}}, required=[]
        ),
        "AcceptRequest": obj(
            {
                "confirmed_status": STATUS,
                "comment": _text(MAX_REVIEW_TEXT, "审核意见"),
                "version": {**ID_SCHEMA, "description": "可选：与当前版本不符时 409"},
            },
            required=["confirmed_status"],
        ),
        "ReturnRequest": obj(
            {
                "reason": {
                    **_text(MAX_REVIEW_TEXT, "退回理由（必填）"),
                    "pattern": NOT_BLANK,
                },
                "confirmed_status": nullable(STATUS),
                "version": {**ID_SCHEMA, "description": "可选：与当前版本不符时 409"},
            },
            required=["reason"],
        ),
        **dashboard_schemas(),
        "ObligationRef": obj(
            {
                "id": INTEGER,
                "period": PERIOD_KEY,
                "task_number": INTEGER,
                "document": STRING,
                "department": ref("DepartmentRef"),
                "role": ROLE,
            }
        ),
        "Notification": obj(
            {
                "id": INTEGER,
                "kind": {
                    "type": "string",
                    "enum": [k.value for k in NotificationKind],
                    "description": "reminder 催报提醒 · urge 催办 · urge_ack 催办签收 · "
                    "extension_request 延期申请 · extension_decision 延期审批",
                },
                "title": STRING,
                "body": STRING,
                "obligation": nullable(ref("ObligationRef")),
                "created_at": TIME,
                "read": {"type": "boolean"},
                "read_at": nullable(TIME),
            }
        ),
        "NotificationList": obj({"items": {"type": "array", "items": ref("Notification")}}),
        "DepartmentList": obj({"items": {"type": "array", "items": ref("Department")}}),
        "TaskList": obj({"items": {"type": "array", "items": ref("Task")}}),
        "PeriodList": obj({"items": {"type": "array", "items": ref("Period")}}),
        "ObligationList": obj(
            {"period": PERIOD_KEY, "items": {"type": "array", "items": ref("Obligation")}}
        ),
    }


COUNT = {"type": "integer", "minimum": 0}
RATE = {"type": "number", "minimum": 0, "maximum": 1}


def dashboard_schemas() -> dict[str, Any]:
    """The dashboard's JSON (:func:`tracker.dashboard.queries.dashboard_data`)."""
    return {
        "Headline": obj(
            {
                "obligations": {**COUNT, "description": "应报事项（不含豁免）"},
                "submitted": {**COUNT, "description": "已报送（含退回、已通过）"},
                "accepted": COUNT,
                "on_time_rate": {
                    **nullable(RATE),
                    "description": "按时报送率；尚无可判定时为 null",
                },
                "overdue": {**COUNT, "description": "逾期未报（红）"},
                "returned": COUNT,
                "pending_review": COUNT,
                "due_soon": COUNT,
                "waived": COUNT,
                "judged": COUNT,
                "on_time": COUNT,
                "avg_days_late": {**nullable({"type": "number"}), "description": "平均迟报工作日"},
            }
        ),
        "ScoreRow": obj(
            {
                "department": {"type": "string", "description": "部门代码"},
                "department_name": STRING,
                "obligations": COUNT,
                "on_time_rate": nullable(RATE),
                "avg_days_late": nullable({"type": "number"}),
                "returns": COUNT,
                "urges": COUNT,
                "red_share": RATE,
                "rank": {"type": "integer", "minimum": 1},
                "on_time": COUNT,
                "judged": COUNT,
                "late": COUNT,
                "overdue": COUNT,
                "submitted": COUNT,
                "accepted": COUNT,
                "acknowledged": COUNT,
                "lead_items": COUNT,
            }
        ),
        "DashboardCell": obj(
            {
                "obligation_id": nullable(INTEGER),
                "task_id": INTEGER,
                "task_number": INTEGER,
                "document": STRING,
                "section": nullable(STRING),
                "department": {"type": "string", "description": "部门代码"},
                "role": ROLE,
                "state": {"type": "string", "enum": [r.value for r in Reason]},
                "rag": {
                    "type": "string",
                    "enum": [r.value for r in Rag],
                    "description": "红黄绿灯：green 已通过 · blue 待审核 · amber 退回或临近截止 · "
                    "red 逾期未报 · grey 未到期或豁免",
                },
                "label": STRING,
                "due_date": DATE,
                "days_late": COUNT,
                "late": {"type": "boolean"},
                "arrived_late": nullable(DATE),
            }
        ),
        "Dashboard": obj(
            {
                "period": PERIOD_KEY,
                "frozen": {"type": "boolean", "description": "已结束的季度按快照显示"},
                "judged_on": DATE,
                "headline": ref("Headline"),
                "scorecard": {"type": "array", "items": ref("ScoreRow")},
                "cells": {"type": "array", "items": ref("DashboardCell")},
            }
        ),
    }


ERROR_DESCRIPTIONS = {
    400: "输入无效（含未列出的查询参数）：fields 给出每个字段的错误",
    401: "缺少有效的 API 令牌（令牌无效、已撤销或账号已停用）",
    403: "超出本部门或本角色的权限",
    404: "记录不存在",
    409: "版本已过期（stale_version）、状态不允许（invalid_state）或报告已存在（report_exists）",
    415: "请求体不是 JSON",
}


def _responses(success: tuple[int, str, str], *errors: int) -> dict:
    status, description, schema = success
    responses = {
        str(status): {"description": description, "content": {JSON: {"schema": ref(schema)}}}
    }
    for code in sorted({400, 401, *errors}):
        responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
    return responses


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or STRING,
    }


def _body(schema: str, *, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": ref(schema)}}}


REPORT_ID = {
    "name": "report_id",
    "in": "path",
    "required": True,
    "schema": ID_SCHEMA,
    "description": "报告编号（见事项列表的 report_id）",
}
PERIOD_PARAM = _query("period", "报告期，如 2026Q3；省略时为当前报告期", PERIOD_KEY)
DOCUMENT_PARAM = _query("document", "只看该文号的文件，如 民发〔2019〕86号")
DEPARTMENT_PARAM = _query("department", "部门代码、全称、简称或别名；须在本人可见范围内")


def paths() -> dict[str, Any]:
    report = (200, "报告", "Report")
    return {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "本文档（无需令牌）",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 文档",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/me": {
            "get": {
                "operationId": "me",
                "summary": "令牌所属用户（角色和部门决定权限）",
                "responses": _responses((200, "当前用户", "Me")),
            }
        },
        "/departments": {
            "get": {
                "operationId": "departments",
                "summary": "部门列表",
                "responses": _responses((200, "全部部门", "DepartmentList")),
            }
        },
        "/tasks": {
            "get": {
                "operationId": "tasks",
                "summary": "任务分工：各项任务及其责任部门和角色",
                "parameters": [DOCUMENT_PARAM],
                "responses": _responses((200, "任务列表", "TaskList"), 400),
            }
        },
        "/periods": {
            "get": {
                "operationId": "periods",
                "summary": "跟踪中的报告期（新的在前）及截止日",
                "responses": _responses((200, "报告期列表", "PeriodList")),
            }
        },
        "/obligations": {
            "get": {
                "operationId": "obligations",
                "summary": "某报告期本人可见的填报事项（每个部门在每项任务上的一项）",
                "parameters": [PERIOD_PARAM, DEPARTMENT_PARAM],
                "responses": _responses((200, "事项列表", "ObligationList"), 400, 403),
            }
        },
        "/dashboard": {
            "get": {
                "operationId": "dashboard",
                "summary": "看板数据：总体指标、各部门考核、每个事项的红黄绿灯（与看板页面一致）",
                "description": "联络员和部门查阅者只看到本部门；已结束的季度按其快照。",
                "parameters": [PERIOD_PARAM, DOCUMENT_PARAM, DEPARTMENT_PARAM],
                "responses": _responses((200, "看板", "Dashboard"), 400, 403),
            }
        },
        "/notifications": {
            "get": {
                "operationId": "notifications",
                "summary": "本人的通知（催报提醒、催办、延期等），新的在前；读取不会标为已读",
                "parameters": [
                    _query("unread", "1：只看未读；0 或省略：全部", {"enum": ["0", "1"]}),
                    _query(
                        "limit",
                        "最多返回条数（1–500，默认 100）",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                    ),
                ],
                "responses": _responses((200, "通知列表", "NotificationList"), 400),
            }
        },
        "/exports/quarterly.xlsx": {
            "get": {
                "operationId": "exportQuarterly",
                "summary": "季度 Excel 报表（只含本人可见的部门，与网页下载一致）",
                "parameters": [PERIOD_PARAM, DOCUMENT_PARAM, DEPARTMENT_PARAM],
                "responses": {
                    "200": {
                        "description": "xlsx 工作簿",
                        "content": {XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}}},
                    },
                    **{
                        str(code): {"$ref": f"#/components/responses/E{code}"}
                        for code in (400, 401, 403)
                    },
                },
            }
        },
        "/reports": {
            "post": {
                "operationId": "createReport",
                "summary": "为一个事项填报报告（草稿）；仅本部门联络员",
                "requestBody": _body("ReportCreate"),
                "responses": _responses((201, "新建的报告（draft）", "Report"), 400, 403, 409, 415),
            }
        },
        "/reports/{report_id}": {
            "parameters": [REPORT_ID],
            "get": {
                "operationId": "getReport",
                "summary": "读取一份报告",
                "responses": _responses(report, 403, 404),
            },
            "patch": {
                "operationId": "updateReport",
                "summary": "修改草稿或被退回的报告；须带读取时的 version，过期则 409",
                "requestBody": _body("ReportUpdate"),
                "responses": _responses(report, 400, 403, 404, 409, 415),
            },
        },
        "/reports/{report_id}/submit": {
            "parameters": [REPORT_ID],
            "post": {
                "operationId": "submitReport",
                "summary": "报送（或重新报送）；牵头部门须待配合部门报送或被豁免",
                "requestBody": _body("SubmitRequest", required=False),
                "responses": _responses(report, 400, 403, 404, 409, 415),
            },
        },
        "/reports/{report_id}/accept": {
            "parameters": [REPORT_ID],
            "post": {
                "operationId": "acceptReport",
                "summary": "审核通过并核定状态；仅督办协调员",
                "requestBody": _body("AcceptRequest"),
                "responses": _responses(report, 400, 403, 404, 409, 415),
            },
        },
        "/reports/{report_id}/return": {
            "parameters": [REPORT_ID],
            "post": {
                "operationId": "returnReport",
                "summary": "退回修改（须填理由）；仅督办协调员",
                "requestBody": _body("ReturnRequest"),
                "responses": _responses(report, 400, 403, 404, 409, 415),
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document; server URLs are relative to where it is served."""
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
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "trk_…"}
            },
            "schemas": component_schemas(),
            "responses": {
                f"E{code}": {
                    "description": description,
                    "content": {JSON: {"schema": ref("Error")}},
                }
                for code, description in ERROR_DESCRIPTIONS.items()
            },
        },
    }


@functools.cache
def _query_names() -> dict[tuple[str, str], frozenset[str]]:
    names = {}
    for path, item in paths().items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            parameters = [*shared, *operation.get("parameters", [])]
            names[(path, method)] = frozenset(p["name"] for p in parameters if p["in"] == "query")
    return names


def query_parameters(rule: str, method: str) -> frozenset[str]:
    """The query arguments documented for a Flask rule (``/api/v1/reports/<int:report_id>``)."""
    from tracker.api import URL_PREFIX

    template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule).removeprefix(URL_PREFIX)
    method = "get" if method.upper() == "HEAD" else method.lower()
    return _query_names().get((template, method), frozenset())
