"""The department template: a workbook a liaison fills in offline, and reading it back.

Writing (with XlsxWriter, through :mod:`tracker.exports.workbook`): one row per obligation of
the department in a period. The key columns are locked by
sheet protection (among them who signed the report off inside the department, 审核签发); the
obligation id and the report version (for the stale-edit check) sit in hidden columns; the
自评状态 drop-down, the five narrative columns and the key figures (关键数据, one a line:
``名称：数值 单位``) are the only unlocked cells, formatted as text so that what a liaison types
stays text.

Reading: an upload is checked as a zip archive before openpyxl sees it — its size, the number
of entries, their expanded size and compression ratio (zip bombs) — and then read in read-only
mode, with the XML parsed by defusedxml. Every problem is collected with its row and column, so
that one refusal lists them all. Nothing here touches the database: see
:func:`tracker.exports.services.apply_template`.

A small file can still hold a sheet of a million blank rows (they compress well, inside every
zip limit), which openpyxl would walk one by one. So the rows are bounded twice: the sheets'
declared dimension (``<dimension ref="A1:O670000"/>`` at the head of each sheet's XML) is read
before openpyxl opens the file, and the reading itself counts every row it is handed, blank or
not, and stops at ``TRACKER_IMPORT_MAX_ROWS`` (a sheet may declare no dimension, or a false
one) or after ``TRACKER_IMPORT_SECONDS`` of reading.
"""

from __future__ import annotations

import io
import re
import time
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import openpyxl
from flask import current_app
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.utils import escape
from xlsxwriter.worksheet import Worksheet

from tracker import privacy
from tracker.catalogue.models import Department
from tracker.delivery.rules import amount_in_range, parse_amount
from tracker.errors import Invalid
from tracker.exports.quarterly import signed_off
from tracker.exports.queries import INDICATOR_KIND, MILESTONE_KIND, ObligationLine, PlanLine
from tracker.exports.workbook import FIRST_DATA_ROW, HEADER_ROW, Book, Column, Look
from tracker.periods import Period
from tracker.reports.labels import FIELD_LABELS
from tracker.reports.limits import (
    MAX_FIGURE_NAME,
    MAX_FIGURE_UNIT,
    MAX_FIGURES,
    MAX_MILESTONE_NOTE,
    MAX_NARRATIVE,
    figure_from_text,
    normalise_text,
)
from tracker.reports.models import MilestoneProgress, ProgressStatus, ReportState
from tracker.reports.services import EDITABLE_STATES, MILESTONE_NOTE_REQUIRED, NARRATIVE_FIELDS

SHEET_TITLE = "填报"
GUIDE_TITLE = "填写说明"
KEY_FILL = "EDEDED"  # locked columns are grey; what the liaison fills in is white

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ENTRIES = 100  # a template saved by Excel or WPS holds about 15
MAX_EXPANDED_BYTES = 50 * 1024 * 1024
MAX_RATIO = 100  # expanded / compressed, judged for entries above RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 1024 * 1024
DIMENSION_HEAD_BYTES = 4096  # the <dimension> element comes right after <sheetPr>
_DIMENSION = re.compile(
    rb'<(?:\w+:)?dimension\s+ref="\$?[A-Z]{1,3}\$?(\d+)(?::\$?[A-Z]{1,3}\$?(\d+))?"'
)
TIME_CHECK_EVERY = 256  # rows between two looks at the clock

STATUS_BY_LABEL = {status.label: status for status in ProgressStatus}
STATUS_LIST = "、".join(STATUS_BY_LABEL)
# An uploaded row's cells as openpyxl's stubs type them. In read-only mode they are its
# read-only and empty cells, which have the two attributes read here: value and data_type.
UploadCell = Cell | MergedCell


def _key(header: str, width: float, kind: str = "wrap", *, hidden: bool = False) -> Column:
    return Column(header, width, kind, hidden=hidden, fill=KEY_FILL)


def _input(name: str, width: float) -> Column:
    return Column(FIELD_LABELS[name], width, "wrap", locked=False)


