"""The quarterly workbook's 各地上报情况 at a central instance with members, read back."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.exports.conftest import MASTHEAD_FIRST, MASTHEAD_HEADER, fit_to, formulas_in, load
from tests.exports.test_official import widths
from tests.federation.conftest import rollup_body
from tests.federation.provinces import cascade, receive, register
from tracker.catalogue.models import Department
from tracker.dashboard.rag import Rag
from tracker.delivery.models import Combine, Indicator
from tracker.exports.quarterly import RAG_PAINT, SHEETS, QuarterlyRequest, write_quarterly
from tracker.exports.workbook import MIN_PRINTED_POINTS, printed_scale
from tracker.extensions import db
from tracker.federation.sheet import NO_DELIVERY, SHEET

FIXED = ["排名", "地方", "首次送达时间", "报送情况", "迟报工作日", "版本数", "覆盖事项"]


def export(quarter, **options) -> bytes:
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(quarter.period, **options))
    return out.getvalue()


@pytest.fixture
def provinces(centre, quarter):
    members = cascade()
    quarter.at("2024-10-16 10:00")
    return members


def _table(ws) -> list[tuple]:
    """The member rows: from the first data row to the first empty row."""
    rows = []
    for row in ws.iter_rows(min_row=MASTHEAD_FIRST, values_only=True):
        if row[0] is None:
            break
        rows.append(row)
    return rows


def _totals(ws) -> dict[str, list[tuple]]:
    """Each indicator's row and its members' rows, by the indicator's title."""
    found: dict[str, list[tuple]] = {}
    current = None
    for row in ws.iter_rows(min_row=MASTHEAD_FIRST, values_only=True):
        first = row[0]
        if isinstance(first, str) and first.startswith("第") and "项 · " in first:
            current = first
            found[current] = [row]
        elif current and isinstance(first, str) and first.startswith("\u3000"):
            found[current].append(row)
    return found


def test_the_sheet_follows_the_workbooks_own(provinces, quarter):
    data = export(quarter)
    wb = load(data)
    assert wb.sheetnames == [*SHEETS, SHEET]
    ws = wb[SHEET]
    assert ws["A1"].value == f"表号：RWFG-{len(SHEETS) + 1}"
    assert ws["A3"].value == "各地上报情况（2024年第三季度）"
    header = [c.value for c in ws[MASTHEAD_HEADER]]
    items = [str(n) for n in range(1, 24)]
    assert header == FIXED + items
    assert ws.freeze_panes == f"A{MASTHEAD_FIRST}" and ws.print_title_rows == "$5:$5"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert fit_to(ws) == (1, 0)
    sizes = {c.font.sz for row in ws.iter_rows() for c in row if c.value is not None}
    assert min(sizes) * printed_scale(widths(ws)) >= MIN_PRINTED_POINTS
    assert formulas_in(data) == []


def test_timeliness_and_marks_per_member(provinces, quarter):
    ws = load(export(quarter))[SHEET]
    rows = {row[1]: row for row in _table(ws)}
    assert list(rows) == ["河北省", "新疆生产建设兵团", "山西省", "辽宁省"]
    hebei = rows["河北省"]
    assert hebei[:7] == (1, "河北省", datetime(2024, 10, 9, 10, 0), "按时", 0, 2, 1)
    assert hebei[7 + 22] == "●1"  # item 23, with its one indicator
    assert all(v is None for v in hebei[7 : 7 + 22])
    assert rows["新疆生产建设兵团"][:7] == (
        2, "新疆生产建设兵团", datetime(2024, 10, 11, 0, 30), "迟报", 1, 1, 1,
    )  # fmt: skip
    assert rows["山西省"][3:5] == ("迟报", 3)
    assert rows["辽宁省"][:7] == (4, "辽宁省", None, "逾期未报", 5, 0, None)
    assert all(v is None for v in rows["辽宁省"][7:])
    fills = {ws.cell(r, 2).value: ws.cell(r, 4).fill.fgColor.rgb[-6:]
             for r in range(MASTHEAD_FIRST, MASTHEAD_FIRST + 4)}  # fmt: skip
    assert fills["河北省"] == RAG_PAINT[Rag.GREEN][0]
    assert fills["山西省"] == RAG_PAINT[Rag.AMBER][0]
    assert fills["辽宁省"] == RAG_PAINT[Rag.RED][0]
    assert any("截止日期：2024-10-10" in str(c.value) for row in ws.iter_rows() for c in row)


