"""The API's contract: every request body, query and response as a pydantic model.

Validation happens here (request models refuse unknown fields and check every limit of
:mod:`tracker.reports.limits`); responses are built as these models and dumped to JSON; the
OpenAPI document (:mod:`tracker.api.schemas`) is generated from their JSON Schemas. Field
titles are the Chinese labels that error messages name (:mod:`tracker.api.validation`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from tracker.auth.models import UserRole
from tracker.catalogue.models import Role
from tracker.dashboard.rag import Rag, Reason
from tracker.dashboard.services import MAX_JUDGEMENT_REASON
from tracker.delivery import rules as plan_rules
from tracker.delivery.models import Combine, DeliveryStep, Direction, PlanState
from tracker.delivery.services import IndicatorInput, MilestoneInput, PlanInput
from tracker.exports.models import ExportState
from tracker.notifications.models import NotificationKind
from tracker.reports.labels import FIELD_LABELS
from tracker.reports.limits import (
    DEFAULT_PAGE,
    FIGURE_BOUND,
    MAX_FIGURE_NAME,
    MAX_FIGURE_TEXT,
    MAX_FIGURE_UNIT,
    MAX_FIGURES,
    MAX_ID,
    MAX_MILESTONE_NOTE,
    MAX_NARRATIVE,
    MAX_PAGE,
    MAX_REVIEW_TEXT,
    NUMBER_PATTERN,
    figure_from_number,
    figure_from_text,
    normalise_optional,
)
from tracker.reports.models import MilestoneProgress, ProgressStatus, ReportState
from tracker.reports.services import NARRATIVE_FIELDS, ReportInput

# The machine-readable code of each status the API answers with.
CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
}
# Codes beyond a status's own: bodies that are not JSON objects, and the 409 variants.
EXTRA_CODES = ("invalid_json", "stale_version", "invalid_state", "report_exists")

NO_NUL = "^[^\\u0000]*$"  # a database cannot keep the NUL character
# JSON Schema's view of "something besides white space"; ``not_blank`` is the check itself,
# because JSON Schema's ``\s`` (ECMA 262) counts U+FEFF and Python's does not.
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
PERIOD_PATTERN = "^[0-9]{4}Q[1-4]$"


def not_blank(text: str) -> str:
    """``text`` unless it is nothing but white space (U+FEFF included)."""
    if not text.replace("\ufeff", "").strip():
        raise PydanticCustomError("blank", "blank")
    return text


def figure_value(value: Any) -> Decimal:
    """A figure given as a JSON number or as text (``"1,200.5"``), by the limits' rules."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = figure_from_number(value)
    elif isinstance(value, str):
        number = figure_from_text(value)
    if number is None:
        raise PydanticCustomError("figure_value", "not a figure")
    return number


def query_integer(value: Any) -> Any:
    """A query argument's digits as an int; anything else is left for the int check to refuse."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 6:
        return int(value)
    if isinstance(value, str):
        raise PydanticCustomError("int_parsing", "not digits")
    return value


def _iso(value: datetime) -> str:
    return value.isoformat()


# -- shared field types ---------------------------------------------------------------------

Id = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
# Free text is normalised before its limits are checked, as the web forms' filters do. The
# validator comes after the Field, so that it wraps the constrained string (whose errors keep
# their ``string_too_long`` kind) rather than pushing the limits into a generic check.
Normalised = BeforeValidator(normalise_optional)
Narrative = Annotated[str, Field(max_length=MAX_NARRATIVE, pattern=NO_NUL), Normalised]
MilestoneNote = Annotated[str, Field(max_length=MAX_MILESTONE_NOTE, pattern=NO_NUL), Normalised]
ReviewText = Annotated[str, Field(max_length=MAX_REVIEW_TEXT, pattern=NO_NUL), Normalised]
RequiredReviewText = Annotated[
    str,
    Field(max_length=MAX_REVIEW_TEXT, pattern=NO_NUL, json_schema_extra={"pattern": NOT_BLANK}),
    Normalised,
    AfterValidator(not_blank),
]
JudgementReason = Annotated[str, Field(max_length=MAX_JUDGEMENT_REASON, pattern=NO_NUL), Normalised]
FigureName = Annotated[
    str,
    Field(max_length=MAX_FIGURE_NAME, pattern=NO_NUL, json_schema_extra={"pattern": NOT_BLANK}),
    AfterValidator(not_blank),
]
FigureUnit = Annotated[str, Field(max_length=MAX_FIGURE_UNIT, pattern=NO_NUL)]
FigureValue = Annotated[
    Decimal,
    PlainValidator(figure_value),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "exclusiveMinimum": -float(FIGURE_BOUND),
                    "exclusiveMaximum": float(FIGURE_BOUND),
                },
                {
                    "type": "string",
                    "maxLength": MAX_FIGURE_TEXT,
                    "pattern": f"^{NUMBER_PATTERN}$",
                },
            ]
        }
    ),
]
PeriodKey = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2026Q3"])]


def amount_value(value: Any) -> Decimal:
    """A plan's or an indicator's value, given as a JSON number or as text (``"2,800"``):
    read as the web form reads it (:mod:`tracker.delivery.rules`); its range (never negative,
    at most 4 decimals) is the domain's to judge, so that a number and a text meet one rule."""
    number = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = figure_from_number(value)
    elif isinstance(value, str) and len(value) <= MAX_FIGURE_TEXT:
        number = plan_rules.parse_amount(value)
    if number is None:
        raise PydanticCustomError("amount_value", "not an amount")
    return number


