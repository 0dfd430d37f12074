"""The writer: text stays text, values keep their types, every sheet is ready to print."""

from __future__ import annotations

import io
import math
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl.utils import escape

from tests.exports.conftest import fit_to, formulas_in, load
from tracker.exports import workbook
from tracker.exports.workbook import Book, Column, display_width

TRAPS = [
    "=1+2",
    '=HYPERLINK("http://evil.example","点击")',
    "=cmd|' /C calc'!A0",
    "+SUM(A1:A9)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\n=1+1",
    "=",
    "#NAME?",
    "正常文本",
    "  前后空格  ",
]


def _write(values, columns=None) -> bytes:
    columns = columns or [Column("内容", 30, "wrap")]
    out = io.BytesIO()
    with Book(out) as book:
        sheet = book.sheet("数据", "民发〔2019〕86号 测试（2024年第三季度）", columns)
        for value in values:
            sheet.row(value if isinstance(value, list) else [value])
        sheet.finish()
    return out.getvalue()


def test_user_text_never_becomes_a_formula():
    data = _write(TRAPS)
    assert formulas_in(data) == []
    for options in ({}, {"read_only": True}, {"data_only": True}):
        ws = load(data, **options)["数据"]
        cells = [row[0] for row in ws.iter_rows(min_row=3)]
        assert [c.value for c in cells] == TRAPS, options
        assert all(c.data_type == "s" for c in cells), options


def test_formula_like_text_carries_the_quote_prefix():
    ws = load(_write(TRAPS))["数据"]
    prefixed = {row[0].value: row[0].quotePrefix for row in ws.iter_rows(min_row=3)}
    assert {text for text, quoted in prefixed.items() if quoted} == {
        t for t in TRAPS if t[0] in "=+-@\t\r\n"
    }
    assert prefixed["正常文本"] is False


def test_control_characters_xml_cannot_hold_are_dropped_and_line_breaks_are_lf():
    data = _write(["a\x00b\x07c\x1bd", "\x01=1+2", "\r\n@x", "甲\r乙\r\n丙"])
    ws = load(data)["数据"]
    values = [row[0] for row in ws.iter_rows(min_row=3)]
    assert [c.value for c in values] == ["abcd", "=1+2", "\n@x", "甲\n乙\n丙"]
    assert [c.quotePrefix for c in values] == [False, True, True, False]
    assert formulas_in(data) == []


def test_values_keep_their_types_and_formats():
    columns = [
        Column("数量", 8, "int"),
        Column("比率", 8, "percent"),
        Column("日期", 12, "date"),
        Column("报送时间", 17, "datetime"),
        Column("空", 8),
    ]
    out = io.BytesIO()
    with Book(out) as book:
        sheet = book.sheet("数据", "标题", columns)
        moment = datetime(2024, 10, 10, 15, 59, 30, tzinfo=UTC)
        sheet.row([3, 0.625, date(2024, 10, 10), moment, None])
        sheet.finish()
    ws = load(out.getvalue())["数据"]
    count, rate, day, moment, empty = ws[3]
    assert (count.value, count.data_type, count.number_format) == (3, "n", "0")
    assert (rate.value, rate.number_format) == (0.625, "0.0%")
    assert (day.value, day.number_format) == (datetime(2024, 10, 10), "yyyy-mm-dd")
    # 15:59:30 UTC is 23:59:30 Beijing time, stored as a real Excel date.
    assert moment.value == datetime(2024, 10, 10, 23, 59, 30)
    assert moment.data_type == "d" and moment.number_format == "yyyy-mm-dd hh:mm"
    # Table sheets are sparse: an empty cell is not written, the grid is printed instead.
    assert empty.value is None and empty.has_style is False
    assert ws.print_options.gridLines is True