def test_indicator_totals_with_shares_summing_to_one(provinces, quarter):
    ws = load(export(quarter))[SHEET]
    totals = _totals(ws)
    assert len(totals) == 5  # item 23's five indicators
    reported = next(rows for rows in totals.values() if len(rows) > 1)
    head, *members = reported
    assert head[3] == "求和" and head[4] == 300  # 河北 150 (its latest revision), 兵团 100, 山西 50
    assert head[6] == 1
    values = {
        name.strip("\u3000"): (value, share) for name, _, _, _, value, _, share, *_ in members
    }
    assert values == {
        "河北省": (150, pytest.approx(0.5)),
        "新疆生产建设兵团": (100, pytest.approx(0.3333)),
        "山西省": (50, pytest.approx(0.1667)),
    }
    assert sum(Decimal(str(s)) for _, s in values.values()) == Decimal("1")
    for other in totals.values():
        if other is not reported:
            assert len(other) == 1 and other[0][4] is None  # nobody reported it


def test_an_average_indicator_has_no_shares(provinces, quarter):
    key = db.session.scalar(sa.select(Indicator.key).order_by(Indicator.position).limit(1))
    db.session.execute(
        sa.update(Indicator).where(Indicator.key == key).values(combine=Combine.AVERAGE)
    )
    db.session.commit()
    totals = _totals(load(export(quarter))[SHEET])
    head, *members = next(rows for rows in totals.values() if len(rows) > 1)
    assert head[3] == "平均" and head[4] == 100 and head[6] is None
    assert [m[6] for m in members] == [None, None, None]


def test_member_names_stay_text(centre, quarter):
    from tracker.federation import services

    member, _ = services.add_member("130000", '=HYPERLINK("x")', "provincial", actor=None)
    db.session.commit()
    receive(member, 1, "2024-10-09 10:00")
    data = export(quarter)
    ws = load(data)[SHEET]
    assert ws.cell(MASTHEAD_FIRST, 2).value == '=HYPERLINK("x")'
    assert ws.cell(MASTHEAD_FIRST, 2).data_type == "s" and formulas_in(data) == []


def test_no_sheet_without_members_at_a_province_or_for_a_department(
    centre, quarter, app, monkeypatch
):
    assert load(export(quarter)).sheetnames == list(SHEETS)
    register(["130000"])
    quarter.at("2024-10-16 10:00")
    assert load(export(quarter)).sheetnames == [*SHEETS, SHEET]
    mca = db.session.scalar(sa.select(Department).where(Department.code == "mca"))
    restricted = export(quarter, department_ids=frozenset({mca.id}), department_label="民政部")
    assert load(restricted).sheetnames == list(SHEETS)
    monkeypatch.setitem(app.config, "TRACKER_INSTANCE_LEVEL", "provincial")
    monkeypatch.setitem(app.config, "TRACKER_INSTANCE_CODE", "110000")
    assert load(export(quarter)).sheetnames == list(SHEETS)


@pytest.mark.parametrize("only", [False, True], ids=["two documents", "one of 40 items"])
def test_items_that_would_print_too_small_fold_into_one_column(provinces, quarter, only):
    """Two documents (a 文号 column beside the 86号's 23 items) or one of 40 items: a column
    per item would print below 9 pt, so one column lists the items covered."""
    from tracker.catalogue.models import PolicyDocument, Task
    from tracker.federation.sheet import ITEMS_COLUMN

    document = PolicyDocument(number="测试〔2024〕1号", title="测试文件", issuer="测试")
    document.tasks.extend(
        Task(number=n, section="三", text=f"第{n}项", clause="") for n in range(1, 41)
    )
    db.session.add(document)
    db.session.commit()
    ws = load(export(quarter, document_id=document.id if only else None))[SHEET]
    header = [c.value for c in ws[MASTHEAD_HEADER]]
    rows = _table(ws)
    assert sizes_ok(ws)
    if only:
        assert header == [*FIXED, ITEMS_COLUMN.header]
        assert [row[3] for row in rows] == ["逾期未报"] * 4  # nobody reported this document
        return
    assert header == ["文号", *FIXED, ITEMS_COLUMN.header]
    assert len(rows) == 8  # four members for each of the two documents
    by = {(row[0], row[2]): row for row in rows}
    assert by[("民发〔2019〕86号", "河北省")][8] == "23（1）"
    assert by[("测试〔2024〕1号", "河北省")][4:6] == ("逾期未报", 5)