Amount = Annotated[
    Decimal,
    PlainValidator(amount_value),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "number",
                    "minimum": 0,
                    "exclusiveMaximum": float(plan_rules.MAX_VALUE),
                },
                {
                    "type": "string",
                    "maxLength": MAX_FIGURE_TEXT,
                    "pattern": "^(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\\.[0-9]{1,4})?$",
                },
            ],
            "description": plan_rules.AMOUNT_MESSAGE,
        }
    ),
]
PlanKey = Annotated[str, Field(min_length=1, max_length=32, pattern="^[0-9A-Za-z_-]+$")]
# Stored times are UTC; answered as ISO 8601 with their offset (``+00:00``).
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1)]

STATUS_DESCRIPTION = (
    "自评状态：not_started 未启动 · in_progress 推进中 · completed 已完成 · ongoing 常态化推进"
)
ROLE_DESCRIPTION = "lead 牵头 · support 配合 · joint 共同负责"
VERSION_GUARD = "可选：与当前版本不符时 409"


# -- requests --------------------------------------------------------------------------------


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, so a misspelt name is reported."""

    model_config = ConfigDict(extra="forbid")


class FigureInput(RequestModel):
    """One key figure; the value is a number or its text (``1,200.5``)."""

    name: FigureName = Field(title="指标名称")
    value: FigureValue = Field(title="数值")
    unit: FigureUnit = Field("", title="单位")


class MilestoneStatusInput(RequestModel):
    """What the department says of one due milestone: done, partly, not done, and why."""

    status: MilestoneProgress = Field(
        title="完成情况", description="done 已完成 · partly 部分完成 · not_done 未完成"
    )
    note: MilestoneNote = Field("", title="情况说明", description="未完成或部分完成时必填，一句话")


class ReportFields(RequestModel):
    """The report's own fields; those a request leaves out keep their stored values."""

    status: ProgressStatus | None = Field(
        None, title=FIELD_LABELS["status"], description=f"{STATUS_DESCRIPTION}；null 为未选"
    )
    progress: Narrative = Field("", title=FIELD_LABELS["progress"])
    problems: Narrative = Field("", title=FIELD_LABELS["problems"])
    practices: Narrative = Field("", title=FIELD_LABELS["practices"])
    suggestions: Narrative = Field("", title=FIELD_LABELS["suggestions"])
    next_steps: Narrative = Field("", title=FIELD_LABELS["next_steps"])
    figures: list[FigureInput] = Field(
        [],
        max_length=MAX_FIGURES,
        title=FIELD_LABELS["figures"],
        description="关键数据；给出时整体替换原有各项",
    )
    indicator_values: dict[PlanKey, Amount] = Field(
        {},
        max_length=plan_rules.MAX_INDICATORS * 4,
        title="量化指标数值",
        description="落实计划中本部门报送的指标：指标 key → 数值（不小于 0，最多 4 位小数，"
        "单位由指标确定）；给出时整体替换原有各项，未列出的指标视为未填；省略则保留原值",
    )
    milestone_statuses: dict[PlanKey, MilestoneStatusInput] = Field(
        {},
        max_length=plan_rules.MAX_MILESTONES * 4,
        title="节点完成情况",
        description="本部门负责、截至本季度到期的节点：节点 key → 完成情况；给出时整体替换"
        "原有各项；省略则保留原值。报送前每个到期节点都须说明",
    )

    def onto(self, report: Any = None) -> ReportInput:
        """The full input for ``save_draft``: the stored report, with what was sent."""
        current = ReportInput()
        if report is not None:
            current = ReportInput(
                status=report.status,
                figures=[(f.name, f.value, f.unit) for f in report.figures],
                **{name: getattr(report, name) for name in NARRATIVE_FIELDS},
            )
        for name in self.model_fields_set - {"obligation_id", "version"}:
            if name == "figures":
                current.figures = [(f.name, f.value, f.unit) for f in self.figures]
            elif name == "milestone_statuses":
                current.milestone_statuses = {
                    key: (given.status, given.note)
                    for key, given in self.milestone_statuses.items()
                }
            else:
                setattr(current, name, getattr(self, name))
        return current