def test_table_sheets_are_ready_to_print():
    rows = [["甲", "民政部"], ["乙", "公安部"], ["丙", "全国妇联"]]
    data = _write(rows, [Column("内容", 30, "wrap"), Column("部门", 6)])
    ws = load(data)["数据"]
    assert ws["A1"].value == "民发〔2019〕86号 测试（2024年第三季度）"
    assert "A1:B1" in {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[2]] == ["内容", "部门"]
    assert ws.freeze_panes == "A3"
    assert ws.auto_filter.ref == "A2:B5"
    assert ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert fit_to(ws) == (1, 0)  # one page wide, as many high as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws["A3"].alignment.wrap_text is True
    # A header of two Chinese characters needs 4 units plus a margin, whatever was asked.
    assert ws.column_dimensions["B"].width >= display_width("部门") + 2


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("short", 10, 1),
        ("部门" * 2, 10, 1),  # 8 units in 9
        ("部门" * 3, 10, 2),  # 12 units in 9
        ("a" * 90, 10, 10),
        ("一\n二\n\n三", 40, 4),  # every line break starts a line, empty ones too
        ("留守妇女" * 25, 41, 5),  # 200 units in 40
    ],
)
def test_text_lines_estimates_wrapped_lines(text, width, lines):
    assert workbook.text_lines(text, width) == lines


def test_a_row_is_as_high_as_its_longest_wrapped_text_and_no_higher_than_excel_allows():
    columns = [Column("甲", 20, "wrap"), Column("乙", 10, "int"), Column("丙", 10, "wrap")]
    out = io.BytesIO()
    with Book(out) as book:
        sheet = book.sheet("数据", "标题", columns)
        sheet.row(["一行", 12345678901234567890, "短"])
        sheet.row(["关爱服务" * 10, 1, "三\n行\n字"])  # 80 units in 19: 5 lines
        sheet.row(["长" * 10_000, 1, None])
        sheet.finish()
    rows = {number: attributes for number, attributes in row_tags(out.getvalue())}
    assert rows[3] == {}  # one line: Excel's default height
    # XlsxWriter's set_row always marks a height as custom: Excel keeps the estimate until a
    # double click on the row's border refits it (openpyxl's writer could leave it off).
    # Heights are whole pixels (0.75 pt), rounded up: never a line short.
    assert rows[4].pop("customHeight") == "1"
    assert 5 * 14 + 4 <= float(rows[4].pop("ht")) < 5 * 14 + 4 + 0.75 and rows[4] == {}
    assert rows[5] == {"ht": "408.75", "customHeight": "1"}  # Excel's 409 pt, to the pixel
    assert rows[2] == {"ht": "32.25", "customHeight": "1"}  # the header row's height is chosen


def row_tags(data: bytes, sheet: int = 1) -> list[tuple[int, dict[str, str]]]:
    """Each ``<row>`` of a worksheet: its number and its other attributes, as written."""
    import re

    xml = sheets_of(data)[f"xl/worksheets/sheet{sheet}.xml"].decode()
    found = []
    for tag in re.findall(r"<row ([^>]*?)/?>", xml):
        attributes = dict(re.findall(r'(\w+)="([^"]*)"', tag))
        found.append((int(attributes.pop("r")), attributes))
    return found


@pytest.mark.parametrize(("text", "width"), [("abc", 3), ("部门", 4), ("Ａ１", 4), ("第1项", 5)])
def test_display_width_counts_wide_characters_twice(text, width):
    assert display_width(text) == width


# -- reading back every kind of cell -------------------------------------------------------------

ROW_VALUES = [
    *TRAPS,
    " a&b<c>\"' ",
    "\u3000全角空格开头",
    "   ",
    "行一\n行二",
    "x" * 40_000,
    0,
    -0.0,
    7,
    2_000_000,
    0.1 + 0.2,
    1e-20,
    float("nan"),
    float("inf"),
    Decimal("12.5"),
    date(2024, 2, 29),
    datetime(2024, 10, 10, 23, 59, 59),
    None,
]
KINDS = ["wrap", "int", "decimal", "percent", "date", "datetime", "center", "text"]


