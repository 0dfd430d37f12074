"""The quarterly workbook: eight sheets on one period, print-ready, written in one streamed pass.

Sheets, in order: 总体情况 (headline figures, counts per state and a native chart of on-time
rates), 任务分工落实情况 (the attachment's own table followed by each department's light and
progress), 报告明细 (one row per obligation), 报告正文, 逾期清单, 部门考核 (the dashboard's
scorecard), 催办记录 (urges and their acknowledgements) and 指标轨迹 (each plan indicator in
force: baseline, the combined value of each quarter up to the report's, planned value, target).
A higher domain may add sheets after these (:func:`add_quarterly_sheet`): the cascade's
各地上报情况 at a central instance with member provinces.

The obligations are read once, as a stream, and feed three sheets at the same time; the
overview is filled last (each sheet streams to its own temporary file) from the counts
gathered on the way and the dashboard's aggregates. Lights, labels and colours are the
dashboard's (:mod:`tracker.dashboard.rag`), so the workbook and the dashboard never disagree;
a frozen quarter is read from its snapshot, as the dashboard reads it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import IO, Any, NamedTuple, Protocol, TypedDict

from tracker import clock
from tracker.auth.models import User
from tracker.catalogue.models import Department, Role, Task
from tracker.dashboard import queries as dashboard
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.delivery import ItemDelivery, for_period, item_deliveries
from tracker.dashboard.rag import Light, Rag, Reason, Thresholds, rag_for
from tracker.dashboard.trajectory import decimals, places, planned, rounded, trajectory
from tracker.delivery import queries as delivery_queries
from tracker.exports import queries
from tracker.exports.masthead import documents_heading, masthead
from tracker.exports.queries import ObligationLine
from tracker.exports.workbook import (
    HEADER,
    LABEL,
    SUBTITLE,
    Book,
    Column,
    Look,
    Masthead,
    Paint,
    Sheet,
    fixed_kind,
)
from tracker.extensions import db
from tracker.followups import queries as reminders
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import ReportState

# The dashboard's colours (tracker/static/css/app.css: --*-bg behind --* text).
RAG_PAINT: dict[Rag, Paint] = {
    Rag.GREEN: ("DFF3E4", "1E7B34"),
    Rag.BLUE: ("DCEBFA", "0B5CAD"),
    Rag.AMBER: ("FDF0C8", "8A5A00"),
    Rag.RED: ("FDE2DF", "B42318"),
    Rag.GREY: ("ECEFF2", "5F6B7A"),
}
# Report content is shown once handed in; a draft is the department's unfinished work.
HANDED_IN = (ReportState.SUBMITTED, ReportState.RETURNED, ReportState.ACCEPTED)
SUMMARY_CHARS = 80
PROGRESS_STEP = 500  # obligations read between two calls of a progress callback
CHART_WIDTH_CM, PIXELS_PER_CM = 17, 96 / 2.54
SHEETS = (
    "总体情况", "任务分工落实情况", "报告明细", "报告正文", "逾期清单", "部门考核", "催办记录",
    "指标轨迹",
)  # fmt: skip
NO_OVERDUE = "本季度无逾期未报事项"
FORM_CODE = "RWFG"  # 任务分工: the sheets are forms RWFG-1 to RWFG-8
NO_INDICATORS = "本范围内尚无已批准的落实计划量化指标"
# Quarter columns of 指标轨迹: the last six up to the report's quarter, so that the sheet,
# with a document column, still prints on A4 landscape at 9 pt or more (the trajectory page
# /dashboard/items/<id>/indicators/<key> has every quarter).
TRAJECTORY_QUARTERS = 6

DOCUMENT_COLUMN = Column("文号", 16, "wrap")
# Every table fits A4 landscape at 9 pt or more when printed (tests/exports/test_official.py):
# about 150 character units across at most, so the narratives have their own sheet.
DIVISION_COLUMNS = [
    Column("序号", 6, "int"),
    Column("工作任务", 30, "wrap"),
    Column("牵头单位", 12, "wrap"),
    Column("配合单位 / 共同负责单位", 15, "wrap"),
    Column("责任部门", 12, "wrap"),
    Column("角色", 9, "center"),  # "共同负责" on one line
    Column("落实状态", 14, "center"),
    Column("进展摘要（牵头单位为汇总情况）", 24, "wrap"),
    # The item's delivery light: the coordinator's judgement, the suggestion, the change.
    Column("落实灯（协调员判断）", 9, "center"),
    Column("落实灯（系统建议）", 9, "center"),
    Column("落实较上季度", 7, "center"),
]
# 序号, 工作任务, 牵头单位, 配合单位 and the delivery light: once per item.
DIVISION_MERGED = (0, 1, 2, 3, 8, 9, 10)
# A delivery step's colour: the filing lights' green, amber and red.
STEP_RAG = (Rag.GREEN, Rag.GREEN, Rag.AMBER, Rag.RED, Rag.RED)
DETAIL_COLUMNS = [
    Column("序号", 6, "int"),
    Column("对应正文", 8, "center"),
    Column("部门", 14, "wrap"),
    Column("角色", 9, "center"),  # "共同负责" on one line
    Column("状态", 12, "center"),
    Column("自评状态", 10, "center"),
    Column("核定状态", 10, "center"),
    Column("首次报送时间", 17, "datetime"),
    Column("是否按时", 8, "center"),
    Column("迟报工作日", 8, "int"),
    Column("审核签发", 14, "wrap"),  # the department's approver, and when (审核人 · 时间)
    Column("进展摘要", 30, "wrap"),
]
# The five narratives of each handed-in report, one row each, in a column wide enough to read.
NARRATIVES = (
    ("progress", "工作进展"), ("problems", "存在的困难和问题"), ("practices", "经验做法"),
    ("suggestions", "工作建议"), ("next_steps", "下一步计划"),
)  # fmt: skip
TEXT_COLUMNS = [
    Column("序号", 6, "int"),
    Column("部门", 14, "wrap"),
    Column("栏目", 12, "center"),
    Column("内容", 100, "wrap"),
]
OVERDUE_COLUMNS = [
    Column("序号", 6, "int"),
    Column("工作任务", 50, "wrap"),  # with 序号 merged down the item's departments
    Column("部门", 14, "wrap"),
    Column("角色", 9, "center"),  # "共同负责" on one line
    Column("截止日期", 12, "date"),
    Column("逾期工作日", 10, "int"),
    Column("报告状态", 10, "center"),
]
SCORE_COLUMNS = [
    Column("排名", 6, "int"),
    Column("部门", 22, "wrap"),  # the longest name (国务院妇儿工委办公室) on one line
    Column("应报事项", 8, "int"),
    Column("已报送", 8, "int"),
    Column("按时报送", 8, "int"),
    Column("按时报送率", 10, "percent"),
    Column("平均迟报工作日", 10, "decimal"),
    Column("逾期未报", 8, "int"),
    Column("红灯占比", 8, "percent"),
    Column("退回次数", 8, "int"),
    Column("催办次数", 8, "int"),
    Column("签收次数", 8, "int"),
]
URGE_COLUMNS = [
    Column("序号", 6, "int"),
    Column("部门", 14, "wrap"),
    Column("催办时间", 17, "datetime"),
    Column("催办人", 10, "wrap"),
    Column("催办内容", 44, "wrap"),
    Column("签收时间", 17, "datetime"),
    Column("签收人", 10, "wrap"),
]
OVERVIEW_COLUMNS = [
    Column("项目", 26, "wrap"),
    Column("数值", 12),
    Column("占比", 12),
    Column("", 3),
    *(Column("", 10) for _ in range(7)),
]


def trajectory_columns(periods: Sequence[Period], period: Period, multi: bool) -> list[Column]:
    """The columns of 指标轨迹: the item and indicator, baseline, one per quarter, the planned
    value at the end of the report's quarter, target. Rows share one height (the tallest's),
    so the names sit in the middle of their rows, as the figures do."""
    columns = _columns(
        [
            Column("序号", 6, "int"),
            Column("指标", 20, "middle"),
            Column("单位", 6, "center"),
            Column("基线值", 9, "number"),
            Column("基线日期", 11, "date"),
            *(Column(p.label, 9, "number") for p in periods),
            Column(f"计划值（{period.label}末）", 10, "number"),
            Column("目标值", 9, "number"),
            Column("目标日期", 11, "date"),
        ],
        False,
    )
    return [replace(DOCUMENT_COLUMN, kind="middle"), *columns] if multi else columns


STATE_ORDER = (
    Reason.ACCEPTED, Reason.SUBMITTED, Reason.RETURNED, Reason.OVERDUE, Reason.DUE_SOON,
    Reason.NOT_DUE, Reason.WAIVED,
)  # fmt: skip


@dataclass(frozen=True)
class QuarterlyRequest:
    """What to export: a period, optionally one document, and the departments the reader sees."""

    period: Period
    document_id: int | None = None
    department_ids: frozenset[int] | None = None  # None: every department
    department_label: str | None = None  # e.g. "公安部", named in the titles when restricted
    section: str | None = None  # a main-text part (二 / 三 / 四), as on the dashboard
    role: Role | None = None
    rag: Rag | None = None  # narrows the rows, never the figures (as on the dashboard)
    prepared_by_id: int | None = None  # who exports it: the masthead's 填报人 and 联系电话

    def shows(self, line: ObligationLine, cell: dashboard.Cell) -> bool:
        """Whether a line passes every filter of the request."""
        if self.department_ids is not None and line.department_id not in self.department_ids:
            return False
        if self.role is not None and line.role != self.role:
            return False
        if self.section and not _in_section(line.section, self.section):
            return False
        return self.rag is None or cell.rag == self.rag


def _in_section(section: str | None, part: str) -> bool:
    """The dashboard's rule: the part itself or one of its subsections (``三(二)``)."""
    return section == part or (section or "").startswith(part + "(")


