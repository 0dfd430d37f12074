"""The quarterly workbook: sheets, headers, rows, colours, formats, print settings, safety."""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from tests.exports.conftest import (
    DANGEROUS,
    MASTHEAD_FIRST,
    MASTHEAD_HEADER,
    data_rows,
    fit_to,
    formulas_in,
    load,
)
from tracker.catalogue.models import Department
from tracker.dashboard import queries as dashboard
from tracker.dashboard.rag import Rag
from tracker.exports.quarterly import (
    DETAIL_COLUMNS,
    DIVISION_COLUMNS,
    OVERDUE_COLUMNS,
    RAG_PAINT,
    SCORE_COLUMNS,
    SHEETS,
    TEXT_COLUMNS,
    URGE_COLUMNS,
    QuarterlyRequest,
    write_quarterly,
)
from tracker.extensions import db
from tracker.reports.limits import normalise_text

TABLES = {
    "任务分工落实情况": DIVISION_COLUMNS,
    "报告明细": DETAIL_COLUMNS,
    "报告正文": TEXT_COLUMNS,
    "逾期清单": OVERDUE_COLUMNS,
    "部门考核": SCORE_COLUMNS,
    "催办记录": URGE_COLUMNS,
}


def export(quarter, **options) -> bytes:
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(quarter.period, **options))
    return out.getvalue()


def fill_of(cell) -> str:
    return cell.fill.fgColor.rgb[-6:]


FIRST = MASTHEAD_FIRST
NARRATIVE_KEYS = ("progress", "problems", "practices", "suggestions", "next_steps")


def detail_by_item(ws) -> dict[tuple[int, str], tuple]:
    return {(row[0], row[2]): row for row in data_rows(ws)}


def narratives(wb, number: int, department: str) -> dict[str, str]:
    """One report's narratives from the 报告正文 sheet, by their label."""
    return {row[2]: row[3] for row in data_rows(wb["报告正文"]) if row[:2] == (number, department)}


def test_sheets_titles_and_headers(filed):
    wb = load(export(filed))
    assert wb.sheetnames == list(SHEETS)
    for index, ws in enumerate(wb, start=1):
        assert ws["A1"].value == f"表号：RWFG-{index}"
        title = ws["A2"].value
        assert title.startswith("民发〔2019〕86号《") and title.endswith("任务分工落实情况统计表")
        assert "2024年第三季度" in ws["A3"].value and ws.title in ws["A3"].value
        assert ws["A4"].value.startswith("填报单位：") and "填报日期：" in ws["A4"].value
    for name, columns in TABLES.items():
        assert [c.value for c in wb[name][MASTHEAD_HEADER]] == [c.header for c in columns], name


def test_every_obligation_is_a_row_of_the_detail_and_the_division(filed):
    wb = load(export(filed))
    assert len(data_rows(wb["报告明细"])) == 74
    division = wb["任务分工落实情况"]
    rows = data_rows(division)
    assert len([row for row in rows if row[4]]) == 74
    # Item 11: 公安部 leads, three supporting departments: one block of four rows, the
    # attachment's columns (number, text, lead, partners) merged down the block once.
    first = next(i for i, row in enumerate(rows) if row[0] == 11)
    item = rows[first]
    assert list(item[2:4]) == ["公安部", "司法部、农业农村部、全国妇联"]
    block = rows[first : first + 4]
    assert [r[4] for r in block] == ["公安部", "司法部", "农业农村部", "全国妇联"]
    top = FIRST + first
    merges = {str(m) for m in division.merged_cells.ranges}
    for column in "ABCD":
        assert f"{column}{top}:{column}{top + 3}" in merges, column
    assert division.cell(top + 1, 1).value is None  # written once, on the block's first row
    assert item[6] == "已报送待审核 · 迟报1个工作日"
    assert item[7] == DANGEROUS["progress"]  # short enough to be its own summary
    # Item 22: every department; item 1: joint, no lead.
    assert next(r for r in rows if r[0] == 22)[3] == "各部门"
    one = next(r for r in rows if r[0] == 1)
    assert one[2] in (None, "") and one[3] == "民政部、国务院妇儿工委办公室、全国妇联"


