"""The template's plans sheet (指标与节点): indicator values and milestone status offline.

Download → fill in → upload stores the values as the report form would; bad cells are refused
by sheet, row and column with nothing saved; text that looks like a formula stays text."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from tests.delivery.conftest import approved_plan, indicator, milestone
from tests.exports.conftest import load
from tests.exports.test_template import download, problems_of, saved_state, upload
from tracker.exports.template import PLAN_HEADERS, PLAN_SHEET, SHEET_TITLE
from tracker.extensions import db
from tracker.reports.models import MilestoneProgress

VALUE, PROGRESS, NOTE = (PLAN_HEADERS.index(h) + 1 for h in ("数值", "完成情况", "情况说明"))
KIND, KEY = PLAN_HEADERS.index("类别") + 1, PLAN_HEADERS.index("键") + 1
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def planned(quarter, people, login):
    """An approved plan of 民政部 on item 23 (an indicator, a milestone due in 2024Q3)."""
    plan = approved_plan(
        23, "mca", people={"lead": people["mca"], "coordinator": people["coordinator"]},
        milestones=[milestone("完成县级摸底排查", "2024Q3", "mca")],
        indicators=[indicator("已完成摸底排查的县", "sum", ["mca"], unit="个")],
    )  # fmt: skip
    login(people["mca"])
    return plan


def _rows(data: bytes) -> dict[str, int]:
    """The plans sheet's row of each kind (量化指标, 节点)."""
    ws = load(data)[PLAN_SHEET]
    return {r[KIND - 1].value: r[0].row for r in ws.iter_rows(min_row=3) if r[KIND - 1].value}


