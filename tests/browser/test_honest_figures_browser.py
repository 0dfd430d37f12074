"""In a real browser: the trends heat-map and the chosen department's chart, and the printed
dashboard stating its judging day and filters."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import build_scenario

pytestmark = pytest.mark.browser


@pytest.fixture
def scenario(quarter, make_user):
    return build_scenario(quarter, make_user)


@pytest.fixture
def problems(page):
    """Console errors and failed requests of the page (the favicon aside)."""
    found = []
    page.on("console", lambda msg: found.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)  # fmt: skip
    page.on("response", lambda r: found.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    return found


def _chart_labels(page) -> list[str]:
    return page.locator("#trend-chart").evaluate(
        "c => Chart.getChart(c).data.datasets.map(d => d.label)"
    )


def test_heat_map_and_the_chosen_department_against_the_average(
    page, live_server, scenario, sign_in, screenshot, problems
):
    sign_in(scenario["coordinator"])
    page.goto(f"{live_server}/dashboard/trends")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    heat = page.locator("table.heatmap")
    expect(heat.locator("tr[data-department]")).to_have_count(13)
    moj = heat.locator('tr[data-department="moj"] td').first
    expect(moj).to_contain_text("0 / 1 已到期")
    # The colour is painted, and the cell says the same in figures.
    assert moj.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(253, 226, 223)"
    first = page.locator("select[name=department] option:checked").inner_text()
    assert _chart_labels(page) == ["全部部门平均", first]  # two lines, not fourteen
    page.select_option("select[name=department]", "moj")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    assert "department=moj" in page.url
    assert _chart_labels(page) == ["全部部门平均", "司法部"]
    expect(page.locator("table.heatmap tr.chosen th")).to_have_text("司法部")
    screenshot("trends-heatmap")
    assert problems == []


def test_a_liaison_sees_their_department_and_the_average(
    page, live_server, scenario, sign_in, screenshot, problems
):
    sign_in(scenario["acwf"])
    page.goto(f"{live_server}/dashboard/trends")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    expect(page.locator("table.heatmap tr[data-department]")).to_have_count(1)
    expect(page.locator("select[name=department]")).to_have_count(0)
    assert _chart_labels(page) == ["全部部门平均", "全国妇联"]
    screenshot("trends-liaison")
    assert problems == []


def test_printed_dashboard_states_judging_day_and_filters(
    page, live_server, scenario, sign_in, screenshot, problems
):
    sign_in(scenario["coordinator"])
    page.goto(f"{live_server}/dashboard?department=moa&role=support&state=red")
    scope = page.locator("#print-scope")
    expect(scope).to_be_hidden()  # the screen shows the filter form instead
    page.emulate_media(media="print")
    expect(scope).to_be_visible()
    expect(scope).to_have_text(
        "判断日期：2024年10月10日；筛选条件：部门 农业农村部；角色 配合；状态 红 · 逾期未报"
    )
    expect(page.locator("form.filters")).to_be_hidden()
    screenshot("dashboard-print")
    assert problems == []
