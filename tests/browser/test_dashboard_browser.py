"""In a real browser: the dashboard's colours with their labels, the department filter, charts."""

from __future__ import annotations

import pytest

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


def test_matrix_colours_and_department_filter(
    page, live_server, scenario, sign_in, screenshot, problems
):
    sign_in(scenario["coordinator"])
    page.goto(f"{live_server}/dashboard")
    matrix = page.locator("table.matrix")
    assert matrix.locator("td.cell .rag").count() == 74
    red = page.locator('tr[data-number="3"] td[data-department="mct"] .rag')
    assert "state-red" in red.get_attribute("class") and red.inner_text() == "配 逾期2"
    green = page.locator('tr[data-number="11"] td[data-department="moj"] .rag')
    assert "state-green" in green.get_attribute("class") and green.inner_text() == "配 通过·迟"
    grey = page.locator('tr[data-number="11"] td[data-department="moa"] .rag')
    assert "state-grey" in grey.get_attribute("class") and grey.inner_text() == "配 豁免"
    # The colours are really painted (not just class names): red cells on a red background.
    background = red.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(253, 226, 223)"
    assert page.locator("ul.legend").inner_text().count("：") >= 5
    path = screenshot("dashboard")
    assert path.stat().st_size > 20_000

    page.select_option("select[name=department]", "acwf")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    departments = set(page.locator("table.matrix td.cell").evaluate_all(
        "cells => cells.map(c => c.dataset.department)"))  # fmt: skip
    assert departments == {"acwf"}
    assert page.locator("table.matrix td.cell .rag").count() == 18
    assert problems == []


def test_trend_chart_draws_under_the_csp(
    page, live_server, scenario, sign_in, screenshot, problems
):
    sign_in(scenario["coordinator"])
    page.goto(f"{live_server}/dashboard/trends")
    page.wait_for_selector("canvas[data-chart-ready=true]")
    assert page.locator("table.trend tr[data-department]").count() == 13
    screenshot("dashboard-trends")
    page.emulate_media(media="print")
    assert page.locator("table.trend").is_visible()
    assert problems == []


def test_department_view_for_a_liaison(page, live_server, scenario, sign_in, screenshot, problems):
    sign_in(scenario["acwf"])
    page.goto(f"{live_server}/dashboard")
    assert page.locator("select[name=department]").count() == 0  # pinned to 全国妇联
    departments = set(page.locator("table.matrix td.cell").evaluate_all(
        "cells => cells.map(c => c.dataset.department)"))  # fmt: skip
    assert departments == {"acwf"}
    lead = page.locator('table.lead-items tr[data-number="18"]')
    assert "逾期未报（2个工作日）" in lead.inner_text()  # the four supporting inputs are late
    assert page.locator("table.scorecard tr[data-rank]").inner_text().startswith("3 / 13")
    screenshot("dashboard-department")
    page.goto(f"{live_server}/dashboard/scorecard")
    assert page.locator("table.scorecard tbody tr").count() == 1
    assert page.locator("canvas").count() == 0  # one department's rate is its row, not a bar
    assert problems == []