@dataclass
class QuarterlyResult:
    """What was written: obligations per sheet, for the command's message and the tests."""

    obligations: int = 0
    overdue: int = 0
    urges: int = 0
    indicators: int = 0
    # rows of each sheet a higher domain added (add_quarterly_sheet), by sheet name
    added: dict[str, int] = field(default_factory=dict)


class OpenSheet(Protocol):
    """Opens a sheet after the workbook's own, under the same masthead, numbered on."""

    def __call__(self, name: str, columns: Sequence[Column], **options: Any) -> Sheet: ...


# (request, open_sheet) → rows written; a writer that has nothing for the request opens no
# sheet and answers 0. Registered by higher domains, so that this module imports none of them:
# the cascade's 各地上报情况 at a central instance (tracker/federation/sheet.py).
AddedSheet = Callable[[QuarterlyRequest, OpenSheet], int]
_ADDED_SHEETS: dict[str, AddedSheet] = {}


def add_quarterly_sheet(name: str, write: AddedSheet) -> None:
    """Register (once per name) a sheet written after the eight of :data:`SHEETS`."""
    _ADDED_SHEETS.setdefault(name, write)


def write_quarterly(
    target: str | IO[bytes],
    request: QuarterlyRequest,
    *,
    progress: Callable[[int], None] | None = None,
) -> QuarterlyResult:
    """Write the quarterly workbook of ``request`` to ``target`` (a path or a binary file).

    ``progress``, when given, is called with the number of the period's obligations read so
    far, every :data:`PROGRESS_STEP` of them (a background export's progress bar)."""
    scope = dashboard.make_scope(
        request.period, request.document_id, request.department_ids,
        section=request.section, role=request.role,
    )  # fmt: skip
    count, numbers = queries.document_numbers(request.document_id)
    titles = _Titles(request, _masthead(request))
    multi = count > 1
    with Book(target) as book:
        result = _write_sheets(book, request, scope, titles, numbers, multi, progress)
    return result