class ReportCreate(ReportFields):
    """``POST /reports``: the obligation, and the report's fields."""

    obligation_id: Id = Field(title="事项编号 obligation_id")


class ReportUpdate(ReportFields):
    """``PATCH /reports/{id}``: the version the client read, and the fields it changes."""

    version: Id = Field(title="读取时的版本号 version", description="读取报告时的 version")


class SubmitRequest(RequestModel):
    """``POST /reports/{id}/submit``: an optional version guard."""

    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


class AcceptRequest(RequestModel):
    """A coordinator's acceptance, with the confirmed status."""

    confirmed_status: ProgressStatus | None = Field(
        None,
        title="核定状态",
        description=STATUS_DESCRIPTION + "。省略则核定为部门的自评状态 status。",
    )
    comment: ReviewText = Field("", title="审核意见", description="审核意见")
    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


class ReopenRequest(RequestModel):
    """A coordinator's reopening of an accepted report, with the reason (required)."""

    reason: RequiredReviewText = Field(
        title="重新打开理由", description="重新打开理由（必填，记入操作日志）"
    )
    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


class WithdrawRequest(RequestModel):
    """``POST /reports/{id}/withdraw``: an optional version guard."""

    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


class SignoffReturnRequest(RequestModel):
    """The department's approver returns a draft to its liaison, with the reason."""

    reason: RequiredReviewText = Field(title="退回理由", description="退回理由（必填）")
    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


class PlanMilestoneInput(RequestModel):
    """One milestone of a proposed plan."""

    key: PlanKey | None = Field(
        None, title="节点 key", description="沿用上一版本的节点时给出其 key；新节点省略"
    )
    title: str = Field(title="节点内容", max_length=plan_rules.MAX_TITLE, pattern=NO_NUL)
    due_period: PeriodKey = Field(title="完成季度")
    department_id: Id = Field(
        title="责任部门编号", description="本项的部门（共同负责事项只能是本部门）"
    )


class PlanIndicatorInput(RequestModel):
    """One indicator of a proposed plan."""

    key: PlanKey | None = Field(
        None, title="指标 key", description="沿用上一版本的指标时给出其 key；新指标省略"
    )
    name: str = Field(title="指标名称", max_length=plan_rules.MAX_NAME, pattern=NO_NUL)
    unit: str = Field(title="单位", max_length=plan_rules.MAX_UNIT, pattern=NO_NUL)
    direction: Direction = Field(title="方向", description="higher 越高越好 · lower 越低越好")
    baseline_value: Amount = Field(title="基线值")
    baseline_date: date = Field(title="基线日期")
    target_value: Amount = Field(title="目标值")
    target_date: date = Field(title="目标日期", description="晚于基线日期")
    combine: Combine = Field(
        title="汇总方式", description="sum 求和 · average 平均 · latest 取最新报送值"
    )
    department_ids: list[Id] = Field(
        title="报送部门编号", min_length=1, max_length=64, description="本项的部门"
    )


class PlanProposal(RequestModel):
    """``POST /tasks/{id}/plans``: the caller's department's plan (a first version, a
    resubmission of a waiting one, or a change of the one in force, with its reason)."""

    milestones: list[PlanMilestoneInput] = Field(
        [], max_length=plan_rules.MAX_MILESTONES, title="节点"
    )
    indicators: list[PlanIndicatorInput] = Field(
        [], max_length=plan_rules.MAX_INDICATORS, title="量化指标"
    )
    change_reason: ReviewText = Field(
        "", title="变更理由", description="计划已批准后提出变更时必填"
    )

    def to_input(self) -> PlanInput:
        """The proposal as the domain takes it (:func:`tracker.delivery.services.propose_plan`)."""
        return PlanInput(
            milestones=[
                MilestoneInput(m.title, m.due_period, m.department_id, key=m.key)
                for m in self.milestones
            ],
            indicators=[
                IndicatorInput(
                    i.name,
                    i.unit,
                    i.direction,
                    i.baseline_value,
                    i.baseline_date,
                    i.target_value,
                    i.target_date,
                    i.combine,
                    list(i.department_ids),
                    key=i.key,
                )
                for i in self.indicators
            ],
            change_reason=self.change_reason,
        )