def test_detail_rows_carry_states_times_and_text(filed):
    wb = load(export(filed))
    rows = detail_by_item(wb["报告明细"])
    accepted = rows[(5, "民政部")]
    assert accepted[4:10] == (
        "已审核通过",
        "推进中",
        "已完成",
        datetime(2024, 10, 8, 9, 30),
        "是",
        0,
    )
    assert accepted[10] is None  # 审核签发: 民政部 submitted without sign-off here
    assert accepted[11] == "村规民约全覆盖。"  # its progress summary
    assert narratives(wb, 5, "民政部") == {"工作进展": "村规民约全覆盖。"}
    late = rows[(11, "公安部")]
    assert late[4] == "已报送待审核" and late[8:10] == ("否", 1)
    assert list(narratives(wb, 11, "公安部").values()) == [
        normalise_text(DANGEROUS[k])  # stored as entered: a leading tab is kept
        for k in NARRATIVE_KEYS
    ]
    assert list(narratives(wb, 11, "公安部")) == [
        "工作进展", "存在的困难和问题", "经验做法", "工作建议", "下一步计划",
    ]  # fmt: skip
    assert narratives(wb, 1, "民政部") == {}  # a draft's text stays the department's
    returned = rows[(3, "全国妇联")]
    assert returned[4] == "已退回" and returned[8] == "是"
    draft = rows[(1, "民政部")]
    # A draft is not reported: overdue, no content; 10-10 to Sat 10-12 (调休) is 2 working days.
    assert draft[4] == "逾期未报" and draft[9] == 2 and draft[10] is None
    waived = rows[(11, "司法部")]
    assert waived[4] == "已豁免" and waived[8] is None and waived[9] is None


def test_state_cells_are_filled_with_the_dashboard_colours(filed):
    wb = load(export(filed))
    ws = wb["报告明细"]
    colours = {}
    for row in ws.iter_rows(min_row=FIRST):
        colours[(row[0].value, row[2].value)] = (fill_of(row[4]), row[4].font.color.rgb[-6:])
    assert colours[(5, "民政部")] == RAG_PAINT[Rag.GREEN]
    assert colours[(11, "公安部")] == RAG_PAINT[Rag.BLUE]
    assert colours[(3, "全国妇联")] == RAG_PAINT[Rag.AMBER]
    assert colours[(1, "民政部")] == RAG_PAINT[Rag.RED]
    assert colours[(11, "司法部")] == RAG_PAINT[Rag.GREY]
    division = wb["任务分工落实情况"]
    reds = [r for r in division.iter_rows(min_row=FIRST) if r[4].value and "逾期" in r[6].value]
    assert reds and all(fill_of(r[6]) == RAG_PAINT[Rag.RED][0] for r in reds)


def test_overdue_list_matches_the_dashboard(filed):
    ws = load(export(filed))["逾期清单"]
    rows = data_rows(ws)
    expected = dashboard.overdue(filed.period)
    assert len(rows) == len(expected) == dashboard.headline(filed.period).overdue
    assert {(r[0], r[2]) for r in rows} == {(o.task.number, o.department.name) for o in expected}
    draft = next(r for r in rows if (r[0], r[2]) == (1, "民政部"))
    assert draft[4] == datetime(2024, 10, 10) and draft[5] == 2 and draft[6] == "草稿"
    assert ws.cell(FIRST, 5).number_format == "yyyy-mm-dd"


def test_scorecard_is_the_dashboards(filed):
    ws = load(export(filed))["部门考核"]
    rows = data_rows(ws)
    expected = dashboard.scorecard(filed.period)
    assert len(rows) == len(expected) == 13
    assert [(r[0], r[1]) for r in rows] == [(s.rank, s.department.name) for s in expected]
    mps = next(r for r in rows if r[1] == "公安部")
    score = next(s for s in expected if s.department.name == "公安部")
    assert mps[5] == pytest.approx(score.on_time_rate) and ws.cell(FIRST, 6).number_format == "0.0%"


