"""The quarterly workbook keeps the dashboard's scope: every filter narrows its rows and is
stated on the overview sheet; an unknown filter value is refused in words."""

from __future__ import annotations

import pytest

from tests.exports.conftest import data_rows, load
from tracker.catalogue.queries import document_by_number

DETAIL = "报告明细"


def _cover(wb) -> list[str]:
    return [row[0] for row in wb["总体情况"].iter_rows(values_only=True) if row[0]]


def test_department_and_role_narrow_every_sheet(client, filed, people, login):
    login(people["coordinator"])
    response = client.get("/exports/quarterly.xlsx?period=2024Q3&department=mps&role=lead")
    assert response.status_code == 200
    assert "%E5%85%AC%E5%AE%89%E9%83%A8" in response.headers["Content-Disposition"]  # 公安部
    wb = load(response.data)
    rows = data_rows(wb[DETAIL])
    assert rows and {(row[2], row[3]) for row in rows} == {("公安部", "牵头")}
    assert [row[1] for row in data_rows(wb["部门考核"])] == ["公安部"]
    # 公安部 leads item 11 and reported it (late): nothing overdue, and the list says so.
    assert wb["逾期清单"]["A6"].value == "本季度无逾期未报事项"
    assert [str(m) for m in wb["逾期清单"].merged_cells.ranges if m.min_row == 6] == ["A6:G6"]
    assert "筛选条件：部门 公安部；角色 牵头" in _cover(wb)
    everything = load(client.get("/exports/quarterly.xlsx?period=2024Q3&department=mps").data)
    assert len(data_rows(everything[DETAIL])) > len(rows)  # the role filter did narrow


def test_section_and_colour_narrow_the_rows(client, filed, people, login):
    login(people["coordinator"])
    wb = load(client.get("/exports/quarterly.xlsx?period=2024Q3&section=三&state=red").data)
    rows = data_rows(wb[DETAIL])
    assert rows
    assert {row[1].split("(")[0] for row in rows} == {"三"}
    assert {row[4] for row in rows} == {"逾期未报"}
    assert "筛选条件：正文部分 三、；状态 红 · 逾期未报" in _cover(wb)
    every = load(client.get("/exports/quarterly.xlsx?period=2024Q3").data)
    assert len(data_rows(every[DETAIL])) == 74 and len(rows) < 74
    assert "筛选条件：全部" in _cover(every)


def test_the_document_is_named_on_the_cover(client, filed, people, login):
    login(people["coordinator"])
    document = document_by_number("民发〔2019〕86号")
    wb = load(client.get(f"/exports/quarterly.xlsx?period=2024Q3&document={document.id}").data)
    assert "筛选条件：文件 民发〔2019〕86号" in _cover(wb)


def test_a_liaison_is_kept_to_their_department(client, filed, people, login):
    login(people["mps"])
    own = client.get("/exports/quarterly.xlsx?period=2024Q3&department=mps")
    assert own.status_code == 200
    assert {row[2] for row in data_rows(load(own.data)[DETAIL])} == {"公安部"}
    other = client.get("/exports/quarterly.xlsx?period=2024Q3&department=mca")
    assert other.status_code == 400
    assert "只能导出本部门的报表" in other.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("department=nowhere", "未知的部门：nowhere"),
        ("role=boss", "未知的角色：boss"),
        ("state=purple", "未知的状态：purple"),
        ("section=九", "未知的正文部分：九"),
        ("department=%3Cb%3Ex%3C/b%3E", "未知的部门：&lt;b&gt;x&lt;/b&gt;"),
    ],
)
def test_unknown_filter_values_are_refused_in_words(client, filed, people, login, query, message):
    login(people["coordinator"])
    response = client.get(f"/exports/quarterly.xlsx?period=2024Q3&{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "筛选条件无效" in html and message in html