class PlanDecision(RequestModel):
    """``POST /plans/{id}/approve``: an optional guard on the version's revision."""

    revision: Id | None = Field(None, title="修订号 revision", description=VERSION_GUARD)


class PlanReturn(RequestModel):
    """``POST /plans/{id}/return``: the reason (required)."""

    reason: RequiredReviewText = Field(title="退回理由", description="退回理由（必填）")
    revision: Id | None = Field(None, title="修订号 revision", description=VERSION_GUARD)


class JudgementRequest(RequestModel):
    """``POST /tasks/{id}/judgement``: a coordinator's judgement of a quarter's delivery."""

    period: PeriodKey = Field(
        title="报告期", description="跟踪的报告期，如 2026Q3；已封存的季度 409"
    )
    step: DeliveryStep = Field(
        title="落实情况", description=" · ".join(f"{s.value} {s.label}" for s in DeliveryStep)
    )
    reason: JudgementReason = Field(
        "", title="理由", description="与系统建议不同时必填；不得含身份证号或手机号"
    )
    revision: Id | None = Field(
        None,
        title="修订号 revision",
        description="可选：该季度已有判断的修订号（见落实情况的 judgement.revision），"
        "与当前不符时 409",
    )


class LiaisonsRequest(RequestModel):
    """An administrator names the department's A and B liaisons (null leaves a slot empty)."""

    main_id: Id | None = Field(None, title="A角（主要联络员）的用户编号")
    alternate_id: Id | None = Field(None, title="B角（备用联络员）的用户编号")


class ReturnRequest(RequestModel):
    """A coordinator's return, with the reason (required)."""

    reason: RequiredReviewText = Field(title="退回理由", description="退回理由（必填）")
    confirmed_status: ProgressStatus | None = Field(None, title="核定状态")
    version: Id | None = Field(None, title="版本号 version", description=VERSION_GUARD)


# -- query arguments -------------------------------------------------------------------------


class QueryModel(BaseModel):
    """Query arguments: an argument not listed is refused (``?perod=`` is not ignored)."""

    model_config = ConfigDict(extra="forbid")


QueryText = Annotated[str, Field(pattern=NO_NUL)]
PeriodArg = Annotated[
    PeriodKey | None, Field(title="报告期", description="报告期，如 2026Q3；省略时为当前报告期")
]
DocumentArg = Annotated[
    QueryText | None, Field(title="文号", description="只看该文号的文件，如 民发〔2019〕86号")
]
DepartmentArg = Annotated[
    QueryText | None,
    Field(title="部门", description="部门代码、全称、简称或别名；须在本人可见范围内"),
]


LimitArg = Annotated[
    int,
    BeforeValidator(query_integer),
    Field(
        ge=1, le=MAX_PAGE, title="条数",
        description=f"每页最多条数（1–{MAX_PAGE}，默认 {DEFAULT_PAGE}）；其余见响应的 next",
    ),
]  # fmt: skip
CursorArg = Annotated[
    str | None,
    Field(
        pattern=r"^[0-9]{1,10}$", title="游标",
        description="上一页响应的 next 地址带来的 cursor（不透明，原样传回）；省略时从第一条开始",
    ),
]  # fmt: skip
PAGED = (
    f"分页：每页至多 limit 条（默认 {DEFAULT_PAGE}），响应的 next 是下一页的地址（带 cursor），"
    "没有更多时为 null；要取全部，沿 next 读到 null 为止。"
)


class NoQuery(QueryModel):
    """An operation that takes no query arguments."""


class TasksQuery(QueryModel):
    """``GET /tasks``."""

    document: DocumentArg = None
    limit: LimitArg = DEFAULT_PAGE
    cursor: CursorArg = None


class ObligationsQuery(QueryModel):
    """``GET /obligations``."""

    period: PeriodArg = None
    department: DepartmentArg = None
    limit: LimitArg = DEFAULT_PAGE
    cursor: CursorArg = None