def _fill(data: bytes, changes: dict[tuple[str, int], object], *, drop: bool = False) -> bytes:
    """Fill the plans sheet's cells as Excel would keep them (text typed into text cells)."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    rows = _rows(data)
    ws = wb[PLAN_SHEET]
    for (kind, column), value in changes.items():
        cell = ws.cell(rows[kind], column)
        cell.value = value
        if isinstance(value, str) and cell.number_format == "@":
            cell.data_type = "s"
    if drop:
        del wb[PLAN_SHEET]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_sheet_lists_indicators_and_due_milestones_with_validation(client, planned):
    wb = load(download(client))
    assert wb.sheetnames[:2] == [SHEET_TITLE, PLAN_SHEET]
    ws = wb[PLAN_SHEET]
    assert [c.value for c in ws[2]] == PLAN_HEADERS
    rows = _rows(download(client))
    indicator_row, milestone_row = rows["量化指标"], rows["节点"]
    assert ws.cell(indicator_row, KEY).value == planned.indicators[0].key
    assert ws.cell(indicator_row, PLAN_HEADERS.index("单位或完成季度") + 1).value == "个"
    assert ws.cell(milestone_row, PLAN_HEADERS.index("指标或节点") + 1).value == "完成县级摸底排查"
    # only the inputs of each line are open; the sheet is protected
    assert ws.protection.sheet
    assert not ws.cell(indicator_row, VALUE).protection.locked
    assert ws.cell(indicator_row, PROGRESS).protection.locked
    assert ws.cell(milestone_row, VALUE).protection.locked
    assert not ws.cell(milestone_row, PROGRESS).protection.locked
    assert not ws.cell(milestone_row, NOTE).protection.locked
    validations = {
        str(v.sqref): (v.type, v.operator, v.formula1) for v in ws.data_validations.dataValidation
    }
    value_cell = f"{openpyxl.utils.get_column_letter(VALUE)}{indicator_row}"
    progress_cell = f"{openpyxl.utils.get_column_letter(PROGRESS)}{milestone_row}"
    assert validations[value_cell] == ("decimal", "greaterThanOrEqual", "0")
    assert validations[progress_cell][0] == "list"
    assert "已完成" in validations[progress_cell][2] and "未完成" in validations[progress_cell][2]


def test_a_round_trip_stores_values_and_statuses_as_the_form_would(client, planned, quarter):
    data = _fill(download(client), {
        ("量化指标", VALUE): 1200.5,
        ("节点", PROGRESS): "部分完成",
        ("节点", NOTE): "=尚有 3 个县未完成",  # looks like a formula, typed as text
    })  # fmt: skip
    response = upload(client, data)
    assert response.status_code == 302, problems_of(response)
    db.session.expire_all()
    report = quarter.obligation(23, "mca").report
    assert [(v.indicator_key, v.value) for v in report.indicator_values] == [
        (planned.indicators[0].key, Decimal("1200.5"))
    ]
    (status,) = report.milestone_statuses
    assert (status.progress, status.note) == (MilestoneProgress.PARTLY, "=尚有 3 个县未完成")
    # the next download shows them back, the sentence still text, and changes nothing
    again = download(client)
    ws = load(again)[PLAN_SHEET]
    rows = _rows(again)
    assert ws.cell(rows["量化指标"], VALUE).value == 1200.5
    assert ws.cell(rows["节点"], PROGRESS).value == "部分完成"
    assert ws.cell(rows["节点"], NOTE).data_type == "s"
    before, version = saved_state(), report.version
    assert upload(client, again).status_code == 302
    db.session.expire_all()
    assert saved_state()[:2] == before[:2]  # no report, no version (the upload is audited)
    assert quarter.obligation(23, "mca").report.version == version
    # a template without the plans sheet keeps what is stored
    assert upload(client, _fill(again, {}, drop=True)).status_code == 302
    db.session.expire_all()
    assert len(quarter.obligation(23, "mca").report.indicator_values) == 1
    # so does a sheet without lines for the obligation (e.g. a plan approved after the download)
    wb = openpyxl.load_workbook(io.BytesIO(again))
    for row in range(3, wb[PLAN_SHEET].max_row + 1):
        for column in range(1, len(PLAN_HEADERS) + 1):
            wb[PLAN_SHEET].cell(row, column).value = None
    out = io.BytesIO()
    wb.save(out)
    assert upload(client, out.getvalue()).status_code == 302
    db.session.expire_all()
    assert len(quarter.obligation(23, "mca").report.milestone_statuses) == 1
    # clearing the cells clears the values
    cleared = _fill(again, {("量化指标", VALUE): None, ("节点", PROGRESS): None})
    assert upload(client, cleared).status_code == 302
    db.session.expire_all()
    report = quarter.obligation(23, "mca").report
    assert (report.indicator_values, report.milestone_statuses) == ([], [])


@pytest.mark.parametrize(
    ("changes", "column", "words"),
    [
        ({("量化指标", VALUE): -5}, "数值", "不小于 0"),
        ({("量化指标", VALUE): "很多"}, "数值", "不小于 0"),
        ({("量化指标", VALUE): 1.00001}, "数值", "4 位小数"),
        ({("量化指标", VALUE): "=1+1"}, "数值", "不小于 0"),
        ({("节点", PROGRESS): "未完成"}, "情况说明", "请用一句话说明"),
        ({("节点", PROGRESS): "差不多"}, "完成情况", "不是有效的完成情况"),
        (
            {("节点", PROGRESS): "部分完成", ("节点", NOTE): f"联系 {ID_NUMBER}"},
            "情况说明",
            "身份证",
        ),
        ({("节点", PROGRESS): "部分完成", ("节点", NOTE): "=A1"}, "情况说明", "公式"),
    ],
)
def test_bad_cells_are_refused_naming_the_cell_and_nothing_is_saved(
    client, planned, changes, column, words
):
    data = download(client)
    before = saved_state()
    if ("节点", NOTE) in changes and changes[("节点", NOTE)] == "=A1":
        wb = openpyxl.load_workbook(io.BytesIO(data))
        wb[PLAN_SHEET].cell(_rows(data)["节点"], PROGRESS).value = "部分完成"
        wb[PLAN_SHEET].cell(_rows(data)["节点"], NOTE).value = "=A1"  # a real formula
        out = io.BytesIO()
        wb.save(out)
        filled = out.getvalue()
    else:
        filled = _fill(data, changes)
    response = upload(client, filled)
    assert response.status_code == 422
    (problem,) = problems_of(response)
    row = _rows(data)["量化指标" if column == "数值" else "节点"]
    assert problem[0] == str(row) and problem[1] == f"“{PLAN_SHEET}”表 {column}", problem
    assert words in problem[2], problem
    assert saved_state() == before
