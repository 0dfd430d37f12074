"""The writer: text stays text, values keep their types, every sheet is ready to print."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import pytest

from tests.exports.conftest import formulas_in, load
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
    book = Book()
    columns = columns or [Column("内容", 30, "wrap")]
    sheet = book.sheet("数据", "民发〔2019〕86号 测试（2024年第三季度）", columns)
    for value in values:
        sheet.row(value if isinstance(value, list) else [value])
    sheet.finish()
    out = io.BytesIO()
    book.save(out)
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
    book = Book()
    sheet = book.sheet("数据", "标题", columns)
    sheet.row([3, 0.625, date(2024, 10, 10), datetime(2024, 10, 10, 15, 59, 30, tzinfo=UTC), None])
    sheet.finish()
    out = io.BytesIO()
    book.save(out)
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
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
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
    book = Book()
    sheet = book.sheet("数据", "标题", columns)
    sheet.row(["一行", 12345678901234567890, "短"])
    sheet.row(["关爱服务" * 10, 1, "三\n行\n字"])  # 80 units in 19: 5 lines
    sheet.row(["长" * 10_000, 1, None])
    sheet.finish()
    out = io.BytesIO()
    book.save(out)
    rows = {number: attributes for number, attributes in row_tags(out.getvalue())}
    assert rows[3] == {}  # one line: Excel's default height
    # An estimate, not a choice: no customHeight, so Excel refits the row once it is edited.
    assert rows[4] == {"ht": str(5 * 14 + 4)}
    assert rows[5] == {"ht": "409"}
    assert rows[2] == {"ht": "32", "customHeight": "1"}  # the header row's height is chosen


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


# -- rows written straight into the stream -----------------------------------------------------

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
    date(2024, 2, 29),
    datetime(2024, 10, 10, 23, 59, 59),
    None,
]


def sheets_of(data: bytes) -> dict[str, bytes]:
    """Every worksheet part of a package, by name."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/sheet")
        }


def both_ways(monkeypatch, write) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The worksheets ``write()`` produces directly, and through openpyxl's cell writer."""
    direct = sheets_of(write())
    monkeypatch.setattr(workbook, "DIRECT_ROWS", False)
    through_openpyxl = sheets_of(write())
    monkeypatch.setattr(workbook, "DIRECT_ROWS", True)
    return direct, through_openpyxl


def _every_kind_of_cell() -> bytes:
    book = Book()
    kinds = ["wrap", "int", "decimal", "percent", "date", "datetime", "center", "text"]
    columns = [Column(f"列{i}", 10, kind) for i, kind in enumerate(kinds)]
    sparse = book.sheet("稀疏", "标题 & <说明>", columns)
    dense = book.sheet("密集", "标题", columns, sparse=False)
    inputs = book.sheet("填报", "标题", [Column("输入", 20, "wrap", locked=False)], protect=True)
    for value in ROW_VALUES:
        row = [value] * len(columns)
        sparse.row(row, {1: ("FDE2DF", "B42318")})
        dense.row(row, locked=True)
        inputs.row([value])
    dense.blank()
    dense.blank(height=12)
    for sheet in (sparse, dense, inputs):
        sheet.finish()
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_rows_written_directly_are_byte_for_byte_what_openpyxl_writes(monkeypatch):
    direct, through_openpyxl = both_ways(monkeypatch, _every_kind_of_cell)
    assert len(direct) == 3
    for name, xml in through_openpyxl.items():
        assert direct[name] == xml, name


def test_direct_rows_are_the_path_taken(monkeypatch):
    """The comparison above means nothing if both ways were secretly openpyxl's."""

    def refuse(*args, **kwargs):
        raise AssertionError("a row went through openpyxl's cell writer")

    monkeypatch.setattr(workbook._StreamedSheet, "_values_to_row", refuse)
    ws = load(_every_kind_of_cell(), read_only=True)["稀疏"]
    assert ws["A3"].value == TRAPS[0]
    monkeypatch.setattr(workbook, "DIRECT_ROWS", False)
    with pytest.raises(AssertionError, match="cell writer"):
        _every_kind_of_cell()


def test_direct_rows_read_back_with_their_values():
    wb = load(_every_kind_of_cell(), read_only=True)  # only the sheets read are parsed
    column_for = {str: 0, int: 1, float: 2, date: 4, datetime: 5, type(None): 0}
    rows = list(wb["密集"].iter_rows(min_row=3, max_row=2 + len(ROW_VALUES), values_only=True))
    values = [row[column_for[type(value)]] for row, value in zip(rows, ROW_VALUES, strict=True)]
    expected = [
        value[:32_767] if isinstance(value, str)
        else None if isinstance(value, float) and value != value  # NaN: no number at all
        else float(f"{value:.16g}") if isinstance(value, float)  # openpyxl's 16 digits
        else datetime.combine(value, datetime.min.time()) if type(value) is date
        else value
        for value in ROW_VALUES
    ]  # fmt: skip
    assert values == expected
    texts = [row[0] for row in wb["填报"].iter_rows(min_row=3, values_only=True)]
    assert texts[: len(TRAPS)] == TRAPS
