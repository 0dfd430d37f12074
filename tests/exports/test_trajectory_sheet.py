"""The quarterly workbook's sheet 指标轨迹: each indicator in force across the quarters."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import report_value
from tests.delivery.conftest import approved_plan, department, indicator, task
from tests.exports.conftest import MASTHEAD_HEADER, data_rows, formulas_in, load
from tracker.delivery import services as delivery_services
from tracker.exports.quarterly import NO_INDICATORS, QuarterlyRequest, write_quarterly
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services
from tracker.reports.models import Obligation

Q3, Q4 = Period(2024, 3), Period(2024, 4)
DANGEROUS_NAME = '=HYPERLINK("http://x")覆盖县'


@pytest.fixture
def people(seeded, make_user):
    return {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "coordinator": make_user("coordinator", "mca"),
    }


def _obligation(period: Period, code: str) -> Obligation:
    return db.session.scalar(
        sa.select(Obligation).where(
            Obligation.task_id == task(23).id,
            Obligation.department_id == department(code).id,
            Obligation.period == period.key,
        )
    )


def _export(period: Period, **options) -> bytes:
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(period, **options))
    return out.getvalue()


def _planned(on: dt.date, target: int = 100) -> float:
    """The line from 0 (2019-05-01) to ``target`` (2027-12-31) on ``on``, rounded half up to a
    whole number, as the sheet gives a count's planned value."""
    start, end = dt.date(2019, 5, 1), dt.date(2027, 12, 31)
    line = Decimal(target) * (on - start).days / (end - start).days
    return float(line.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def two_quarters(quarter, people):
    """Item 23's indicator (sum of 民政部 and 全国妇联): 10 + 20 in 2024Q3; in 2024Q4 40 from
    全国妇联 submitted and 民政部's 999 still a draft."""
    plan = approved_plan(23, "mca", indicators=[indicator(DANGEROUS_NAME, "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    report_value(_obligation(Q3, "acwf"), key, 10, people["support"])
    report_value(_obligation(Q3, "mca"), key, 20, people["lead"])
    quarter.at("2025-01-05 10:00")
    services.open_period(Q4)
    db.session.commit()
    report_value(_obligation(Q4, "acwf"), key, 40, people["support"])
    report_value(_obligation(Q4, "mca"), key, 999, people["lead"], submit=False)
    return plan


def test_each_indicator_in_force_is_a_row_with_its_quarters(two_quarters):
    data = _export(Q4)
    ws = load(data)["指标轨迹"]
    assert [c.value for c in ws[MASTHEAD_HEADER]] == [
        "序号", "指标", "单位", "基线值", "基线日期", "2024年第三季度", "2024年第四季度",
        "计划值（2024年第四季度末）", "目标值", "目标日期",
    ]  # fmt: skip
    (row,) = data_rows(ws)
    assert row == (
        23, DANGEROUS_NAME, "个", 0, dt.datetime(2019, 5, 1), 30, 40,
        _planned(dt.date(2024, 12, 31)), 100, dt.datetime(2027, 12, 31),
    )  # fmt: skip
    # the user's text is text, never a formula
    assert formulas_in(data) == []
    assert ws.cell(MASTHEAD_HEADER + 1, 2).data_type == "s"
    # up to the report's quarter only
    ws = load(_export(Q3))["指标轨迹"]
    assert [c.value for c in ws[MASTHEAD_HEADER]][5:7] == [
        "2024年第三季度",
        "计划值（2024年第三季度末）",
    ]
    assert data_rows(ws)[0][5:7] == (30, _planned(dt.date(2024, 9, 30)))


def test_a_department_sees_the_indicators_of_its_items_only(two_quarters):
    on_item = frozenset({department("acwf").id})
    (row,) = data_rows(load(_export(Q4, department_ids=on_item))["指标轨迹"])
    assert row[1] == DANGEROUS_NAME
    elsewhere = frozenset({department("mohrss").id})
    rows = data_rows(load(_export(Q4, department_ids=elsewhere))["指标轨迹"])
    assert [row[0] for row in rows] == [NO_INDICATORS]


def test_a_plan_not_yet_approved_is_not_in_the_workbook(quarter, people):
    data = delivery_services.PlanInput(
        milestones=[], indicators=[indicator("覆盖县", "sum", ["mca"])]
    )
    delivery_services.propose_plan(task(23), department("mca"), data, actor=people["lead"])
    db.session.commit()
    rows = data_rows(load(_export(Q3))["指标轨迹"])
    assert [row[0] for row in rows] == [NO_INDICATORS]


def test_the_widest_sheet_still_prints_at_nine_points():
    from tracker.exports.quarterly import TRAJECTORY_QUARTERS, trajectory_columns
    from tracker.exports.workbook import MIN_PRINTED_POINTS, printed_scale

    quarters = list(Period.range(Period(2024, 1), Period(2026, 4)))[-TRAJECTORY_QUARTERS:]
    columns = trajectory_columns(quarters, quarters[-1], multi=True)
    assert printed_scale([c.width for c in columns]) * 10.5 >= MIN_PRINTED_POINTS


def test_values_are_numbers_at_the_indicators_precision_on_even_rows(quarter, people):
    """A count of people (人, 0 → 6,000,000) and a share (%, 35.5 → 80): numbers, each with a
    number format of its indicator's precision and thousands separators; every row as high as
    the tallest (one indicator's name wraps onto two lines, the other's does not)."""
    people_spec = replace(indicator("信息台账登记的农村留守妇女人数合计", "sum", ["mca", "acwf"],
                                    unit="人"), target_value=Decimal(6000000))  # fmt: skip
    share_spec = replace(indicator("覆盖率", "sum", ["mca", "acwf"], unit="%"),
                         baseline_value=Decimal("35.5"), target_value=Decimal(80))  # fmt: skip
    plan = approved_plan(23, "mca", indicators=[people_spec, share_spec], people=people)
    registered = plan.indicators[0].key
    report_value(_obligation(Q3, "acwf"), registered, "1234567", people["support"])
    ws = load(_export(Q3))["指标轨迹"]
    first = MASTHEAD_HEADER + 1
    rows = {ws.cell(r, 3).value: r for r in (first, first + 1)}
    count_row, share_row = rows["人"], rows["%"]
    planned_column = 7  # 序号 指标 单位 基线值 基线日期 2024年第三季度 计划值 …
    planned_cell = ws.cell(count_row, planned_column)
    assert planned_cell.data_type == "n"
    assert planned_cell.value == _planned(dt.date(2024, 9, 30), 6000000)  # whole people
    assert planned_cell.number_format == "#,##0"
    assert ws.cell(count_row, 6).value == 1234567 and ws.cell(count_row, 6).number_format == "#,##0"
    assert ws.cell(count_row, 8).number_format == "#,##0"  # target
    share = ws.cell(share_row, planned_column)
    assert share.number_format == "#,##0.0" and share.value == round(share.value, 1)
    assert ws.cell(share_row, 4).value == 35.5 and ws.cell(share_row, 4).number_format == "#,##0.0"
    # even rows: the long name wraps, so both rows get the two-line height
    heights = {ws.row_dimensions[r].height for r in (count_row, share_row)}
    assert len(heights) == 1 and heights.pop() > 20