def _masthead(request: QuarterlyRequest) -> Masthead:
    """Who answers for the workbook: the department it is restricted to (a department's own
    export: its approvers) or the coordinators' compilation, and the person exporting it."""
    prepared_by = (
        db.session.get(User, request.prepared_by_id) if request.prepared_by_id is not None else None
    )
    department = None
    if request.department_ids is not None and len(request.department_ids) == 1:
        department = db.session.get(Department, next(iter(request.department_ids)))
    return masthead(
        documents_heading(request.document_id),
        on=clock.local_today(),
        department=department,
        prepared_by=prepared_by,
    )


def _write_sheets(
    book: Book,
    request: QuarterlyRequest,
    scope: dashboard.Scope,
    titles: _Titles,
    numbers: list[str],
    multi: bool,
    progress: Callable[[int], None] | None = None,
) -> QuarterlyResult:
    """Stream the period's obligations into the sheets, then fill the scorecard and overview."""
    overview = titles.sheet(book, 0, OVERVIEW_COLUMNS, table=False)
    division = titles.sheet(book, 1, _columns(DIVISION_COLUMNS, multi))
    division.filtered = False  # merged blocks: a filter would show half an item
    detail = titles.sheet(book, 2, _columns(DETAIL_COLUMNS, multi))
    texts = titles.sheet(book, 3, _columns(TEXT_COLUMNS, multi))
    overdue = titles.sheet(book, 4, _columns(OVERDUE_COLUMNS, multi))
    overdue.filtered = False
    score = titles.sheet(book, 5, SCORE_COLUMNS)
    urges = titles.sheet(book, 6, _columns(URGE_COLUMNS, multi))
    quarters = trajectory_periods(request.period)
    tracks = titles.sheet(book, 7, trajectory_columns(quarters, request.period, multi))

    result, reasons, thresholds = QuarterlyResult(), Counter[Reason](), scope.thresholds
    late: list[_Late] = []
    lines = queries.obligation_lines(
        request.period,
        document_id=request.document_id,
        snapshot_id=scope.snapshot.id if scope.snapshot is not None else None,
    )
    delivery = _delivery_lights(request, scope)
    read = reported = 0
    for group in queries.by_task(lines):
        read += len(group)
        if progress is not None and read - reported >= PROGRESS_STEP:
            progress(read)
            reported = read
        judged = [(line, judged_cell(line, scope, thresholds)) for line in group]
        shown = [(line, cell) for line, cell in judged if request.shows(line, cell)]
        if not shown:
            continue
        _division_rows(division, group, shown, multi, delivery.get(group[0].task_id))
        for line, cell in shown:
            _detail_row(detail, line, cell, multi)
            _text_rows(texts, line, multi)
            reasons[cell.light.reason] += 1
            if cell.light.reason == Reason.OVERDUE:
                late.append(_Late.of(line, cell, group[0].task_text))
        result.obligations += len(shown)
    result.overdue = _overdue_rows(overdue, late, multi)
    args, options = _same_scope(request, scope)
    head, rows = dashboard.headline_and_scorecard(*args, **options)
    _score_rows(score, rows)
    result.urges = _urge_rows(urges, request, numbers if request.document_id else None, multi)
    result.indicators = _trajectory_rows(tracks, request, quarters, multi)
    filters = dashboard.describe_filters(
        document=numbers[0] if request.document_id is not None and numbers else None,
        section=request.section, department=request.department_label, role=request.role,
        rag=request.rag,
    )  # fmt: skip
    _overview(overview, request, scope, reasons, rows, head, filters)
    for sheet in (division, detail, texts, overdue, score, urges, tracks):
        sheet.finish()
    opened: list[str] = []

    def open_sheet(name: str, columns: Sequence[Column], **options: Any) -> Sheet:
        opened.append(name)
        return titles.added(book, name, len(SHEETS) + len(opened), columns, **options)

    for name, write in _ADDED_SHEETS.items():
        result.added[name] = write(request, open_sheet)
    return result


