"""Files of the county ledger: the county list (CSV or .xlsx) and the quarterly template.

Cells from users are text: a workbook is read with openpyxl without evaluating anything (a
formula is seen as one and refused), and nothing read is ever written back as a formula. A
file is refused as a whole, every problem named by its row or cell, so that nothing of it is
saved partially.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any

import openpyxl
import xlsxwriter
from flask import current_app
from openpyxl.utils import get_column_letter

from tracker.counties.counts import YES_NO, YES_NO_PROBLEM, count_problem
from tracker.counties.models import County
from tracker.counties.queries import CountyIndicator
from tracker.errors import Invalid
from tracker.periods import Period
from tracker.privacy import check_text

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_EXPANDED_BYTES = 50 * 1024 * 1024  # a zip bomb stops here, before anything is inflated
SHEET_TITLE = "县级台账"
PERIOD_CELL = "B1"
HEADER_ROW, KEY_ROW, FIRST_ROW = 2, 3, 4  # 1-based rows of the template
FIXED_COLUMNS = 3  # 区划代码, 县（市、区）, 地市
FORMULA_LIKE = ("=", "+", "-", "@")
HEADER_LINES = 4  # the header row is this many lines high: a long indicator name wraps
_CODE = re.compile(r"[0-9]{6}")
COUNTY_HEADERS = {
    "code": ("区划代码", "代码", "code"),
    "name": ("名称", "县（市、区）", "name"),
    "prefecture": ("地市", "所属地市", "prefecture"),
}


class FileRefused(Invalid):
    """A file refused as a whole; ``problems`` names every reason, by row or cell."""

    def __init__(self, problems: list[str], *, field: str | None = "file"):
        super().__init__("；".join(problems[:20]), field=field)
        self.problems = problems


@dataclass(frozen=True)
class CountyRow:
    """One county as a file gives it."""

    code: str
    name: str
    prefecture: str | None


# -- reading -----------------------------------------------------------------------------------


def _workbook_rows(data: bytes) -> list[tuple[Any, ...]]:
    """The first worksheet's rows of an .xlsx (values as stored: formulas as their text)."""
    if not data.startswith(b"PK\x03\x04"):
        raise FileRefused(["文件不是有效的 .xlsx 工作簿。"])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused(["文件已损坏，不是有效的 .xlsx 工作簿。"]) from None
    if expanded > MAX_EXPANDED_BYTES:
        raise FileRefused([f"文件解压后超过 {MAX_EXPANDED_BYTES // 1048576} MB，疑为压缩炸弹。"])
    limit = int(current_app.config["TRACKER_IMPORT_MAX_ROWS"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            # Not data_only: a formula must be seen as one (and refused), not as its value.
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        except Exception:  # openpyxl raises many kinds on a damaged file
            raise FileRefused(["文件已损坏或不是 Excel 工作簿，无法读取。"]) from None
    try:
        sheet = next((ws for ws in book.worksheets if ws.title == SHEET_TITLE), None)
        sheet = sheet or book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(row)
            if len(rows) > limit:
                raise FileRefused([f"工作表超过 {limit} 行（含空行），请使用系统下载的模板。"])
        return rows
    finally:
        book.close()


def _checked_bytes(filename: str | None, data: bytes, suffixes: tuple[str, ...]) -> str:
    name = (filename or "").strip().lower()
    if not name.endswith(suffixes):
        raise FileRefused(
            [f"只能上传 {' / '.join(suffixes)} 文件（所选文件：{filename or '无'}）。"]
        )
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused([f"文件超过 {MAX_FILE_BYTES // 1048576} MB。"])
    return name


def _text(value: Any) -> str:
    """A cell as text: what was typed, never evaluated."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_county_file(filename: str | None, data: bytes) -> list[CountyRow]:
    """The counties of a CSV (UTF-8, with or without BOM) or .xlsx file whose first row names
    the columns 区划代码, 名称 and (optionally) 地市. Raises :class:`FileRefused`."""
    name = _checked_bytes(filename, data, (".csv", ".xlsx"))
    if name.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FileRefused(["CSV 文件须为 UTF-8 编码。"]) from None
        rows: list[tuple[Any, ...]] = [tuple(r) for r in csv.reader(io.StringIO(text))]
    else:
        rows = _workbook_rows(data)
    return _county_rows(rows)


def _county_rows(rows: list[tuple[Any, ...]]) -> list[CountyRow]:
    if not rows:
        raise FileRefused(["文件是空的。"])
    header = [_text(v) for v in rows[0]]
    columns = {
        key: next((i for i, h in enumerate(header) if h in names), None)
        for key, names in COUNTY_HEADERS.items()
    }
    if columns["code"] is None or columns["name"] is None:
        raise FileRefused(["第1行须为列名，至少包括“区划代码”和“名称”（可加“地市”）。"])
    problems: list[str] = []
    found: list[CountyRow] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = {key: _text(row[i]) if i is not None and i < len(row) else ""
                 for key, i in columns.items()}  # fmt: skip
        if not any(_text(v) for v in row):
            continue
        problems.extend(_county_problems(number, cells, seen))
        seen.setdefault(cells["code"], number)
        found.append(CountyRow(cells["code"], cells["name"], cells["prefecture"] or None))
    if problems:
        raise FileRefused(problems)
    if not found:
        raise FileRefused(["文件中没有县。"])
    return found


def _county_problems(number: int, cells: dict[str, str], seen: dict[str, int]) -> list[str]:
    problems = []
    code = cells["code"]
    if not _CODE.fullmatch(code):
        problems.append(f"第{number}行：区划代码“{code}”应为 6 位数字")
    elif code.endswith("00"):
        problems.append(f"第{number}行：区划代码“{code}”以 00 结尾，是地市或省级代码，不是县级")
    elif code in seen:
        problems.append(f"第{number}行：区划代码 {code} 与第{seen[code]}行重复")
    if not cells["name"]:
        problems.append(f"第{number}行：名称不能为空")
    for key, label in (("name", "名称"), ("prefecture", "地市")):
        if len(cells[key]) > 64:
            problems.append(f"第{number}行：{label}超过 64 字")
        refusal = check_text(f"第{number}行{label}", cells[key])
        if refusal:
            problems.append(refusal)
    return problems


# -- the quarterly template --------------------------------------------------------------------


def write_template(
    period: Period, counties: list[County], indicators: list[CountyIndicator]
) -> bytes:
    """The quarter's template: one row per county, one column per indicator (whole number ≥ 0
    enforced by data validation, or a 是 / 否 list for an indicator that counts counties);
    blank cells, so that the file carries no county's value."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(SHEET_TITLE)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top", "border": 1})
    plain = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@", "border": 1})
    cell = book.add_format({"border": 1})
    sheet.write_string(0, 0, "报告期", plain)
    sheet.write_string(0, 1, period.key, plain)
    sheet.write_string(0, 2, f"{period.label}县级台账汇总数（只填汇总数，不填个人信息）", plain)
    for column, title in enumerate(("区划代码", "县（市、区）", "地市")):
        sheet.write_string(HEADER_ROW - 1, column, title, bold)
    for offset, indicator in enumerate(indicators):
        column = FIXED_COLUMNS + offset
        title = (
            f"{indicator.question}（填“是”或“否”）{indicator.item}"
            if indicator.yes_no
            else f"{indicator.name}（{indicator.unit}）{indicator.item}"
        )
        sheet.write_string(HEADER_ROW - 1, column, title, bold)
        sheet.write_string(KEY_ROW - 1, column, indicator.key)
        sheet.set_column(column, column, 16)
    sheet.set_row(HEADER_ROW - 1, 15 * HEADER_LINES)
    sheet.write_string(KEY_ROW - 1, 0, "指标代码（请勿修改）")
    sheet.set_row(KEY_ROW - 1, None, None, {"hidden": True})
    for index, found in enumerate(counties):
        row = FIRST_ROW - 1 + index
        sheet.write_string(row, 0, found.code, text)
        sheet.write_string(row, 1, found.name, cell)
        sheet.write_string(row, 2, found.prefecture or "", cell)
        for offset in range(len(indicators)):
            sheet.write_blank(row, FIXED_COLUMNS + offset, None, cell)
    if indicators and counties:
        last_row = FIRST_ROW - 2 + len(counties)
        for offset, indicator in enumerate(indicators):
            column = FIXED_COLUMNS + offset
            rule: dict[str, Any] = (
                {"validate": "list", "source": list(YES_NO), "error_title": "只能选择是或否",
                 "error_message": "请选择“是”或“否”（是计 1、否计 0）"}
                if indicator.yes_no
                else {"validate": "integer", "criteria": ">=", "value": 0,
                      "error_title": "只能填写整数", "error_message": "请填写 0 或正整数（汇总数）"}
            )  # fmt: skip
            sheet.data_validation(
                FIRST_ROW - 1, column, last_row, column, {"ignore_blank": True, **rule}
            )
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 2, 16)
    sheet.freeze_panes(FIRST_ROW - 1, FIXED_COLUMNS)
    # Printed: A4 landscape, one page wide, the header rows on every page.
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW - 1)
    sheet.set_footer("&C第 &P 页，共 &N 页")
    book.close()
    return output.getvalue()