# Widths that keep the printed sheet (fitted to the width of A4 landscape) at about 7 pt.
COLUMNS = [
    _key("编号", 8, "int", hidden=True),
    _key("版本", 6, "int", hidden=True),
    _key("文号", 14),
    _key("序号", 6, "int"),
    _key("工作任务", 32),
    _key("角色", 9, "center"),
    _key("截止日期", 12, "date"),
    _key("报告状态", 12, "center"),
    _key("退回理由", 16),
    _key("审核签发", 14),  # the department's approver and when, once signed off
    Column(FIELD_LABELS["status"], 12, "center", locked=False),
    _input("progress", 30),
    _input("problems", 20),
    _input("practices", 20),
    _input("suggestions", 20),
    _input("next_steps", 20),
    Column("关键数据", 22, "wrap", locked=False),
]
HEADERS = [column.header for column in COLUMNS]
ID, VERSION, STATUS = 0, 1, HEADERS.index(FIELD_LABELS["status"])
FIGURES = HEADERS.index("关键数据")
# One figure a line: a name, a full-width or ASCII colon, the number, then the unit.
FIGURE_LINE = re.compile(r"(?P<name>[^：:]+)[：:]\s*(?P<value>\S+?)\s*(?P<unit>[^\d\s,.\-][^\n]*)?")
Figure = tuple[str, Decimal, str]
NARRATIVE_COLUMNS = {name: HEADERS.index(FIELD_LABELS[name]) for name in NARRATIVE_FIELDS}

# The delivery plans' part (tracker/delivery): one line per indicator the department reports
# and per milestone it answers for that is due by the quarter, beside its item's number. A
# sheet of its own, because items carry different indicators: a column per indicator on the
# main sheet would leave most cells of most rows empty.
PLAN_SHEET = "指标与节点"
PLAN_COLUMNS = [
    _key("编号", 8, "int", hidden=True),
    _key("键", 10, hidden=True),
    _key("序号", 6, "int"),
    _key("类别", 8, "center"),
    _key("指标或节点", 36, "middle"),  # beside centred cells: centred in its row too
    _key("单位或完成季度", 12, "center"),
    Column("数值", 14, "number", locked=False),
    Column("完成情况", 12, "center", locked=False),
    Column("情况说明", 36, "wrap", locked=False),
]
PLAN_HEADERS = [column.header for column in PLAN_COLUMNS]
P_ID, P_KEY, P_NUMBER, P_KIND, P_NAME, P_UNIT, P_VALUE, P_PROGRESS, P_NOTE = range(9)
PROGRESS_BY_LABEL = {progress.label: progress for progress in MilestoneProgress}
PROGRESS_LIST = "、".join(PROGRESS_BY_LABEL)


GUIDE = [
    "1. 只填写白色的列：自评状态（从下拉列表中选择）、工作进展、存在的困难和问题、经验做法、"
    "工作建议、下一步计划、关键数据。灰色的列由系统生成，已锁定。",
    f"   关键数据每行一项，写作“名称：数值 单位”，如“培训人次：4200 人次”，最多 {MAX_FIGURES} 项；"
    "清空该栏即删除全部关键数据。",
    "2. 请勿增删行、调整列的顺序或修改工作表名称；每个事项一行。",
    f"3. 每栏不超过 {MAX_NARRATIVE} 字。单元格已设为文本格式，以“=”等符号开头的内容按文字保存。",
    "4. 上传后系统逐行检查：有任何问题则整份文件不保存，并列出每个问题所在的行和列。",
    "5. 上传成功只保存为草稿，不会自动报送。请在系统中核对后逐项报送。",
    "6. 已报送或已审核通过的报告不能通过模板修改；下载模板后如有人在系统中修改了同一报告，"
    "该行会被拒绝，请重新下载模板。",
    f"7. “{PLAN_SHEET}”表列出落实计划中本部门报送的量化指标和本季度到期的节点，按序号对应"
    "“填报”表的事项：指标填“数值”（不小于 0 的数字，最多 4 位小数，单位见“单位或完成季度”列），"
    f"节点从下拉列表选择“完成情况”（{PROGRESS_LIST}），未完成或部分完成时须填一句“情况说明”。"
    "清空即删除；报送前每个到期节点都须说明。",
]


def state_label(line: ObligationLine) -> str:
    if line.waived:
        return "已豁免"
    return line.state.label if line.state else "未填报"


def editable(line: ObligationLine) -> bool:
    return line.state is None or line.state in EDITABLE_STATES