# -- titles and columns ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Titles:
    request: QuarterlyRequest
    masthead: Masthead

    def of(self, sheet: str) -> str:
        """The sheet's heading under the title: the sheet, the period, the department."""
        scope = f"·{self.request.department_label}" if self.request.department_label else ""
        return f"{sheet}（{self.request.period.label}{scope}）"

    def sheet(self, book: Book, index: int, columns: Sequence[Column], **options: Any) -> Sheet:
        """Sheet ``index`` of :data:`SHEETS`, under the workbook's masthead (表号 RWFG-1 …)."""
        name = SHEETS[index]
        head = self.masthead.numbered(f"表号：{FORM_CODE}-{index + 1}")
        # Not sparse: every cell draws its own border, so that the grid stops at the table
        # and the masthead above it prints as a title block, not as boxes.
        return book.sheet(name, self.of(name), columns, masthead=head, sparse=False, **options)

    def added(
        self, book: Book, name: str, number: int, columns: Sequence[Column], **options: Any
    ) -> Sheet:
        """A sheet another domain adds (:func:`add_quarterly_sheet`), form RWFG-``number``."""
        head = self.masthead.numbered(f"表号：{FORM_CODE}-{number}")
        return book.sheet(name, self.of(name), columns, masthead=head, sparse=False, **options)