def sizes_ok(ws) -> bool:
    sizes = {c.font.sz for row in ws.iter_rows() for c in row if c.value is not None}
    return min(sizes) * printed_scale(widths(ws)) >= MIN_PRINTED_POINTS


@pytest.mark.parametrize(
    ("role", "department", "shown"),
    [("coordinator", None, True), ("viewer", None, True), ("liaison", "mca", False),
     ("viewer", "mca", False)],
)  # fmt: skip
def test_the_download_has_the_sheet_for_those_who_see_every_department(
    provinces, client, login, make_user, role, department, shown
):
    """The same rule as the scorecard's section: a department's own workbook has none."""
    login(make_user(role, department))
    response = client.get("/exports/quarterly.xlsx?period=2024Q3")
    assert response.status_code == 200
    assert (SHEET in load(response.data).sheetnames) is shown


def _deliveries(ws) -> list[tuple]:
    """The 落实情况 rows under their header: (地方, 事项, 节点, 落实) with the light's fill."""
    found, inside = [], False
    for row in ws.iter_rows(min_row=MASTHEAD_FIRST):
        first = row[0].value
        if first == "地方" and row[3].value == "事项":
            inside = True
            continue
        if inside:
            if first is None:
                break
            found.append((first, row[3].value, row[4].value, row[6].value,
                          row[6].fill.fgColor.rgb[-6:]))  # fmt: skip
    return found


def test_the_matrixs_delivery_lights_per_member_and_item(centre, quarter):
    """Each member's item 23 against the centre's one milestone due by 2024Q3: 河北 and 兵团
    said 已完成 (按序时推进, green), 山西 未完成 (明显滞后, red); 辽宁 sent nothing (no light)."""
    members = register()
    receive(members["130000"], 1, "2024-10-09 10:00")
    receive(members["650000"], 1, "2024-10-11 00:30")
    body = rollup_body(1, code="140000")["items"]
    body[0]["milestones"][0]["status"] = "not_done"
    receive(members["140000"], 1, "2024-10-14 09:00", items=body)
    quarter.at("2024-10-16 10:00")
    data = export(quarter)
    ws = load(data)[SHEET]
    assert any(str(c.value).startswith("落实情况") for row in ws.iter_rows() for c in row)
    assert _deliveries(ws) == [
        ("河北省", "第23项", "节点 1/1", "按序时推进", RAG_PAINT[Rag.GREEN][0]),
        ("新疆生产建设兵团", "第23项", "节点 1/1", "按序时推进", RAG_PAINT[Rag.GREEN][0]),
        ("山西省", "第23项", "节点 0/1", "明显滞后", RAG_PAINT[Rag.RED][0]),
    ]
    assert sizes_ok(ws) and formulas_in(data) == []


def test_no_delivery_light_before_a_milestone_is_due(centre, quarter):
    """Still in 2024Q3, the milestone's quarter has not passed: no light, and the sheet says so."""
    members = register(["130000"])
    receive(members["130000"], 1, "2024-10-09 10:00")
    quarter.at("2024-09-20 10:00")
    ws = load(export(quarter))[SHEET]
    assert [row[:4] for row in _deliveries(ws)] == [(NO_DELIVERY, None, None, None)]


def test_member_names_in_the_delivery_rows_stay_text(centre, quarter):
    from tracker.federation import services

    member, _ = services.add_member("130000", "=1+2", "provincial", actor=None)
    other, _ = services.add_member("140000", "@SUM(A1)", "provincial", actor=None)
    db.session.commit()
    receive(member, 1, "2024-10-09 10:00")
    receive(other, 1, "2024-10-09 11:00")
    quarter.at("2024-10-16 10:00")
    data = export(quarter)
    ws = load(data)[SHEET]
    names = [row[0] for row in _deliveries(ws)]
    assert names == ["=1+2", "@SUM(A1)"]
    assert formulas_in(data) == []
    for row in ws.iter_rows():
        for c in row:
            if c.value in ("=1+2", "@SUM(A1)"):
                assert c.data_type == "s"