def test_overview_has_figures_counts_and_a_native_chart(filed):
    data = export(filed)
    ws = load(data)["总体情况"]
    values = {row[0]: row[1:3] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]}
    head = dashboard.headline(filed.period)
    assert values["应报事项（不含豁免）"][0] == head.obligations == 74 - 3
    assert values["按时报送率"][0] == pytest.approx(head.on_time_rate)
    assert values["逾期未报"][0] == head.overdue
    assert values["已审核通过"] == (1, pytest.approx(1 / 74))
    assert values["已豁免"] == (3, pytest.approx(3 / 74))
    assert values["公安部"][0] == 0.0  # its one judged report was late
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        xml = archive.read(charts[0]).decode()
    chart = chart_elements(xml)
    assert "barChart" in chart and chart["barDir"] == ["bar"]
    assert re.search(r"'?总体情况'?!\$B\$", xml) and re.search(r"'?总体情况'?!\$A\$", xml)
    # The categories are the departments' names, cached as text.
    assert "strRef" in chart and "公安部" in xml
    # The bars are labelled with their value alone: no other label flag is on.
    assert chart["showVal"] == ["1"]
    for flag in ("showCatName", "showSerName", "showLegendKey", "showPercent"):
        assert set(chart.get(flag, [])) <= {"0"}, flag
    assert chart["orientation"][0] == "maxMin"  # rank 1 at the top


def chart_elements(xml: str) -> dict[str, list[str | None]]:
    """The ``val`` of every element of a chart part, by local name (namespace dropped)."""
    from defusedxml import ElementTree

    found: dict[str, list[str | None]] = {}
    for element in ElementTree.fromstring(xml.encode()).iter():
        found.setdefault(element.tag.rsplit("}", 1)[-1], []).append(element.get("val"))
    return found


def test_print_settings_on_every_sheet(filed):
    wb = load(export(filed))
    for ws in wb:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert int(ws.page_setup.paperSize) == 9, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", ws.title
        # Tables run on as many pages as they need; the overview fits on one.
        assert fit_to(ws) == (1, 1 if ws.title == "总体情况" else 0), ws.title
    for name in TABLES:
        ws = wb[name]
        assert ws.freeze_panes == f"A{FIRST}" and ws.print_title_rows == "$5:$5", name
        if name in ("任务分工落实情况", "逾期清单"):  # merged blocks: no filter
            assert not ws.auto_filter.ref, name
            continue
        last = max(MASTHEAD_HEADER, len(data_rows(ws)) + MASTHEAD_HEADER)
        assert ws.auto_filter.ref.startswith("A5:") and ws.auto_filter.ref.endswith(str(last))
    detail = wb["报告明细"]
    accepted = next(r for r in detail.iter_rows(min_row=FIRST) if r[0].value == 5)
    assert accepted[11].value and accepted[11].alignment.wrap_text
    assert accepted[7].number_format == "yyyy-mm-dd hh:mm"
    texts = wb["报告正文"]
    assert texts.column_dimensions["D"].width >= 100
    assert all(row[3].alignment.wrap_text for row in texts.iter_rows(min_row=FIRST))
    # Each cell draws its border: the grid stops at the table and spares the masthead.
    division = wb["任务分工落实情况"]
    assert not division.print_options.gridLines
    assert division.cell(FIRST, 2).border.left.style == "thin"
    assert division["A2"].border.left.style is None


def test_user_text_stays_text(filed):
    data = export(filed)
    assert formulas_in(data) == []
    ws = load(data)["报告正文"]
    rows = ws.iter_rows(min_row=FIRST)
    cells = [r[3] for r in rows if (r[0].value, r[1].value) == (11, "公安部")]
    assert [c.value for c in cells] == [
        normalise_text(DANGEROUS[k])  # stored as entered: a leading tab is kept
        for k in NARRATIVE_KEYS
    ]
    for cell in cells:
        assert cell.data_type == "s", cell.value
        # a leading tab is kept now, and quote-prefixed like the formula starters
        assert cell.quotePrefix == cell.value.startswith(("=", "+", "-", "@", "\t")), cell.value