class ScopeQuery(QueryModel):
    """The dashboard and the quarterly workbook: a period, a document, a department."""

    period: PeriodArg = None
    document: DocumentArg = None
    department: DepartmentArg = None


class NotificationsQuery(QueryModel):
    """``GET /notifications``."""

    unread: Literal["0", "1"] | None = Field(
        None, title="未读", description="1：只看未读；0 或省略：全部"
    )
    limit: LimitArg = DEFAULT_PAGE
    cursor: CursorArg = None


class DepartmentPath(QueryModel):
    """The department named in the URL, by its code."""

    code: str = Field(title="部门代码", description="部门代码（见部门列表的 code）", max_length=32)


class TaskPath(QueryModel):
    """The item named in the URL."""

    task_id: Id = Field(title="任务编号", description="任务编号（见任务列表的 id）")


class PlanPath(QueryModel):
    """The plan version named in the URL."""

    plan_id: Id = Field(title="计划编号", description="落实计划某一版本的编号（见计划列表的 id）")


class DeliveryQuery(QueryModel):
    """``GET /tasks/{id}/delivery``."""

    period: PeriodArg = None


class IndicatorPath(QueryModel):
    """The item and its indicator named in the URL."""

    task_id: Id = Field(title="任务编号", description="任务编号（见任务列表的 id）")
    key: str = Field(
        title="指标标识", max_length=64, description="指标的 key（见计划列表或落实情况）"
    )


class ExportJobPath(QueryModel):
    """The background export named in the URL."""

    job_id: Id = Field(
        title="导出任务编号", description="导出任务编号（见 202 响应的 id 或 Location）"
    )


class ReportPath(QueryModel):
    """The report named in the URL."""

    report_id: Id = Field(title="报告编号", description="报告编号（见事项列表的 report_id）")


# -- responses -------------------------------------------------------------------------------


class Shape(BaseModel):
    """A response body: exactly the documented fields, nothing else."""

    model_config = ConfigDict(extra="forbid")


class Error(Shape):
    """Every failure: ``{"error": CODE, "message": TEXT, "fields": {...}}``."""

    error: str = Field(examples=sorted({*CODES.values(), *EXTRA_CODES}))
    message: str
    fields: dict[str, str] = Field(description="字段名 → 该字段的错误说明（仅 400 时非空）")


class DepartmentRef(Shape):
    """A department as other resources name it."""

    id: int
    code: str
    name: str


class LiaisonRef(Shape):
    """A liaison as a department names them: who, and their work phone."""

    id: int
    display_name: str
    phone: str | None


class DepartmentLiaisons(Shape):
    """The department's main (A角) and alternate (B角) liaison; null where none is named."""

    main: LiaisonRef | None
    alternate: LiaisonRef | None


class Department(DepartmentRef):
    """A department, with the names it is also known by; ``active`` is false once an
    administrator deactivated it (已停用: no new obligations, its past ones stay)."""

    short_name: str
    aliases: list[str]
    active: bool
    signoff_required: bool = Field(description="本部门报告是否须经审核人审核签发后报送")
    liaisons: DepartmentLiaisons | None = Field(
        description="A角、B角联络员；无权查看本部门联系人的调用方为 null"
    )


class Me(Shape):
    """The token's owner: role and department decide what it may do."""

    id: int
    username: str
    display_name: str
    role: UserRole
    department: DepartmentRef | None


class Assignment(Shape):
    """One department's part in an item."""

    department: DepartmentRef
    role: Role = Field(description=ROLE_DESCRIPTION)


class Task(Shape):
    """An item of the task division and who answers for it."""

    id: int
    document: str = Field(description="文号，如 民发〔2019〕86号")
    number: int = Field(description="第 N 项")
    section: str | None
    text: str
    clause: str = Field(description="括号内的责任分工原文")
    all_departments: bool
    assignments: list[Assignment]


class Period(Shape):
    """A tracked quarter and its due dates."""

    key: PeriodKey
    label: str
    start: date
    end: date
    due_date: date = Field(description="牵头及共同负责部门的报送截止日")
    support_due_date: date = Field(description="配合部门的报送截止日（更早）")
    current: bool


ObligationState = Literal["not_filed", "draft", "submitted", "returned", "accepted", "waived"]