def _every_kind_of_cell() -> bytes:
    columns = [Column(f"列{i}", 10, kind) for i, kind in enumerate(KINDS)]
    out = io.BytesIO()
    with Book(out) as book:
        sparse = book.sheet("稀疏", "标题 & <说明>", columns)
        dense = book.sheet("密集", "标题", columns, sparse=False)
        inputs = book.sheet(
            "填报", "标题", [Column("输入", 20, "wrap", locked=False)], protect=True
        )
        for value in ROW_VALUES:
            row = [value] * len(columns)
            sparse.row(row, {1: ("FDE2DF", "B42318")})
            dense.row(row, locked=True)
            inputs.row([value])
        dense.blank()
        dense.blank(height=12)
        for sheet in (sparse, dense, inputs):
            sheet.finish()
    return out.getvalue()


def _expected(value):
    if isinstance(value, str):
        return value[:32_767]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN and infinity: no number at all
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return float(f"{value:.16g}")  # 16 significant digits, as Excel keeps
    if type(value) is date:
        return datetime.combine(value, datetime.min.time())
    return value


@pytest.mark.parametrize("read_only", [False, True])
def test_every_kind_of_cell_reads_back_with_its_value_and_type(read_only):
    wb = load(_every_kind_of_cell(), read_only=read_only)
    column_for = {str: 0, int: 1, float: 2, Decimal: 2, date: 4, datetime: 5, type(None): 0}
    rows = list(wb["密集"].iter_rows(min_row=3, max_row=2 + len(ROW_VALUES)))
    values = [row[column_for[type(value)]] for row, value in zip(rows, ROW_VALUES, strict=True)]
    assert [cell.value for cell in values] == [_expected(value) for value in ROW_VALUES]
    for cell, value in zip(values, ROW_VALUES, strict=True):
        if isinstance(value, str):
            assert cell.data_type == "s", value[:20]
        elif isinstance(value, date):
            assert cell.is_date, value
        elif _expected(value) is not None:
            assert cell.data_type == "n" and not cell.is_date, value
    texts = [row[0] for row in wb["填报"].iter_rows(min_row=3, values_only=True)]
    assert texts[: len(TRAPS)] == TRAPS


def test_every_kind_of_cell_carries_its_look():
    wb = load(_every_kind_of_cell())
    sparse, dense, inputs = wb["稀疏"], wb["密集"], wb["填报"]
    header = sparse["A2"]
    assert header.font.b and header.fill.fgColor.rgb[-6:] == workbook.HEADER_FILL
    assert header.alignment.horizontal == "center" and header.alignment.wrap_text
    painted = sparse["B3"]  # the painted column: fill and font colour of a RAG light
    assert painted.fill.fill_type == "solid" and painted.fill.fgColor.rgb[-6:] == "FDE2DF"
    assert painted.font.color.rgb[-6:] == "B42318" and painted.font.name == "宋体"
    assert sparse["A3"].fill.fill_type is None and sparse["A3"].border.left.style is None
    # Dense sheets draw a thin grey line round every cell, empty ones included.
    empty = dense.cell(2 + len(ROW_VALUES), 1)
    assert empty.value is None and empty.border.left.style == "thin"
    assert empty.border.left.color.rgb[-6:] == "808080"
    assert dense["B3"].protection.locked is True
    assert inputs["A3"].protection.locked is False and inputs["A3"].number_format == "@"
    assert inputs.protection.sheet is True
    assert inputs.protection.formatRows is False and inputs.protection.formatColumns is False
    assert sparse.print_options.gridLines is True and not dense.print_options.gridLines
    assert {str(r) for r in sparse.merged_cells.ranges} == {"A1:H1"}
    assert sparse["A1"].value == "标题 & <说明>" and sparse["A1"].font.sz == 14


HOSTILE = [
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-1",
    "\t=1",
    "\r=1",
    "\n=1",
    "=1+1" + "x" * 40_000,
    "a\x00b\x08c\x0bd\x0ce\x1ff",
    "\x00=1",
    "孤\ud800立\udfff代理",
    "\ufffe\uffff非字符",
    "_x0041_ 形似转义",
    "<![CDATA[x]]> & </t></is>",
]
CLEANED = [
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
    "+1",
    "-1",
    "\t=1",
    "\n=1",
    "\n=1",
    ("=1+1" + "x" * 40_000)[:32_767],
    "abcdef",
    "=1",
    "孤立代理",
    "非字符",
    "_x0041_ 形似转义",
    "<![CDATA[x]]> & </t></is>",
]