def read_template(
    filename: str | None,
    data: bytes,
    period: Period,
    counties: dict[str, County],
    indicators: list[CountyIndicator],
) -> dict[int, dict[str, int]]:
    """The counts an upload gives, by county id and indicator key (blank cells give none).

    Refused as a whole (:class:`FileRefused`, every problem named by its cell) when the file
    is another quarter's, names an unknown county or indicator, holds a formula, text that is
    not a count, or personal data.
    """
    _checked_bytes(filename, data, (".xlsx",))
    rows = _workbook_rows(data)
    if len(rows) < KEY_ROW or _text(rows[0][1] if len(rows[0]) > 1 else None) != period.key:
        raise FileRefused(
            [f"{PERIOD_CELL} 单元格应为报告期 {period.key}：请使用本季度下载的模板。"]
        )
    keys = [_text(v) for v in rows[KEY_ROW - 1][FIXED_COLUMNS:]]
    known = {i.key for i in indicators}
    yes_no = {i.key for i in indicators if i.yes_no}
    problems = [
        f"{get_column_letter(FIXED_COLUMNS + i + 1)}{KEY_ROW} 单元格：指标代码“{key}”"
        "不是本季度县级填报的指标"
        for i, key in enumerate(keys)
        if key and key not in known
    ]
    result: dict[int, dict[str, int]] = {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[FIRST_ROW - 1 :], start=FIRST_ROW):
        cells = list(row)
        problems.extend(_privacy_problems(number, cells))
        if not any(_text(v) for v in cells):
            continue
        code = _text(cells[0]) if cells else ""
        found = counties.get(code)
        if found is None:
            problems.append(f"A{number} 单元格：区划代码“{code}”不是本系统中的县")
            continue
        if code in seen:
            problems.append(f"A{number} 单元格：区划代码 {code} 与第{seen[code]}行重复")
            continue
        seen[code] = number
        values = {}
        for offset, key in enumerate(keys):
            column = FIXED_COLUMNS + offset
            value = cells[column] if column < len(cells) else None
            if not key or value is None or _text(value) == "":
                continue
            cell = f"{get_column_letter(column + 1)}{number}"
            if key in yes_no:
                answer = _yes_no_value(value)
                if answer is None:
                    formula = isinstance(value, str) and value.lstrip().startswith(FORMULA_LIKE)
                    problems.append(
                        f"{cell} 单元格：“{_text(value)[:30]}”是公式或以符号开头的文字，"
                        + YES_NO_PROBLEM
                        if formula
                        else f"{cell} 单元格：“{_text(value)[:30]}”{YES_NO_PROBLEM}"
                    )
                else:
                    values[key] = answer
                continue
            problem = _cell_problem(value)
            if problem:
                problems.append(f"{cell} 单元格：{problem}")
            else:
                values[key] = int(_text(value).replace(",", ""))
        result[found.id] = values
    if problems:
        raise FileRefused(problems)
    return result