def write_template(
    target: str | IO[bytes],
    lines: Iterable[ObligationLine],
    *,
    department: Department,
    period: Period,
    figures: Mapping[int, list[Figure]] | None = None,
    plan: Mapping[int, list[PlanLine]] | None = None,
) -> int:
    """Write the department's template for ``period``; returns the number of obligations.

    ``figures`` are the reports' key figures by obligation id, ``plan`` the lines of the
    plans' sheet by obligation id.
    """
    figures, plan = figures or {}, plan or {}
    with Book(target) as book:
        sheet = book.sheet(
            SHEET_TITLE, f"{department.name} {period.label}进展情况填报表", COLUMNS, protect=True
        )
        planned: list[tuple[PlanLine, bool]] = []
        for line in lines:
            values = _template_values(line, figures.get(line.obligation_id, []))
            sheet.row(values, locked=not editable(line))
            planned += [(p, editable(line)) for p in plan.get(line.obligation_id, [])]
        sheet.finish()
        last = sheet.rows_written
        if last >= FIRST_DATA_ROW:
            _add_validations(sheet.ws, last)
        _write_plan_sheet(book, department, period, planned)
        guide = book.sheet(GUIDE_TITLE, "填写说明", [Column("说明", 110, "wrap")], table=False)
        for text in GUIDE:
            guide.cells([(text, Look("wrap", border=""))])
    return max(0, last - HEADER_ROW)


def figures_text(figures: Iterable[Figure]) -> str:
    """``培训人次：4200 人次``, one figure a line, as the template shows and reads them."""
    return "\n".join(
        f"{name}：{format(value.normalize(), 'f')}{' ' + unit if unit else ''}"
        for name, value, unit in figures
    )


def _template_values(line: ObligationLine, figures: list[Figure]) -> list[Any]:
    report = line.state is not None
    return [
        line.obligation_id,
        line.version if report else 0,
        line.document_number,
        line.task_number,
        line.task_text,
        line.role.label,
        line.due_date,
        state_label(line),
        line.return_reason if line.state == ReportState.RETURNED else None,
        signed_off(line),
        line.status.label if line.status else None,
        *(getattr(line, name) if report else None for name in NARRATIVE_FIELDS),
        figures_text(figures) or None,
    ]


def _write_plan_sheet(
    book: Book, department: Department, period: Period, planned: list[tuple[PlanLine, bool]]
) -> None:
    """The plans' sheet: each line's input cells open (the value of an indicator, the status
    and sentence of a milestone), with their validation; the rest locked."""
    sheet = book.sheet(
        PLAN_SHEET, f"{department.name} {period.label}量化指标与节点完成情况", PLAN_COLUMNS,
        protect=True,
    )  # fmt: skip
    for line, open_ in planned:
        indicator = line.kind == INDICATOR_KIND
        values = [
            line.obligation_id, line.key, line.task_number, line.kind, line.name, line.unit_or_due,
            line.value, line.progress.label if line.progress else None, line.note or None,
        ]  # fmt: skip
        closed = {P_PROGRESS, P_NOTE} if indicator else {P_VALUE}
        sheet.row(values, locked=not open_, locked_columns=closed)
        row = sheet.rows_written - 1
        if indicator:
            sheet.ws.data_validation(
                row, P_VALUE, row, P_VALUE,
                {
                    "validate": "decimal", "criteria": ">=", "value": 0, "ignore_blank": True,
                    "input_title": f"数值（{line.unit_or_due}）"[:32],
                    "input_message": "不小于 0 的数字，最多 4 位小数",
                    "error_title": "数值",
                    "error_message": f"请填写不小于 0 的数字（单位：{line.unit_or_due}）",
                },
            )  # fmt: skip
        else:
            sheet.ws.data_validation(
                row, P_PROGRESS, row, P_PROGRESS,
                {
                    "validate": "list", "source": list(PROGRESS_BY_LABEL), "ignore_blank": True,
                    "input_title": "完成情况", "input_message": "请从下拉列表中选择",
                    "error_title": "完成情况",
                    "error_message": f"请从下拉列表中选择：{PROGRESS_LIST}",
                },
            )  # fmt: skip
    sheet.finish()