def _columns(columns: Sequence[Column], multi: bool) -> list[Column]:
    """With more than one document in the workbook, every row names its document first."""
    return [DOCUMENT_COLUMN, *columns] if multi else list(columns)


def _with_document(
    values: list[Any], line_or_number: ObligationLine | str, multi: bool
) -> list[Any]:
    if not multi:
        return values
    number = getattr(line_or_number, "document_number", line_or_number)
    return [number, *values]


def _paint(cell: dashboard.Cell, index: int, multi: bool) -> dict[int, Paint]:
    return {index + multi: RAG_PAINT[cell.rag]}


# -- lights ----------------------------------------------------------------------------------


class _ScopeOptions(TypedDict):
    """The dashboard's keyword arguments that fix the judging day and the snapshot."""

    today: date
    snapshot: Snapshot | None
    section: str | None
    role: Role | None


def _same_scope(
    request: QuarterlyRequest, scope: dashboard.Scope
) -> tuple[tuple[Period, int | None, frozenset[int] | None], _ScopeOptions]:
    """Arguments that make the dashboard judge on the same day, from the same snapshot, with
    the same filters (the colour filter narrows rows only, as on the dashboard)."""
    return (request.period, request.document_id, request.department_ids), {
        "today": scope.today,
        "snapshot": scope.snapshot,
        "section": request.section,
        "role": request.role,
    }


def judged_cell(
    line: ObligationLine, scope: dashboard.Scope, thresholds: Thresholds
) -> dashboard.Cell:
    """The dashboard's cell for one line: live, or as frozen in the period's snapshot."""
    light, arrived = None, None
    snapshot = scope.snapshot  # set exactly when the scope is frozen
    if snapshot is not None and line.frozen_reason is not None:
        light = Light(
            Reason(line.frozen_reason), line.frozen_days_late or 0, bool(line.frozen_late)
        )
        first = line.first_submitted_at
        if first is not None and first > snapshot.as_of:
            arrived = clock.local_date(first)
    if light is None:
        light = rag_for(
            line.state, line.first_submitted_at, line.waived, line.due_date,
            thresholds=thresholds,
        )  # fmt: skip
    return dashboard.Cell(
        line.obligation_id, line.task_id, line.department_id, line.role, line.due_date, light,
        arrived, line.state,
    )  # fmt: skip


def handed_in(line: ObligationLine) -> bool:
    """Is the line's report handed in (its content no longer the department's alone)?"""
    return line.state in HANDED_IN


