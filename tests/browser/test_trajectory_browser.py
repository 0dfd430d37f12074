"""In a real browser: an indicator's trajectory chart draws under the CSP, beside its table."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import report_value
from tests.delivery.conftest import approved_plan, indicator, task

pytestmark = pytest.mark.browser


@pytest.fixture
def problems(page):
    """Console errors and failed requests of the page (the favicon aside)."""
    found = []
    page.on("console", lambda msg: found.append(msg.text) if msg.type == "error"
            and "Failed to load resource" not in msg.text else None)  # fmt: skip
    page.on("response", lambda r: found.append(f"{r.status} {r.url}") if r.status >= 400
            and not r.url.endswith("/favicon.ico") else None)  # fmt: skip
    return found


def test_the_trajectory_chart_and_table(
    page, live_server, quarter, make_user, sign_in, screenshot, problems
):
    people = {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "coordinator": make_user("coordinator", "mca"),
    }
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    report_value(quarter.obligation(23, "acwf"), key, 1200, people["support"])
    report_value(quarter.obligation(23, "mca"), key, 1300, people["lead"])

    sign_in(people["coordinator"])
    page.goto(f"{live_server}/dashboard/items/{task(23).id}")
    page.click(f"#delivery-indicators tr[data-indicator='{key}'] a")
    page.wait_for_url(f"**/dashboard/items/{task(23).id}/indicators/{key}")
    page.wait_for_selector("canvas#trajectory-chart[data-chart-ready=true]")
    # the canvas holds a drawing, not an empty box
    painted = page.eval_on_selector(
        "canvas#trajectory-chart",
        """c => { const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
                  let n = 0;
                  for (let k = 3; k < d.length; k += 4) { if (d[k]) n++; }
                  return n; }""",
    )
    assert painted > 1000
    row = page.locator("#trajectory-table tr[data-period='2024Q3']")
    assert row.locator("td[data-department=acwf]").inner_text() == "1,200"
    assert row.locator("td[data-column=combined]").inner_text().startswith("2,500")
    # 0 (2019-05-01) → 100 (2027-12-31), read on 2024-09-30: 62.5079, shown as whole 个
    assert row.locator("td[data-column=planned]").inner_text() == "63"
    assert row.locator("td[data-department=mca]").inner_text() == "1,300"
    assert page.locator("#trajectory-table tr.target td[data-column=planned]").inner_text() == "100"
    # the x axis is linear in days: the chart's x scale, and a tick at each 1 January
    axis = page.evaluate(
        """() => { const c = Chart.getChart(document.querySelector('#trajectory-chart'));
                   const x = c.scales.x;
                   return {type: x.type, ticks: x.ticks.map(t => x.getLabelForValue
                     ? c.options.scales.x.ticks.callback(t.value) : t.value)}; }"""
    )
    assert axis["type"] == "linear"
    assert axis["ticks"] == [f"{y}年" for y in range(2020, 2028)]
    screenshot("dashboard-indicator-trajectory")
    assert problems == []
