"""The quarterly workbook as a paper: title block, merged item blocks, print size, fonts, and
the overdue list grouped by item."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl.utils import get_column_letter

from tests.exports.conftest import MASTHEAD_FIRST, MASTHEAD_HEADER, data_rows, load
from tracker.exports.quarterly import NO_OVERDUE, SHEETS, QuarterlyRequest, write_quarterly
from tracker.exports.workbook import MIN_PRINTED_POINTS, printed_scale


def export(quarter, **options) -> bytes:
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(quarter.period, **options))
    return out.getvalue()


def widths(ws) -> list[float]:
    """The widths of the sheet's columns as written (every column of a table is set)."""
    found = []
    for dimension in sorted(ws.column_dimensions.values(), key=lambda d: d.min):
        if dimension.hidden:
            continue
        found.extend([dimension.width] * (dimension.max - dimension.min + 1))
    return found


def test_every_sheet_opens_with_the_title_block(filed, people):
    wb = load(export(filed, prepared_by_id=people["coordinator"].id))
    coordinator = people["coordinator"]
    for index, ws in enumerate(wb, start=1):
        form, title, heading, fields = (ws.cell(row, 1) for row in range(1, 5))
        assert form.value == f"表号：RWFG-{index}" and form.alignment.horizontal == "right"
        assert title.value == (
            "民发〔2019〕86号《关于加强农村留守妇女关爱服务工作的意见》\n任务分工落实情况统计表"
        )
        assert title.font.name == "黑体" and title.font.sz == 16
        assert heading.value == f"{ws.title}（2024年第三季度）" and heading.font.name == "宋体"
        labels = re.findall(r"([^\u3000：]+)：", fields.value)
        assert labels == ["填报单位", "填报人", "联系电话", "审核人", "填报日期"]
        assert f"填报人：{coordinator.display_name}" in fields.value
        assert re.search(r"填报日期：\d{4}年\d{1,2}月\d{1,2}日$", fields.value)
        merged = {str(m) for m in ws.merged_cells.ranges}
        last = get_column_letter(len(widths(ws)))
        for row in range(1, 5):
            assert f"A{row}:{last}{row}" in merged, (ws.title, row)
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9


@pytest.mark.parametrize("name", [name for name in SHEETS if name != "总体情况"])
def test_no_text_prints_below_nine_points(filed, name):
    ws = load(export(filed))[name]
    scale = printed_scale(widths(ws))
    sizes = {
        cell.font.sz for row in ws.iter_rows(min_row=1) for cell in row if cell.value is not None
    }
    assert min(sizes) * scale >= MIN_PRINTED_POINTS, (name, scale, sizes)


def test_the_division_merges_each_item_once(filed):
    ws = load(export(filed))["任务分工落实情况"]
    blocks = sorted(
        (m for m in ws.merged_cells.ranges if m.min_row >= MASTHEAD_FIRST and m.min_col == 1),
        key=lambda m: m.min_row,
    )
    numbers = [ws.cell(m.min_row, 1).value for m in blocks]
    assert numbers == sorted(numbers) and len(numbers) == len(set(numbers))
    for block in blocks:
        # 序号, 工作任务, 牵头单位, 配合单位 and the delivery light's three columns span the
        # same rows; the lead comes first.
        same = {(m.min_col, m.max_col) for m in ws.merged_cells.ranges
                if (m.min_row, m.max_row) == (block.min_row, block.max_row)}  # fmt: skip
        assert same == {(1, 1), (2, 2), (3, 3), (4, 4), (9, 9), (10, 10), (11, 11)}
        lead = ws.cell(block.min_row, 3).value
        if lead:
            assert ws.cell(block.min_row, 5).value == lead.split("、")[0]
            assert ws.cell(block.min_row, 6).value == "牵头"
    rows = data_rows(ws)
    assert len(rows) == 74


def test_the_overdue_list_is_grouped_by_item_furthest_behind_first(filed):
    ws = load(export(filed))["逾期清单"]
    rows = data_rows(ws)
    assert rows
    order = []
    for number, _text, _department, _role, _due, late, _state in rows:
        if not order or order[-1][0] != number:
            order.append((number, late))
        else:
            assert late <= order[-1][1]  # within an item, the furthest behind first
    assert [late for _, late in order] == sorted((late for _, late in order), reverse=True)
    assert len({number for number, _ in order}) == len(order)  # each item once
    texts = [ws.cell(row, 2).value for row in range(MASTHEAD_FIRST, ws.max_row + 1)]
    assert len([t for t in texts if t]) == len(order)  # the item's text written once


def test_an_empty_overdue_list_says_so(quarter):
    ws = load(export(quarter))["逾期清单"]
    assert ws.cell(MASTHEAD_FIRST, 1).value == NO_OVERDUE
    assert ws.cell(MASTHEAD_HEADER, 1).value == "序号"
