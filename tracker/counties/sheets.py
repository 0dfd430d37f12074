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

from tracker.counties.counts import count_problem
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
    enforced by data validation); blank cells, so that the file carries no county's value."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet(SHEET_TITLE)
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    text = book.add_format({"num_format": "@"})
    sheet.write_string(0, 0, "报告期", bold)
    sheet.write_string(0, 1, period.key, bold)
    sheet.write_string(0, 2, f"{period.label}县级台账汇总数（只填汇总数，不填个人信息）")
    for column, title in enumerate(("区划代码", "县（市、区）", "地市")):
        sheet.write_string(HEADER_ROW - 1, column, title, bold)
    for offset, indicator in enumerate(indicators):
        column = FIXED_COLUMNS + offset
        sheet.write_string(
            HEADER_ROW - 1, column, f"{indicator.name}（{indicator.unit}）{indicator.item}", bold
        )
        sheet.write_string(KEY_ROW - 1, column, indicator.key)
        sheet.set_column(column, column, 16)
    sheet.write_string(KEY_ROW - 1, 0, "指标代码（请勿修改）")
    sheet.set_row(KEY_ROW - 1, None, None, {"hidden": True})
    for index, found in enumerate(counties):
        row = FIRST_ROW - 1 + index
        sheet.write_string(row, 0, found.code, text)
        sheet.write_string(row, 1, found.name)
        sheet.write_string(row, 2, found.prefecture or "")
    if indicators and counties:
        last_row = FIRST_ROW - 2 + len(counties)
        sheet.data_validation(
            FIRST_ROW - 1, FIXED_COLUMNS, last_row, FIXED_COLUMNS + len(indicators) - 1,
            {"validate": "integer", "criteria": ">=", "value": 0, "ignore_blank": True,
             "error_title": "只能填写整数", "error_message": "请填写 0 或正整数（汇总数）"},
        )  # fmt: skip
    sheet.set_column(0, 0, 10)
    sheet.set_column(1, 2, 16)
    sheet.freeze_panes(FIRST_ROW - 1, FIXED_COLUMNS)
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
            problem = _cell_problem(value)
            if problem:
                problems.append(f"{cell} 单元格：{problem}")
            else:
                values[key] = int(_text(value).replace(",", ""))
        result[found.id] = values
    if problems:
        raise FileRefused(problems)
    return result


def _cell_problem(value: Any) -> str | None:
    """Why a value cell is not a count (a formula and ``=``-text are text, and not a count)."""
    if isinstance(value, bool):
        return "只能填写 0 或正整数"
    if isinstance(value, str) and value.lstrip().startswith(("=", "+", "-", "@")):
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
    """The totals by prefecture as shown on the page (small counts already suppressed); every
    cell is written as text, never as a formula."""
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet("县级台账汇总")
    bold = book.add_format({"bold": True, "text_wrap": True})
    sheet.write_string(0, 0, f"{period.label}县级台账汇总（小于阈值的数显示为“{label}”）", bold)
    headers = ["地市", "县数", *[f"{i.name}（{i.unit}）" for i in indicators]]
    for column, title in enumerate(headers):
        sheet.write_string(1, column, title, bold)
    for index, cells in enumerate([*rows, footer]):
        for column, text in enumerate(cells):
            sheet.write_string(2 + index, column, text)
    sheet.set_column(0, len(headers), 18)
    book.close()
    return output.getvalue()