def test_a_departments_workbook_holds_only_that_department(filed):
    mps = db.session.scalar(sa.select(Department).where(Department.code == "mps"))
    wb = load(export(filed, department_ids=frozenset({mps.id}), department_label="公安部"))
    assert "公安部" in wb["报告明细"]["A3"].value
    # A department's own workbook: its name as the unit, its approvers (none here) to sign.
    assert wb["报告明细"]["A4"].value.startswith("填报单位：公安部")
    for name in ("任务分工落实情况", "报告明细", "逾期清单", "部门考核"):
        departments = {r[4] if name == "任务分工落实情况" else r[2 if name != "部门考核" else 1]
                       for r in data_rows(wb[name])}  # fmt: skip
        assert departments <= {"公安部"}, name
    assert len(data_rows(wb["报告明细"])) == 2  # items 11 (lead) and 22 (everyone's)
    division = data_rows(wb["任务分工落实情况"])
    # The attachment's columns still name every responsible department.
    assert division[0][2:4] == ("公安部", "司法部、农业农村部、全国妇联")
    overview = {row[0]: row[1] for row in wb["总体情况"].iter_rows(values_only=True) if row[0]}
    assert overview["应报事项（不含豁免）"] == 2 and overview["已报送待审核"] == 1
    assert any("范围：公安部" in str(row[0]) for row in wb["总体情况"].iter_rows(values_only=True))


def second_document(quarter):
    """民发〔2020〕1号: one item, 民政部 its sole lead, opened for the quarter."""
    from tracker.catalogue.models import Assignment, Jurisdiction, PolicyDocument, Task
    from tracker.reports import services

    mca = db.session.scalar(sa.select(Department).where(Department.code == "mca"))
    national = db.session.scalar(sa.select(Jurisdiction))
    other = PolicyDocument(number="民发〔2020〕1号", title="另一件文件", issuer="民政部",
                           issued=date(2020, 1, 1))  # fmt: skip
    task = Task(document=other, number=1, text="另一项任务", clause="民政部负责")
    db.session.add_all([other, task])
    db.session.flush()
    db.session.add(Assignment(task=task, department_id=mca.id, jurisdiction_id=national.id,
                              role="lead"))  # fmt: skip
    services.open_period(quarter.period)
    db.session.commit()
    return other


def test_one_document_of_several(filed):
    other = second_document(filed)
    both = load(export(filed))
    assert both["报告明细"].cell(MASTHEAD_HEADER, 1).value == "文号"
    assert len(data_rows(both["报告明细"])) == 75
    assert both["报告明细"]["A2"].value.startswith("民发〔2019〕86号、民发〔2020〕1号\n")
    one = load(export(filed, document_id=other.id))
    assert one["报告明细"].cell(MASTHEAD_HEADER, 1).value == "序号"
    assert [r[:3] for r in data_rows(one["报告明细"])] == [(1, None, "民政部")]
    assert one["总体情况"]["A2"].value.startswith("民发〔2020〕1号《另一件文件》")


def test_a_frozen_quarter_reads_its_snapshot(filed):
    from tracker.dashboard import services as dashboard_services

    dashboard_services.freeze_snapshot(filed.period, date(2024, 10, 10))
    db.session.commit()
    rows = detail_by_item(load(export(filed))["报告明细"])
    # Frozen at the end of 10-10, its due day: 公安部's report of 10-11 had not arrived.
    assert rows[(11, "公安部")][4] == "临近截止"
    assert rows[(5, "民政部")][4] == "已审核通过"
    division = load(export(filed))["任务分工落实情况"]
    cell = next(r for r in division.iter_rows(min_row=FIRST) if r[4].value == "公安部")[6]
    assert "补报" in cell.value