def test_hostile_strings_are_stored_as_plain_text():
    data = _write(HOSTILE)
    assert formulas_in(data) == []
    ws = load(data)["数据"]
    cells = [row[0] for row in ws.iter_rows(min_row=3)]
    # openpyxl leaves Excel's _xHHHH_ escapes as they are; the template reader undoes them.
    assert [escape.unescape(c.value) for c in cells] == CLEANED
    assert all(c.data_type == "s" for c in cells)
    quoted = [c.quotePrefix for c in cells]
    assert quoted == [workbook.needs_quote_prefix(text) for text in CLEANED]
    assert quoted[:8] == [True] * 8 and quoted[-1] is False


def test_workbook_options_turn_every_conversion_off():
    assert workbook.WORKBOOK_OPTIONS["constant_memory"] is True
    assert not workbook.WORKBOOK_OPTIONS["in_memory"]  # in_memory would keep every row
    for option in ("strings_to_formulas", "strings_to_numbers", "strings_to_urls"):
        assert workbook.WORKBOOK_OPTIONS[option] is False, option
    # Even so, text that looks like a number or a link stays the text it was.
    ws = load(_write(["0012", "1e5", "http://example.com", "mailto:a@b.cn"]))["数据"]
    assert [row[0].value for row in ws.iter_rows(min_row=3)] == [
        "0012", "1e5", "http://example.com", "mailto:a@b.cn",
    ]  # fmt: skip
    assert b"hyperlink" not in sheets_of(_write(["http://example.com"]))["xl/worksheets/sheet1.xml"]


def sheets_of(data: bytes) -> dict[str, bytes]:
    """Every worksheet part of a package, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/sheet")
        }


def test_a_workbook_can_be_written_to_a_path(tmp_path):
    path = tmp_path / "季度报表.xlsx"
    with Book(str(path)) as book:
        sheet = book.sheet("数据", "标题", [Column("数量", 8, "int")])
        for number in range(1, 1001):
            sheet.row([number])
        sheet.finish()
    ws = load(path.read_bytes(), read_only=True)["数据"]
    assert [row[0] for row in ws.iter_rows(min_row=3, values_only=True)] == list(range(1, 1001))


def test_a_value_no_cell_can_hold_is_refused():
    with pytest.raises(TypeError, match="bool"):
        _write([[True]], [Column("是否", 8)])


def test_a_long_sheet_of_merged_blocks_keeps_every_merge_and_height_but_not_in_memory():
    """XlsxWriter would keep every merged cell and every row height until the file closes;
    the sheet lets it forget the rows already written out, and the file still has them all."""
    columns = [Column("序号", 6, "int"), Column("工作任务", 20, "wrap"), Column("部门", 12)]
    out = io.BytesIO()
    with Book(out) as book:
        sheet = book.sheet("数据", "测试", columns, sparse=False)
        sheet.filtered = False
        for number in range(1, 301):
            rows = [[number, "很长的工作任务" * 6, f"部门{k}"] for k in range(3)]
            sheet.block(rows, [0, 1], [None] * 3)
        held = (len(sheet.ws.merged_cells), len(sheet.ws.row_info), len(sheet.ws.row_sizes))
        sheet.finish()
    assert max(held) < 10, held  # not 300 blocks' worth (1,800 cells, 900 rows)
    ws = load(out.getvalue())["数据"]
    first = 3  # title row, header row
    merged = {str(r) for r in ws.merged_cells.ranges}
    for block in range(300):
        top = first + 3 * block
        assert {f"A{top}:A{top + 2}", f"B{top}:B{top + 2}"} <= merged
    heights = [ws.row_dimensions[r].height for r in range(first, first + 900)]
    assert all(h is not None and h > 0 for h in heights)