class Obligation(Shape):
    """What one department owes on one item in one period."""

    id: int
    task_id: int
    task_number: int
    document: str
    department: DepartmentRef
    role: Role = Field(description=ROLE_DESCRIPTION)
    period: PeriodKey
    due_date: date
    state: ObligationState = Field(
        description="not_filed 未填报 · draft · submitted · returned · accepted · waived 已豁免"
    )
    report_id: int | None


class Figure(Shape):
    """A key figure as stored."""

    name: str
    value: str = Field(description="精确小数，如 1200、35.5")
    unit: str


class Evidence(Shape):
    """An uploaded evidence file (its bytes are served by the web pages)."""

    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: Timestamp


class Signoff(Shape):
    """Sign-off inside the department (审核签发): whether it is needed, and where it stands."""

    required: bool = Field(description="本部门报告是否须经审核人签发后才报送督办协调员")
    awaiting: bool = Field(description="已送审、待审核人签发（此时报告锁定，不能修改）")
    requested_at: Timestamp | None = Field(description="最近一次送审时间")
    requested_by: str | None = Field(description="最近一次送审的联络员姓名")
    approved_at: Timestamp | None = Field(description="本次报送的签发时间")
    approved_by: str | None = Field(description="本次报送的审核人姓名")
    return_reason: str | None = Field(description="审核人最近一次退回联络员的理由")


class ReportIndicatorValue(Shape):
    """A value of a plan indicator the report states."""

    key: str = Field(description="指标 key（跨计划版本不变）")
    name: str
    unit: str
    value: str = Field(description="精确小数")


class ReportMilestoneStatus(Shape):
    """What the report says of a due milestone."""

    key: str = Field(description="节点 key（跨计划版本不变）")
    title: str
    due_period: PeriodKey
    status: MilestoneProgress = Field(description="done 已完成 · partly 部分完成 · not_done 未完成")
    note: str


class PlannedIndicator(Shape):
    """A plan indicator the report's department reports (the field ``indicator_values``)."""

    key: str
    name: str
    unit: str


class PlannedMilestone(Shape):
    """A milestone due by the report's quarter that its department answers for."""

    key: str
    title: str
    due_period: PeriodKey


class ReportPlan(Shape):
    """What the plans in force ask of this report: the indicators to report, the milestones
    to state (every one before submitting)."""

    indicators: list[PlannedIndicator]
    milestones: list[PlannedMilestone]


class Report(Shape):
    """A report with its obligation, figures, evidence, sign-off and review."""

    id: int
    obligation_id: int
    period: PeriodKey
    task_number: int
    document: str
    department: DepartmentRef
    role: Role = Field(description=ROLE_DESCRIPTION)
    state: ReportState
    version: int = Field(description="每次保存或状态变化加一；PATCH 时须带上读取到的版本")
    status: ProgressStatus | None
    confirmed_status: ProgressStatus | None
    progress: str
    problems: str
    practices: str
    suggestions: str
    next_steps: str
    figures: list[Figure]
    indicator_values: list[ReportIndicatorValue]
    milestone_statuses: list[ReportMilestoneStatus]
    plan: ReportPlan = Field(description="落实计划要求本报告填写的指标和说明的节点")
    evidence: list[Evidence]
    signoff: Signoff
    return_reason: str | None
    review_comment: str | None
    first_submitted_at: Timestamp | None
    submitted_at: Timestamp | None
    reviewed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class PlanMilestone(Shape):
    """A milestone of a plan version."""

    key: str = Field(description="跨版本不变；报告按 key 说明完成情况")
    title: str
    due_period: PeriodKey
    department: DepartmentRef


class PlanIndicator(Shape):
    """An indicator of a plan version."""

    key: str = Field(description="跨版本不变；报告按 key 填写数值")
    name: str
    unit: str
    direction: Direction = Field(description="higher 越高越好 · lower 越低越好")
    baseline_value: str = Field(description="精确小数")
    baseline_date: date
    target_value: str = Field(description="精确小数")
    target_date: date
    combine: Combine = Field(description="sum 求和 · average 平均 · latest 取最新报送值")
    departments: list[DepartmentRef] = Field(description="报送部门")