def _add_validations(ws: Worksheet, last: int) -> None:
    """The 自评状态 drop-down and the narrative length limit, over every data row.

    ``last`` is the 1-based number of the last data row.
    """
    first_row, last_row = FIRST_DATA_ROW - 1, last - 1
    ws.data_validation(
        first_row, STATUS, last_row, STATUS,
        {
            "validate": "list",
            "source": list(STATUS_BY_LABEL),
            "ignore_blank": True,
            "input_title": "自评状态",
            "input_message": "请从下拉列表中选择",
            "error_title": "自评状态",
            "error_message": f"请从下拉列表中选择：{STATUS_LIST}",
        },
    )  # fmt: skip
    first, final = min(NARRATIVE_COLUMNS.values()), max(NARRATIVE_COLUMNS.values())
    ws.data_validation(
        first_row, first, last_row, final,
        {
            "validate": "length",
            "criteria": "<=",
            "value": MAX_NARRATIVE,
            "ignore_blank": True,
            "error_title": "字数超限",
            "error_message": f"每栏不超过 {MAX_NARRATIVE} 字",
        },
    )  # fmt: skip


# -- reading an upload -----------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason an upload is refused, located by its row and column when it has them."""

    message: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None  # None: the main sheet (填报)

    def __str__(self) -> str:
        where = f"“{self.sheet}”表" if self.sheet else ""
        where += f"第{self.row}行" if self.row is not None else ""
        if self.column:
            where += f"“{self.column}”"
        return f"{where}：{self.message}" if where else self.message