def _yes_no_value(value: Any) -> int | None:
    """A 是 / 否 cell as its count (1 / 0; the numbers 1 and 0 are read too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    text = _text(value)
    return YES_NO.get(text, int(text) if text in ("0", "1") else None)


def _cell_problem(value: Any) -> str | None:
    """Why a value cell is not a count (a formula and ``=``-text are text, and not a count)."""
    if isinstance(value, bool):
        return "只能填写 0 或正整数"
    if isinstance(value, str) and value.lstrip().startswith(FORMULA_LIKE):
        return f"“{value[:30]}”是公式或以符号开头的文字，只能填写 0 或正整数"
    if isinstance(value, float) and not value.is_integer():
        return f"“{value}”不是整数"
    if isinstance(value, int | float) and value < 0:
        return f"“{value}”是负数，只能填写 0 或正整数"
    if not isinstance(value, str | int | float):
        return "只能填写 0 或正整数（不是日期或其他类型）"
    return count_problem(_text(value))


def _privacy_problems(number: int, cells: list[Any]) -> list[str]:
    """Every cell of the row through the personal-data guard, named by its cell."""
    problems = []
    for column, value in enumerate(cells):
        if value is None:
            continue
        refusal = check_text(f"{get_column_letter(column + 1)}{number} 单元格", _text(value))
        if refusal:
            problems.append(refusal)
    return problems


def write_totals(
    period: Period,
    indicators: list[CountyIndicator],
    rows: list[list[str]],
    footer: list[str],
    label: str,
) -> bytes:
    """The totals by prefecture as shown on the page (small counts already suppressed), ready
    to print on A4 landscape, one page wide: the title, the headers (repeated on every page),
    one row per prefecture, the province, then the rule. Every cell is written as text, never
    as a formula."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("县级台账汇总")
    font = {"font_name": "宋体", "font_size": 10.5, "valign": "vcenter"}
    boxed = {**font, "border": 1, "border_color": "#808080"}
    title = book.add_format({**font, "bold": True, "font_size": 14, "align": "center"})
    header = book.add_format({**boxed, "bold": True, "text_wrap": True, "align": "center",
                              "bg_color": "#D9E1F2", "pattern": 1})  # fmt: skip
    name = book.add_format({**boxed, "bold": True})
    figure = book.add_format({**boxed, "align": "right"})
    total_name = book.add_format({**boxed, "bold": True, "bg_color": "#F2F2F2", "pattern": 1})
    total = book.add_format({**boxed, "bold": True, "align": "right", "bg_color": "#F2F2F2",
                             "pattern": 1})  # fmt: skip
    note = book.add_format({**font, "text_wrap": True, "valign": "top"})
    headers = ["地市", "县数", *[f"{i.name}（{i.unit}）" for i in indicators]]
    last = len(headers) - 1
    sheet.set_row(0, 30)
    sheet.merge_range(0, 0, 0, last, f"{period.label}县级台账汇总（按地市）", title)
    sheet.set_row(1, 15 * 3)  # an indicator's name wraps onto up to three lines
    for column, text in enumerate(headers):
        sheet.write_string(1, column, text, header)
    for index, cells in enumerate([*rows, footer]):
        row = 2 + index
        sheet.set_row(row, 18)
        is_total = index == len(rows)
        for column, text in enumerate(cells):
            cell_format = (total_name if column == 0 else total) if is_total else (
                name if column == 0 else figure
            )  # fmt: skip
            sheet.write_string(row, column, text, cell_format)
    rule_row = 2 + len(rows) + 2
    sheet.set_row(rule_row, 15 * 3)
    sheet.merge_range(
        rule_row, 0, rule_row, last,
        f"说明：小于 {label[1:]} 的数（含合计）显示为“{label}”，以免由小数字推知具体个人"
        f"（小数字保护）；某指标只有一个地市的数显示为“{label}”时，另隐去其余地市中最小的一个数，"
        "显示为“×”，以免用全省合计减去其余地市的数反推出来（补充隐藏）。合计按各县精确值计算；"
        "括号内为已报县数。",
        note,
    )  # fmt: skip
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 6)
    if indicators:
        sheet.set_column(2, last, 18)  # 已完成摸底排查的县（个）breaks after 的
    sheet.freeze_panes(2, 1)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.repeat_rows(1)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.7)
    sheet.set_footer("&C第 &P 页，共 &N 页", {"margin": 0.3})
    sheet.print_area(0, 0, rule_row, last)
    book.close()
    return output.getvalue()