class Plan(Shape):
    """One version of one department's delivery plan for an item."""

    id: int
    task_id: int
    task_number: int
    document: str
    department: DepartmentRef
    number: int = Field(description="版本号：1、2……")
    state: PlanState = Field(
        description="proposed 待审核 · returned 已退回 · approved 已批准（现行） · "
        "superseded 已被新版本替代"
    )
    revision: int = Field(description="每次状态变化加一；approve、return 可带上以防并发")
    change_reason: str | None
    return_reason: str | None
    proposed_by: str | None
    proposed_at: Timestamp
    decided_by: str | None
    decided_at: Timestamp | None
    milestones: list[PlanMilestone]
    indicators: list[PlanIndicator]


class PlanList(Shape):
    """``GET /tasks/{id}/plans``: the versions the caller may read, by department and number."""

    items: list[Plan]


class DepartmentValue(Shape):
    """One department's value of an indicator in one quarter."""

    department: DepartmentRef
    value: str


class IndicatorQuarter(Shape):
    """An indicator's combined value in one quarter, from submitted or accepted reports."""

    period: PeriodKey
    combined: str | None = Field(description="按汇总方式合并的值；无部门报送时为 null")
    expected: str = Field(description="基线到目标的直线在该季度末的值（序时进度）")
    values: list[DepartmentValue]


class IndicatorValues(Shape):
    """An indicator in force with its combined values, newest quarter first."""

    key: str
    name: str
    unit: str
    direction: Direction
    combine: Combine
    baseline_value: str
    baseline_date: date
    target_value: str
    target_date: date
    quarters: list[IndicatorQuarter]


class IndicatorPace(Shape):
    """An indicator the light judged: its latest value against the planned line."""

    key: str
    period: PeriodKey
    value: str
    expected: str
    on_pace: bool


class SuggestedLight(Shape):
    """The suggested delivery light (系统建议; a coordinator's judgement is not part of it)."""

    rag: Literal["green", "amber", "red"] = Field(
        description="green 符合序时进度 · amber 部分落后 · red 落后"
    )
    label: str
    milestones_due: Count
    milestones_done: Count
    indicators: list[IndicatorPace]


class OverdueMilestone(Shape):
    """A milestone in force whose quarter has passed and that no submitted report says is done."""

    key: str
    title: str
    due_period: PeriodKey
    department: DepartmentRef
    said: MilestoneProgress | None = Field(description="最近一次报送的说法；从未说明为 null")
    note: str | None


class Judgement(Shape):
    """A coordinator's judgement of an item's delivery in one quarter."""

    step: DeliveryStep = Field(description=" · ".join(f"{s.value} {s.label}" for s in DeliveryStep))
    label: str
    reason: str | None
    suggested: DeliveryStep | None = Field(description="判断时的系统建议；当时无现行计划为 null")
    judged_by: str | None
    judged_at: Timestamp
    revision: int = Field(description="每次改判加一；再次判断时带上以防并发")


class ShownLight(Shape):
    """The delivery light the pages show: the judgement where there is one, else the
    suggestion (marked 建议)."""

    step: DeliveryStep
    label: str
    source: Literal["judged", "suggested"] = Field(
        description="judged 督办协调员的判断 · suggested 系统建议"
    )


class TaskDelivery(Shape):
    """``GET /tasks/{id}/delivery``: an item's delivery in one quarter."""

    task_id: int
    period: PeriodKey
    light: SuggestedLight | None = Field(description="系统建议；尚无现行计划时为 null")
    shown: ShownLight | None = Field(
        description="页面显示的落实情况（有判断按判断，否则按建议）；都没有时为 null"
    )
    judgement: Judgement | None = Field(description="该季度督办协调员的判断；未判断为 null")
    change: Literal["better", "same", "worse"] | None = Field(
        description="与上一季度相比（按页面显示的落实情况）：better 好转 · same 持平 · "
        "worse 退步；无可比时为 null"
    )
    indicators: list[IndicatorValues] = Field(description="截至该季度的最近四个跟踪季度")
    overdue_milestones: list[OverdueMilestone] = Field(description="按今天（北京时间）判定")


class TrajectoryQuarter(Shape):
    """One tracked quarter of an indicator's trajectory."""

    period: PeriodKey
    combined: str | None = Field(description="按汇总方式合并的报送值；无部门报送时为 null")
    values: list[DepartmentValue] = Field(description="各报送部门本季度的值")
    planned: str = Field(description="基线到目标的直线在该季度末的值（4 位小数）")
    on_pace: bool | None = Field(description="合并值是否达到序时进度；无值为 null")