class TemplateRefused(Invalid):
    """The upload is refused as a whole; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class TemplateRow:
    """One filled-in row of an upload: which obligation, from which version, with what.

    ``complete`` is False when a cell of the row had a problem: the row's obligation is still
    checked (is it this department's?), but nothing of it is compared or saved.
    """

    row: int
    obligation_id: int | None
    version: int | None
    status: ProgressStatus | None
    texts: dict[str, str] = field(default_factory=dict)
    complete: bool = True
    figures: list[Figure] = field(default_factory=list)
    # From the plans' sheet; None (an older template without it) keeps what is stored.
    indicator_values: dict[str, Decimal] | None = None
    milestone_statuses: dict[str, tuple[MilestoneProgress, str]] | None = None

    @property
    def blank(self) -> bool:
        planned = bool(self.indicator_values) or bool(self.milestone_statuses)
        return (
            self.status is None and not any(self.texts.values()) and not self.figures
            and not planned
        )  # fmt: skip


@dataclass
class ParsedUpload:
    """What an upload's rows say, with every problem found in the file itself."""

    rows: list[TemplateRow]
    problems: list[Problem]


def read_upload(filename: str | None, stream: IO[bytes]) -> ParsedUpload:
    """Read an uploaded template's rows and their problems.

    A file that cannot be a template at all (wrong type, too big, a zip bomb, damaged, another
    workbook) raises :class:`TemplateRefused`; problems in cells are returned with the rows, so
    that :func:`tracker.exports.services.apply_template` can add its own and list them all.
    """
    data = _checked_archive(filename, stream)
    limits = ReadLimits.configured()
    _check_dimensions(data, limits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. "Data Validation extension is not supported"
        try:
            # Not data_only: a formula must be seen as one (and refused), not as its value.
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        except Exception:  # openpyxl raises many kinds on a damaged file
            raise TemplateRefused([Problem("文件已损坏或不是 Excel 工作簿，无法读取。")]) from None
        try:
            parsed = _read_rows(workbook, limits)
            _read_plan_rows(workbook, limits, parsed)
            return parsed
        finally:
            workbook.close()


@dataclass(frozen=True)
class ReadLimits:
    """How many rows of a sheet are read at most (blank ones included), and for how long."""

    max_rows: int
    seconds: float

    @classmethod
    def configured(cls) -> ReadLimits:
        config = current_app.config
        return cls(int(config["TRACKER_IMPORT_MAX_ROWS"]), float(config["TRACKER_IMPORT_SECONDS"]))

    def too_many_rows(self, rows: int) -> Problem:
        return Problem(
            f"工作表有 {rows} 行以上（含空行），超过上限 {self.max_rows} 行：请使用本系统下载的"
            "填报模板，不要在表格下方添加或保留大量空行。"
        )

    def too_slow(self) -> Problem:
        return Problem(
            f"文件读取超过 {self.seconds:g} 秒仍未完成，已停止：请使用本系统下载的填报模板，"
            "不要在表格中添加大量空行或无关内容。"
        )


def _check_dimensions(data: bytes, limits: ReadLimits) -> None:
    """Refuse a workbook whose worksheets declare more rows than are ever read.

    Only the head of each sheet's XML is inflated (the element is written before the cells);
    a sheet without one is bounded while it is read (:func:`_read_rows`).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            if not (
                entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml")
            ):
                continue
            with archive.open(entry) as part:
                head = part.read(DIMENSION_HEAD_BYTES)
            found = _DIMENSION.search(head)
            if found is None:
                continue
            last_row = int(found.group(2) or found.group(1))
            if last_row - HEADER_ROW > limits.max_rows:
                raise TemplateRefused([limits.too_many_rows(last_row)])


def _checked_archive(filename: str | None, stream: IO[bytes]) -> bytes:
    """The upload's bytes, once it is an .xlsx of sane size and compression."""
    name = (filename or "").strip()
    if not name.lower().endswith(".xlsx"):
        raise TemplateRefused(
            [Problem(f"只能上传 .xlsx 格式的填报模板（所选文件：{name or '无'}）。")]
        )
    data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise TemplateRefused(
            [Problem(f"文件超过 {MAX_UPLOAD_BYTES // 1048576} MB，请检查是否为填报模板。")]
        )
    if not data.startswith(b"PK\x03\x04"):
        raise TemplateRefused(
            [Problem("文件不是有效的 .xlsx 工作簿（如设置了打开密码，请取消密码后再上传）。")]
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise TemplateRefused([Problem("文件已损坏，不是有效的 .xlsx 工作簿。")]) from None
    problems = _archive_problems(entries)
    if problems:
        raise TemplateRefused(problems)
    return data


def _archive_problems(entries: list[zipfile.ZipInfo]) -> list[Problem]:
    """Limits that stop a zip bomb before anything is decompressed.

    The sizes come from the archive's directory; Python's zipfile never inflates an entry
    beyond its declared size, so a lying directory cannot get past them either.
    """
    problems = []
    if len(entries) > MAX_ENTRIES:
        problems.append(Problem(f"文件包含 {len(entries)} 个内部部件，超过上限 {MAX_ENTRIES}。"))
    expanded = sum(entry.file_size for entry in entries)
    if expanded > MAX_EXPANDED_BYTES:
        problems.append(
            Problem(
                f"文件解压后达 {expanded / 1048576:.0f} MB，超过上限 "
                f"{MAX_EXPANDED_BYTES // 1048576} MB。"
            )
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            problems.append(
                Problem(
                    f"文件内部部件 {entry.filename} 的压缩比异常（{ratio:.0f} 倍），疑为压缩炸弹。"
                )
            )
            break
    names = {entry.filename for entry in entries}
    if not problems and not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
        problems.append(Problem("文件不是有效的 .xlsx 工作簿。"))
    return problems


def _read_rows(workbook: openpyxl.Workbook, limits: ReadLimits) -> ParsedUpload:
    # Among the worksheets only: a chart sheet may carry the title too, but it has no cells.
    sheet = next((ws for ws in workbook.worksheets if ws.title == SHEET_TITLE), None)
    if sheet is None:
        raise TemplateRefused(
            [Problem(f"文件中没有“{SHEET_TITLE}”工作表：请使用本系统下载的填报模板。")]
        )
    rows = sheet.iter_rows(min_row=HEADER_ROW, max_col=len(COLUMNS))
    header = [_text(cell.value) for cell in next(rows, ())]
    if header != HEADERS:
        message = "表头与填报模板不一致：请使用本系统下载的模板，不要增删、调整列。"
        raise TemplateRefused([Problem(message, row=HEADER_ROW)])
    parsed = ParsedUpload([], [])
    seen: dict[int, int] = {}
    deadline = time.monotonic() + limits.seconds
    for number, cells in enumerate(rows, start=HEADER_ROW + 1):
        if number - HEADER_ROW > limits.max_rows:
            raise TemplateRefused([limits.too_many_rows(number - 1)])
        if number % TIME_CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise TemplateRefused([limits.too_slow()])
        if all(_text(cell.value) == "" for cell in cells):
            continue
        row = _parse_row(number, cells, parsed.problems)
        if row.obligation_id in seen:
            parsed.problems.append(
                Problem(f"与第{seen[row.obligation_id]}行是同一事项。", number, HEADERS[ID])
            )
            row.complete = False
        elif row.obligation_id is not None:
            seen[row.obligation_id] = number
        parsed.rows.append(row)
    return parsed


def _read_plan_rows(workbook: openpyxl.Workbook, limits: ReadLimits, parsed: ParsedUpload) -> None:
    """Read the plans' sheet into the rows of the main sheet (by obligation), checked as the
    report form checks the same fields; a template without the sheet changes none of them."""
    sheet = next((ws for ws in workbook.worksheets if ws.title == PLAN_SHEET), None)
    if sheet is None:
        return
    rows = sheet.iter_rows(min_row=HEADER_ROW, max_col=len(PLAN_COLUMNS))
    header = [_text(cell.value) for cell in next(rows, ())]
    if header != PLAN_HEADERS:
        message = "表头与填报模板不一致：请使用本系统下载的模板，不要增删、调整列。"
        parsed.problems.append(Problem(message, HEADER_ROW, sheet=PLAN_SHEET))
        return
    by_obligation = {row.obligation_id: row for row in parsed.rows if row.obligation_id}
    for number, cells in enumerate(rows, start=HEADER_ROW + 1):
        if number - HEADER_ROW > limits.max_rows:
            raise TemplateRefused([limits.too_many_rows(number - 1)])
        if all(_text(cell.value) == "" for cell in cells):
            continue
        _parse_plan_row(number, cells, by_obligation, parsed.problems)


def _parse_plan_row(
    number: int,
    cells: Sequence[UploadCell],
    rows: dict[int, TemplateRow],
    problems: list[Problem],
) -> None:
    def problem(message: str, column: int | None = None) -> None:
        header = PLAN_HEADERS[column] if column is not None else None
        problems.append(Problem(message, number, header, sheet=PLAN_SHEET))
        if row is not None:
            row.complete = False

    row = rows.get(_whole_number(cells[P_ID], minimum=1) or 0)
    key = _text(cells[P_KEY].value) if cells[P_KEY].data_type not in ("f", "e") else ""
    kind = _text(cells[P_KIND].value)
    if row is None or not key or kind not in (INDICATOR_KIND, MILESTONE_KIND):
        problem("该行与“填报”表中的事项对不上：请勿修改灰色的列，也不要删除“填报”表的行。", P_ID)
        return
    if row.indicator_values is None or row.milestone_statuses is None:
        # The obligation has lines here: what they leave empty is cleared (an obligation
        # without lines, e.g. a plan approved after the download, keeps what is stored).
        row.indicator_values, row.milestone_statuses = {}, {}
    name = _text(cells[P_NAME].value)
    found: list[Problem] = []
    if kind == INDICATOR_KIND:
        value = _amount(cells[P_VALUE], number, found)
        if found:
            unit = _text(cells[P_UNIT].value)
            problem(f"“{name[:20]}”的数值应为不小于 0 的数字（单位：{unit}，最多 4 位小数），"
                    "如 1200 或 35.5。", P_VALUE)  # fmt: skip
        elif value is not None:
            assert row.indicator_values is not None
            row.indicator_values[key] = value
        return
    label = _cell_text(cells[P_PROGRESS], number, P_PROGRESS, found, PLAN_HEADERS) or ""
    note = _cell_text(cells[P_NOTE], number, P_NOTE, found, PLAN_HEADERS) or ""
    for each in found:
        problem(each.message, PLAN_HEADERS.index(each.column or PLAN_HEADERS[P_NOTE]))
    if found or not label.strip():
        return
    progress = PROGRESS_BY_LABEL.get(label.strip())
    if progress is None:
        problem(f"“{label[:20]}”不是有效的完成情况，应为：{PROGRESS_LIST}。", P_PROGRESS)
        return
    if len(note) > MAX_MILESTONE_NOTE:
        problem(f"超过 {MAX_MILESTONE_NOTE} 字（现为 {len(note)} 字）。", P_NOTE)
        return
    refused = privacy.check_text(f"节点“{name[:20]}”的情况说明", note)
    if refused:
        problem(refused, P_NOTE)
        return
    if progress != MilestoneProgress.DONE and not note.strip():
        problem(f"节点“{name[:20]}”：{MILESTONE_NOTE_REQUIRED}。", P_NOTE)
        return
    assert row.milestone_statuses is not None
    row.milestone_statuses[key] = (progress, note)


def _amount(cell: UploadCell, number: int, problems: list[Problem]) -> Decimal | None:
    """An indicator's value: a number, or its text read as the web form reads it; a formula,
    a negative number, more than 4 decimals or anything else is a problem."""
    value = cell.value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount: Decimal | None = None
    if cell.data_type in ("f", "e") or isinstance(value, bool):
        amount = None
    elif isinstance(value, int | float):
        amount = Decimal(str(value))
        amount = amount if amount_in_range(amount) else None
    elif isinstance(value, str):
        amount = parse_amount(value)
    if amount is None:
        problems.append(Problem("invalid", number))
    return amount


def _parse_row(number: int, cells: Sequence[UploadCell], problems: list[Problem]) -> TemplateRow:
    found = len(problems)
    obligation_id = _whole_number(cells[ID], minimum=1)
    if obligation_id is None:
        problems.append(Problem("事项编号缺失或无效：请勿修改灰色的列。", number, HEADERS[ID]))
    version = _whole_number(cells[VERSION], minimum=0)
    if version is None:
        problems.append(Problem("版本号缺失或无效：请勿修改灰色的列。", number, HEADERS[VERSION]))
    status = None
    status_text = _cell_text(cells[STATUS], number, STATUS, problems)
    if status_text:
        status = STATUS_BY_LABEL.get(status_text.strip())
        if status is None:
            problems.append(
                Problem(
                    f"“{status_text[:20]}”不是有效的自评状态，应为：{STATUS_LIST}。",
                    number,
                    HEADERS[STATUS],
                )
            )
    texts: dict[str, str] = {}
    for name, index in NARRATIVE_COLUMNS.items():
        text = _cell_text(cells[index], number, index, problems) or ""
        if len(text) > MAX_NARRATIVE:
            problems.append(
                Problem(f"超过 {MAX_NARRATIVE} 字（现为 {len(text)} 字）。", number, HEADERS[index])
            )
        texts[name] = text
    figures = _figures(
        _cell_text(cells[FIGURES], number, FIGURES, problems) or "", number, problems
    )
    complete = len(problems) == found
    return TemplateRow(number, obligation_id, version, status, texts, complete, figures)


def _figures(text: str, number: int, problems: list[Problem]) -> list[Figure]:
    """The key figures of a 关键数据 cell, one a line; each bad line is a problem."""
    figures: list[Figure] = []
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) > MAX_FIGURES:
        problems.append(
            Problem(
                f"最多 {MAX_FIGURES} 项关键数据（现为 {len(lines)} 项）。", number, HEADERS[FIGURES]
            )
        )
        return []
    for line in lines:
        match = FIGURE_LINE.fullmatch(line)
        value = figure_from_text(match["value"]) if match else None
        name, unit = (match["name"].strip(), (match["unit"] or "").strip()) if match else ("", "")
        if match is None or value is None or not name:
            problem = f"“{line[:30]}”应写作“名称：数值 单位”，数值为数字，如“培训人次：4200 人次”。"
        elif len(name) > MAX_FIGURE_NAME or len(unit) > MAX_FIGURE_UNIT:
            problem = (
                f"“{line[:30]}”的名称不超过 {MAX_FIGURE_NAME} 字、单位不超过 {MAX_FIGURE_UNIT} 字。"
            )
        else:
            figures.append((name, value, unit))
            continue
        problems.append(Problem(problem, number, HEADERS[FIGURES]))
    return figures


def _cell_text(
    cell: UploadCell,
    number: int,
    column: int,
    problems: list[Problem],
    headers: list[str] = HEADERS,
) -> str | None:
    """A cell's content as stripped text with Unix line breaks; formulas and errors are problems.

    The input cells are formatted as text, where Excel keeps a typed "=…" as text; a formula
    or an error value (what Excel shows for "=…" typed into a general cell) is refused rather
    than read as its value or as nothing. ``column`` is the cell's 0-based index in the row.
    """
    if cell.data_type in ("f", "e"):
        shown = str(cell.value)[:30]
        what = f"公式 {shown}" if cell.data_type == "f" else f"错误值 {shown}"
        problems.append(
            Problem(
                f"单元格是{what}：请直接填写文字（以“=”开头的文字可在前面加英文单引号 '）。",
                number,
                headers[column],
            )
        )
        return None
    return _text(cell.value)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M") if value.time() else value.date().isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    text = str(value)
    if "_x" in text:
        # Excel (and XlsxWriter) write "_x0041_" typed as text as "_x005F_x0041_"; openpyxl
        # hands the escaped form over, so undo it before comparing with the database.
        text = escape.unescape(text)
    return normalise_text(text)


def _whole_number(cell: UploadCell, *, minimum: int) -> int | None:
    if cell.data_type in ("f", "e"):
        return None
    value = cell.value
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and value >= minimum:
        return value
    return None