def test_urges_and_acknowledgements(filed, people):
    from tracker.followups import services as reminders

    filed.at("2024-10-11 09:00")
    urge = reminders.urge_obligation(
        filed.obligation(1, "mca"), actor=people["coordinator"], message="=请尽快报送"
    )
    filed.at("2024-10-11 10:30")
    reminders.acknowledge_urge(urge, actor=people["mca"])
    reminders.urge_obligation(filed.obligation(22, "mps"), actor=people["coordinator"])
    db.session.commit()
    filed.at("2024-10-12 10:00")
    wb = load(export(filed))
    rows = data_rows(wb["催办记录"])
    assert [(r[0], r[1]) for r in rows] == [(1, "民政部"), (22, "公安部")]
    first = rows[0]
    assert first[2] == datetime(2024, 10, 11, 9, 0) and first[5] == datetime(2024, 10, 11, 10, 30)
    assert first[4] == "=请尽快报送" and wb["催办记录"].cell(FIRST, 5).data_type == "s"
    assert first[3] and first[6]  # who urged, who acknowledged
    assert rows[1][5] is None  # not acknowledged yet
    score = {r[1]: r for r in data_rows(wb["部门考核"])}
    assert score["民政部"][10:12] == (1, 1) and score["公安部"][10:12] == (1, 0)
    mps = db.session.scalar(sa.select(Department).where(Department.code == "mps"))
    own = load(export(filed, department_ids=frozenset({mps.id}), department_label="公安部"))
    assert [r[1] for r in data_rows(own["催办记录"])] == ["公安部"]


def test_every_sheet_of_the_report_and_the_template_reads_back_typed(filed, people):
    """Whatever a sheet holds, strings are strings (quoted when formula-like), dates are
    dates, numbers are numbers, and no worksheet part has a formula in it."""
    from tracker.exports import queries
    from tracker.exports.template import write_template

    mps = people["mps"].department
    template_out = io.BytesIO()
    lines = queries.obligation_lines(filed.period, department_id=mps.id)
    write_template(template_out, lines, department=mps, period=filed.period)
    for data in (export(filed), template_out.getvalue()):
        assert formulas_in(data) == []
        kinds = Counter()
        for ws in load(data):
            for row in ws.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    kinds[check_cell(cell)] += 1
        # 公安部's narratives on item 11 all start with a formula character (DANGEROUS).
        assert kinds["text"] and kinds["number"] and kinds["date"] and kinds["quoted"], kinds


def check_cell(cell) -> str:
    """The kind of a read-back cell, after checking that its type fits its value."""
    from tracker.exports.workbook import needs_quote_prefix

    if isinstance(cell.value, str):
        assert cell.data_type == "s", cell.coordinate
        assert cell.quotePrefix == needs_quote_prefix(cell.value), cell.coordinate
        return "quoted" if cell.quotePrefix else "text"
    if isinstance(cell.value, datetime):
        assert cell.is_date and cell.number_format.startswith("yyyy-mm-dd"), cell.coordinate
        return "date"
    assert type(cell.value) in (int, float) and cell.data_type == "n", cell.coordinate
    return "number"


def test_the_scorecards_urges_are_the_urge_sheets_rows_for_one_document_too(filed, people):
    from tracker.catalogue.models import Task
    from tracker.followups import services as reminders
    from tracker.reports.models import Obligation

    other = second_document(filed)
    elsewhere = db.session.scalar(
        sa.select(Obligation)
        .join(Task, Task.id == Obligation.task_id)
        .where(Task.document_id == other.id, Obligation.period == filed.period.key)
    )
    for obligation in (filed.obligation(1, "mca"), elsewhere, filed.obligation(22, "mps")):
        reminders.urge_obligation(obligation, actor=people["coordinator"])
    db.session.commit()
    for options in ({}, {"document_id": other.id}, {"document_id": elsewhere.task.document_id}):
        wb = load(export(filed, **options))
        listed = Counter(row[-6] for row in data_rows(wb["催办记录"]))
        scored = {row[1]: row[10] for row in data_rows(wb["部门考核"]) if row[10]}
        assert scored == dict(listed) and scored, options


def test_rows_with_long_text_are_as_high_as_it_needs(filed):
    from tests.exports.test_workbook import row_tags

    data = export(filed)
    division = dict(row_tags(data, SHEETS.index("任务分工落实情况") + 1))
    # Item 1: the attachment's text of some 130 characters in a column 40 units wide, merged
    # down its three departments' rows, which share the height it needs.
    assert sum(float(division[row]["ht"]) for row in range(FIRST, FIRST + 3)) >= 7 * 14
    assert division[2]["customHeight"] == "1"  # the title's height is chosen
    score = dict(row_tags(data, SHEETS.index("部门考核") + 1))
    assert all(score[number] == {} for number in score if number >= FIRST)  # one line each