class Trajectory(Shape):
    """``GET /tasks/{id}/indicators/{key}/trajectory``: the indicator trajectory page's figures."""

    task_id: int
    key: str
    name: str
    unit: str
    direction: Direction
    combine: Combine
    baseline_value: str
    baseline_date: date
    target_value: str
    target_date: date
    plan_state: PlanState = Field(description="指标所在计划版本的状态（现行版本优先）")
    departments: list[DepartmentRef] = Field(description="报送部门")
    quarters: list[TrajectoryQuarter] = Field(description="各跟踪季度，旧的在前")


class ObligationRef(Shape):
    """What a notification names of its obligation."""

    id: int
    period: PeriodKey
    task_number: int
    document: str
    department: DepartmentRef
    role: Role = Field(description=ROLE_DESCRIPTION)


class Notification(Shape):
    """A notification to the caller."""

    id: int
    kind: NotificationKind = Field(
        description=" · ".join(f"{kind.value} {kind.label}" for kind in NotificationKind)
    )
    title: str
    body: str
    obligation: ObligationRef | None
    created_at: Timestamp
    read: bool
    read_at: Timestamp | None


class Headline(Shape):
    """The dashboard's overall figures."""

    obligations: Count = Field(description="应报事项（不含豁免）")
    submitted: Count = Field(description="已报送（含退回、已通过）")
    accepted: Count
    on_time_rate: Rate | None = Field(description="按时报送率；尚无可判定时为 null")
    overdue: Count = Field(description="逾期未报（红）")
    returned: Count
    pending_review: Count
    due_soon: Count
    waived: Count
    judged: Count
    on_time: Count
    avg_days_late: float | None = Field(description="平均迟报工作日")


class ScoreRow(Shape):
    """One department's assessment figures."""

    department: str = Field(description="部门代码")
    department_name: str
    obligations: Count
    on_time_rate: Rate | None
    avg_days_late: float | None
    returns: Count
    urges: Count
    red_share: Rate
    rank: int = Field(ge=1)
    on_time: Count
    judged: Count
    late: Count
    overdue: Count
    submitted: Count
    accepted: Count
    acknowledged: Count
    lead_items: Count


class DashboardCell(Shape):
    """One obligation's light on the dashboard."""

    obligation_id: int | None
    task_id: int
    task_number: int
    document: str
    section: str | None
    department: str = Field(description="部门代码")
    role: Role = Field(description=ROLE_DESCRIPTION)
    state: Reason
    rag: Rag = Field(
        description="红黄绿灯：green 已通过 · blue 待审核 · amber 退回或临近截止 · "
        "red 逾期未报 · grey 未到期或豁免"
    )
    label: str
    due_date: date
    days_late: Count
    late: bool
    arrived_late: date | None


class Dashboard(Shape):
    """The dashboard page's figures (:func:`tracker.dashboard.queries.dashboard_data`)."""

    period: PeriodKey
    frozen: bool = Field(description="已结束的季度按快照显示")
    judged_on: date
    headline: Headline
    scorecard: list[ScoreRow]
    cells: list[DashboardCell]


class DepartmentList(Shape):
    """``GET /departments``."""

    items: list[Department]


NextLink = Annotated[
    str | None,
    Field(
        title="下一页", description="下一页的地址（同样的筛选条件，带 cursor）；没有更多时为 null"
    ),
]


class TaskList(Shape):
    """``GET /tasks``."""

    items: list[Task]
    next: NextLink


class PeriodList(Shape):
    """``GET /periods``."""

    items: list[Period]


class ObligationList(Shape):
    """``GET /obligations``."""

    period: PeriodKey
    items: list[Obligation]
    next: NextLink


class NotificationList(Shape):
    """``GET /notifications``."""

    items: list[Notification]
    next: NextLink


class ExportJob(Shape):
    """A quarterly workbook too large to write in the request, written in the background for
    the caller alone; poll its address (the ``Location`` of the 202) until ``state`` is
    ``done``, then fetch ``download``."""

    id: int
    state: ExportState = Field(
        description=" · ".join(f"{state.value} {state.label}" for state in ExportState)
    )
    description: str
    download_name: str = Field(description="下载时的文件名")
    total: Count = Field(description="须读取的填报事项数")
    done: Count = Field(description="已读取的填报事项数")
    percent: int = Field(ge=0, le=100, description="进度（百分比）")
    error: str | None = Field(description="生成失败时的说明")
    created_at: Timestamp
    finished_at: Timestamp | None
    download: str | None = Field(
        description="生成完成且文件仍保留时的下载地址；否则为 null（文件保留时限后删除）"
    )