def summary(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"


# -- the three streamed sheets ---------------------------------------------------------------


def _delivery_lights(request: QuarterlyRequest, scope: dashboard.Scope) -> dict[int, ItemDelivery]:
    """The period's items' delivery lights by task id (a frozen quarter's from its snapshot,
    as the dashboard shows them), and the change since the quarter before."""
    period, previous = request.period, request.period.previous()
    frozen = {period.key: scope.snapshot, previous.key: dashboard.snapshot_for(previous)}
    task_ids = queries.period_task_ids(period, request.document_id)
    return for_period(item_deliveries(task_ids, [period], frozen), period)


def _delivery_values(light: ItemDelivery | None) -> list[str]:
    """The delivery light's three cells: judged, suggested, change."""
    if light is None:
        return ["未判断", "无计划", "—"]
    return [
        light.judged.label if light.judged else "未判断",
        light.suggested.label if light.suggested else "无计划",
        light.change.label,
    ]


def _delivery_paint(light: ItemDelivery | None, multi: bool) -> dict[int, Paint]:
    """The judged and suggested cells in their step's colour."""
    paint: dict[int, Paint] = {}
    if light is None:
        return paint
    for index, step in ((8, light.judged), (9, light.suggested)):
        if step is not None:
            paint[index + multi] = RAG_PAINT[STEP_RAG[step.severity]]
    return paint


def _division_rows(
    sheet: Sheet,
    group: list[ObligationLine],
    shown: list[tuple[ObligationLine, dashboard.Cell]],
    multi: bool,
    light: ItemDelivery | None = None,
) -> None:
    """One block per item: the attachment's columns (number, text, lead, partners) merged
    down the item's rows, then one row per shown department, lead first, with its light and
    progress summary (the lead's is the consolidated report), and the item's delivery light
    (judged, suggested, change since last quarter) merged down the block."""
    first = group[0]
    leads = [line.department_name for line in group if line.role == Role.LEAD]
    others = Role.SUPPORT if leads else Role.JOINT
    partners = "各部门" if first.all_departments else "、".join(
        line.department_name for line in group if line.role == others
    )  # fmt: skip
    attachment = [first.task_number, first.task_text, "、".join(leads), partners]
    rows, paints = [], []
    for line, cell in shown:
        values = [
            *attachment,
            line.department_name,
            line.role.label,
            cell.label,
            summary(line.progress) if handed_in(line) else None,
            *_delivery_values(light),
        ]
        rows.append(_with_document(values, first, multi))
        paints.append({**_paint(cell, 6, multi), **_delivery_paint(light, multi)})
    merged = [index + multi for index in DIVISION_MERGED]
    sheet.block(rows, [0, *merged] if multi else merged, paints)


def _detail_row(sheet: Sheet, line: ObligationLine, cell: dashboard.Cell, multi: bool) -> None:
    light, shown = cell.light, handed_in(line)
    submitted = line.first_submitted_at is not None
    if light.reason == Reason.WAIVED:
        on_time, late = None, None
    elif submitted:
        on_time, late = ("否" if light.late else "是"), light.days_late
    else:
        on_time, late = None, light.days_late if light.reason == Reason.OVERDUE else None
    values = [
        line.task_number,
        line.section,
        line.department_name,
        line.role.label,
        light.reason.label,
        line.status.label if shown and line.status else None,
        line.confirmed_status.label if line.confirmed_status else None,
        line.first_submitted_at,
        on_time,
        late,
        signed_off(line) if shown else None,
        summary(line.progress) if shown else None,
    ]
    sheet.row(_with_document(values, line, multi), _paint(cell, 4, multi))


def _text_rows(sheet: Sheet, line: ObligationLine, multi: bool) -> None:
    """The handed-in report's narratives, one wrapped row each (an empty one is left out)."""
    if not handed_in(line):
        return
    for name, label in NARRATIVES:
        text = getattr(line, name)
        if text and text.strip():
            values = [line.task_number, line.department_name, label, text]
            sheet.row(_with_document(values, line, multi))


def signed_off(line: ObligationLine) -> str | None:
    """``王处长\n2024-10-09 16:00``: who signed the report off, and when (Beijing time)."""
    if line.approved_by is None or line.approved_at is None:
        return None
    moment = line.approved_at.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")
    return f"{line.approved_by}\n{moment}"


class _Late(NamedTuple):
    """What the overdue list shows of one obligation, kept until the list is written (the
    list is sorted by days late, so it cannot be streamed): a few fields, not the whole line
    with its texts, so that a quarter with many overdue obligations stays small."""

    task_id: int
    task_number: int
    task_text: str
    document_number: str
    department_name: str
    role: Role
    due_date: date
    days_late: int
    state: str
    rag: Rag

    @classmethod
    def of(cls, line: ObligationLine, cell: dashboard.Cell, task_text: str) -> _Late:
        """``task_text`` is the item's text read once for all its departments' lines."""
        return cls(
            line.task_id, line.task_number, task_text, line.document_number,
            line.department_name, line.role, line.due_date, cell.light.days_late,
            line.state.label if line.state else "未填报", cell.rag,
        )  # fmt: skip


def _overdue_rows(sheet: Sheet, late: list[_Late], multi: bool) -> int:
    """The overdue obligations grouped by item (its number and text once, merged down), the
    item furthest behind first and within an item the department furthest behind; an empty
    list says so in words."""
    if not late:
        span = len(sheet.columns)
        sheet.cells([(NO_OVERDUE, Look("center", bold=True))], height=28, span=span)
        return 0
    items: dict[int, list[_Late]] = {}
    for entry in late:
        items.setdefault(entry.task_id, []).append(entry)
    blocks = sorted(
        items.values(), key=lambda rows: (-max(e.days_late for e in rows), rows[0].task_number)
    )
    merged = [multi, 1 + multi]  # 序号, 工作任务 (the 文号 before them, with several documents)
    for rows in blocks:
        rows.sort(key=lambda entry: -entry.days_late)
        values = [
            _with_document(
                [
                    e.task_number,
                    e.task_text,
                    e.department_name,
                    e.role.label,
                    e.due_date,
                    e.days_late,
                    e.state,
                ],
                e.document_number,
                multi,
            )
            for e in rows
        ]
        paints = [{5 + multi: RAG_PAINT[e.rag]} for e in rows]
        sheet.block(values, [0, *merged] if multi else merged, paints)
    return len(late)


# -- indicator trajectories -----------------------------------------------------------------


def trajectory_periods(period: Period) -> list[Period]:
    """The quarters 指标轨迹 shows: tracked ones up to ``period``, the last
    :data:`TRAJECTORY_QUARTERS` of them, oldest first."""
    quarters = list(Period.range(report_queries.first_period(), period)) or [period]
    return quarters[-TRAJECTORY_QUARTERS:]


def _shows_item(request: QuarterlyRequest, task: Task) -> bool:
    """An item's indicators are in a department's export when the department is on the item
    (every department on it reads the approved plan); the section filter applies too."""
    if request.section and not _in_section(task.section, request.section):
        return False
    if request.department_ids is None:
        return True
    return any(a.department_id in request.department_ids for a in task.assignments)


def _trajectory_rows(
    sheet: Sheet, request: QuarterlyRequest, periods: list[Period], multi: bool
) -> int:
    """One row per indicator in force: baseline, each quarter's combined value (submitted or
    accepted reports; empty when none), the line's value at the end of the report's quarter
    and the target, as the trajectory page shows them.

    Values are numbers with a number format of the indicator's precision and thousands
    separators (:func:`tracker.dashboard.trajectory.places`): the planned value is rounded to
    it, reported values, baseline and target keep every decimal they have. Every row has the
    height of the tallest one, so that the table reads evenly."""
    indicators = [
        i
        for i in delivery_queries.document_indicators_in_force(request.document_id)
        if _shows_item(request, i.plan.task)
    ]
    if not indicators:
        span = len(sheet.columns)
        sheet.cells([(NO_INDICATORS, Look("center", bold=True))], height=28, span=span)
        return 0
    results = report_queries.combined_results(
        {i.plan.task_id for i in indicators}, indicators, periods
    )
    rows = []
    for indicator, by_period in results:
        task = indicator.plan.task
        points = trajectory(indicator, by_period, periods, {}).points
        shown = places(indicator)
        values = [
            task.number, indicator.name, indicator.unit, indicator.baseline_value,
            indicator.baseline_date, *(p.combined for p in points),
            rounded(planned(indicator, request.period), shown), indicator.target_value,
            indicator.target_date,
        ]  # fmt: skip
        planned_at = len(values) - 3
        kinds = {
            index: fixed_kind(shown if index == planned_at else max(shown, decimals(value)))
            for index, value in enumerate(values)
            if index >= 3 and isinstance(value, Decimal)
        }
        rows.append((_with_document(values, task.document.number, multi), kinds))
    height = max((sheet.height_of(values) or 0.0 for values, _ in rows), default=0.0) or None
    offset = 1 if multi else 0
    for values, kinds in rows:
        looks = [sheet.look_of(index) for index in range(len(values))]
        for index, kind in kinds.items():
            looks[index + offset] = replace(looks[index + offset], kind=kind)
        sheet.cells(list(zip(values, looks, strict=True)), height=height)
    return len(results)


# -- scorecard, urges, overview --------------------------------------------------------------


def _score_rows(sheet: Sheet, rows: Iterable[dashboard.ScoreRow]) -> None:
    for row in rows:
        sheet.row(
            [
                row.rank, row.department.name, row.obligations, row.submitted, row.on_time,
                row.on_time_rate, row.avg_days_late, row.overdue, row.red_share, row.returns,
                row.urges, row.acknowledged,
            ]
        )  # fmt: skip


def _urge_rows(
    sheet: Sheet, request: QuarterlyRequest, numbers: list[str] | None, multi: bool
) -> int:
    written = 0
    for urge in reminders.urges_for_period(request.period.key, request.department_ids):
        if numbers is not None and urge.document_number not in numbers:
            continue
        values = [
            urge.task_number, urge.department, urge.urged_at, urge.urged_by, urge.message,
            urge.acknowledged_at, urge.acknowledged_by,
        ]  # fmt: skip
        sheet.row(_with_document(values, urge.document_number, multi))
        written += 1
    return written


def _overview(
    sheet: Sheet,
    request: QuarterlyRequest,
    scope: dashboard.Scope,
    reasons: Counter[Reason],
    scores: list[dashboard.ScoreRow],
    head: dashboard.Headline,
    filters: str,
) -> None:
    judged = f"数据截至 {scope.judged_on.isoformat()}（北京时间）"
    if scope.frozen:
        judged += "，本季度已封存；封存后补报的材料标注“补报”"
    who = request.department_label or "全部部门"
    sheet.cells([(f"{judged}；范围：{who}", SUBTITLE)], span=len(OVERVIEW_COLUMNS))
    sheet.cells([(f"筛选条件：{filters}", SUBTITLE)], span=len(OVERVIEW_COLUMNS))
    sheet.blank()
    sheet.cells([("主要指标", HEADER), ("数值", HEADER)])
    for label, value, kind in (
        ("应报事项（不含豁免）", head.obligations, "int"),
        ("已报送（含待审核、已退回、已通过）", head.submitted, "int"),
        ("已审核通过", head.accepted, "int"),
        ("按时报送率", head.on_time_rate, "percent"),
        ("逾期未报", head.overdue, "int"),
        ("已退回待修改", head.returned, "int"),
        ("待审核", head.pending_review, "int"),
        ("5个工作日内到期未报", head.due_soon, "int"),
        ("已豁免", head.waived, "int"),
        ("平均迟报工作日", head.avg_days_late, "decimal"),
    ):
        sheet.cells([(label, LABEL), (value, Look(kind))])
    sheet.blank()
    total = sum(reasons.values())
    sheet.cells([("各状态事项数", HEADER), ("事项数", HEADER), ("占比", HEADER)])
    for reason in STATE_ORDER:
        fill, color = RAG_PAINT[reason.rag]
        share = reasons[reason] / total if total else None
        sheet.cells(
            [
                (reason.label, Look("text", fill=fill, color=color, bold=True)),
                (reasons[reason], Look("int")),
                (share, Look("percent")),
            ]
        )
    sheet.blank()
    _rates_with_chart(sheet, scores)


def _rates_with_chart(sheet: Sheet, scores: list[dashboard.ScoreRow]) -> None:
    """The on-time rate of each department (rank order) and a bar chart drawn from it."""
    sheet.cells([("各部门按时报送率", HEADER), ("按时报送率", HEADER), ("排名", HEADER)])
    first = sheet.next_row
    for row in scores:
        sheet.cells(
            [(row.department.name, LABEL), (row.on_time_rate, Look("percent")),
             (row.rank, Look("int"))]
        )  # fmt: skip
    last = sheet.next_row - 1
    if last < first:
        return
    chart = sheet.book.workbook.add_chart({"type": "bar"})  # horizontal: names stay readable
    name = sheet.ws.get_name()
    chart.add_series(
        {
            "name": "按时报送率",
            "categories": [name, first - 1, 0, last - 1, 0],
            "values": [name, first - 1, 1, last - 1, 1],
            # In constant memory XlsxWriter cannot read the cells back for the chart's cache:
            # given here, readers that draw from the cache show names and rates at once.
            "categories_data": [row.department.name for row in scores],
            "values_data": [row.on_time_rate for row in scores],
            "data_labels": {"value": True, "num_format": "0.0%"},
        }
    )
    chart.set_title({"name": "各部门按时报送率", "name_font": {"size": 12, "bold": True}})
    chart.set_style(10)
    chart.set_legend({"none": True})
    # In a bar chart the x axis is the values', the y axis the departments' (rank 1 on top).
    chart.set_x_axis(
        {"min": 0, "max": 1, "num_format": "0%", "major_gridlines": {"visible": False}}
    )
    chart.set_y_axis({"reverse": True})
    rows = last - first + 1
    chart.set_size(
        {"width": CHART_WIDTH_CM * PIXELS_PER_CM,
         "height": max(7.5, 0.75 * rows + 2.5) * PIXELS_PER_CM}
    )  # fmt: skip
    sheet.ws.insert_chart(sheet.first_data_row - 1, 4, chart)  # beside the figures
