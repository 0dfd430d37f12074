"""Honest figures: only due quarters on the trends page, every rate with its denominator, a
heat-map for many departments, a chosen department against the average, no lone bar, and a
printed dashboard that states its judging day and filters."""

from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest

from tracker.dashboard import queries
from tracker.periods import Period

Q3, Q4 = Period(2024, 3), Period(2024, 4)


def _chart(html: str, chart_id: str) -> dict:
    pattern = rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>'
    block = re.search(pattern, html, re.S)
    assert block, f"no {chart_id} data block"
    return json.loads(unescape(block.group(1)))


def _row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-department="{code}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, code
    return found.group(1)


def test_a_quarter_is_left_out_until_its_due_date(scenario):
    """On 10-09 2024Q3 is not due (lead reports are due 10-10): only its early reports are
    in, all on time, and it used to read as 100 %."""
    before = queries.trend([Q3], today=date(2024, 10, 9))
    assert before.periods == [] and before.not_due == [Q3]
    on_due_day = queries.trend([Q3], today=date(2024, 10, 10))
    assert on_due_day.periods == [Q3] and on_due_day.not_due == []


def test_each_rate_keeps_its_numerator_and_denominator(scenario):
    trend = queries.trend([Q3])
    by_code = {d.code: trend.cells[d.id][0] for d in trend.departments}
    assert (by_code["moj"].on_time, by_code["moj"].judged) == (0, 1)  # item 11 late
    total = trend.totals[0]
    assert total.rate == pytest.approx(trend.overall[0])
    assert total.judged == sum(c.judged for c in by_code.values())
    assert total.on_time == sum(c.on_time for c in by_code.values())


def test_trends_page_is_a_heat_map_with_counts(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard/trends").get_data(as_text=True)
    assert 'class="grid compact trend heatmap"' in html
    assert len(re.findall(r'<tr data-department="\w+"', html)) == 13
    moj = _row(html, "moj")
    assert "0 / 1 已到期" in moj and "heat-1" in moj  # colour and the figures together
    overall = re.search(r'<tr class="overall">(.*?)</tr>', html, re.S).group(1)
    total = queries.trend([Q3]).totals[0]
    assert f"{total.on_time} / {total.judged} 已到期" in overall


def test_trend_chart_is_one_department_against_the_average(scenario, client, login):
    login(scenario["coordinator"])
    chart = _chart(client.get("/dashboard/trends").get_data(as_text=True), "trend-chart")
    assert chart["series"][0]["label"] == "全部部门平均"
    assert len(chart["series"]) == 2  # the average and the first department, not 14 lines
    html = client.get("/dashboard/trends?department=moj").get_data(as_text=True)
    chart = _chart(html, "trend-chart")
    assert [s["label"] for s in chart["series"]] == ["全部部门平均", "司法部"]
    assert chart["series"][1]["values"] == [0.0]
    assert chart["labels"] == [Q3.label]
    assert '<tr data-department="moj" class="chosen">' in html


def test_unknown_trend_department_is_refused_in_words(scenario, client, login):
    login(scenario["coordinator"])
    response = client.get("/dashboard/trends?department=<script>")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "筛选条件无效" in html
    assert "department=<script>" not in html and "<script>" not in html  # never echoed raw


def test_a_liaison_sees_their_department_against_the_average(scenario, client, login):
    login(scenario["acwf"])
    html = client.get("/dashboard/trends").get_data(as_text=True)
    assert re.findall(r'<tr data-department="(\w+)"', html) == ["acwf"]
    chart = _chart(html, "trend-chart")
    assert [s["label"] for s in chart["series"]] == ["全部部门平均", "全国妇联"]
    average = queries.trend([Q3]).overall[0]
    assert chart["series"][0]["values"] == [round(average * 100, 1)]  # over all departments
    assert 'name="department"' not in html  # one department: nothing to choose
    refused = client.get("/dashboard/trends?department=moj").get_data(as_text=True)
    assert "筛选条件无效" in refused
    assert re.findall(r'<tr data-department="(\w+)"', refused) == ["acwf"]


def test_a_quarter_not_yet_due_is_marked_and_not_counted(scenario, client, login, app, monkeypatch):
    """On 10-17 2024Q4 is the reporting quarter: tracked, not due, so marked 未到期."""
    from tracker.extensions import db
    from tracker.reports import services as report_services

    scenario["quarter"].at("2024-10-17 09:00")
    report_services.open_period(Q4)
    db.session.commit()
    login(scenario["coordinator"])
    html = client.get("/dashboard/trends").get_data(as_text=True)
    assert f'<th class="num not-due" data-period="2024Q4">{Q4.label}</th>' in html
    assert "未到期" in _row(html, "moa")
    assert f"{Q4.label}尚未到期，不计入" in html
    chart = _chart(html, "trend-chart")
    assert chart["labels"] == [Q3.label]


def test_scorecard_of_one_department_has_no_lone_bar(scenario, client, login):
    login(scenario["acwf"])
    html = client.get("/dashboard/scorecard").get_data(as_text=True)
    assert re.findall(r'<tr data-department="(\w+)"', html) == ["acwf"]
    assert 'id="scorecard-chart-data"' not in html
    login(scenario["coordinator"])
    html = client.get("/dashboard/scorecard").get_data(as_text=True)
    assert len(_chart(html, "scorecard-chart")["labels"]) == 13


def test_tiles_name_what_each_rate_is_computed_over(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard").get_data(as_text=True)
    head = queries.headline(Q3)
    basis = dict(re.findall(r'data-basis="(\w+)">(.*?)</small>', html, re.S))
    assert basis["on_time_rate"] == f"按已到期或已报送的 {head.judged} 项计：按时 {head.on_time} 项"
    assert basis["submitted"].startswith(f"共 {head.obligations} 项中")
    assert basis["overdue"].startswith(f"共 {head.obligations} 项中")
    assert "不含豁免" in basis["obligations"]


def test_printed_scope_states_judging_day_and_every_filter(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard?department=moa&role=support&section=三&state=red").get_data(
        as_text=True
    )
    scope = re.search(r'<p class="print-scope" id="print-scope">(.*?)</p>', html, re.S).group(1)
    assert scope == (
        "判断日期：2024年10月10日；筛选条件：正文部分 三、；部门 农业农村部；角色 配合；"
        "状态 红 · 逾期未报"
    )
    plain = client.get("/dashboard").get_data(as_text=True)
    assert "筛选条件：全部</p>" in plain
    own = client.get("/dashboard/departments/acwf").get_data(as_text=True)
    assert "筛选条件：部门 全国妇联</p>" in own


def test_download_link_carries_every_filter(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard?department=moa&role=support&section=三&state=red").get_data(
        as_text=True
    )
    href = unescape(re.search(r'id="download-quarterly" href="([^"]+)"', html).group(1))
    from urllib.parse import parse_qs, urlsplit

    args = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    assert args == {
        "period": "2024Q3", "department": "moa", "role": "support", "section": "三",
        "state": "red",
    }  # fmt: skip
    own = client.get("/dashboard/departments/acwf").get_data(as_text=True)
    href = unescape(re.search(r'id="download-quarterly" href="([^"]+)"', own).group(1))
    assert "department=acwf" in href
