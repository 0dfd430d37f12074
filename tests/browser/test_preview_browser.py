"""In a real browser: the provincial coordinator opens 上报预览 from the adoption page, reads
what the quarter's roll-up will carry, and presses 上报 there."""

from __future__ import annotations

import pytest

from tests.federation import conftest as cascade
from tests.federation import test_county_rollup, test_province
from tests.federation.test_county_rollup import _enter

pytestmark = pytest.mark.browser

centre, provincial, province = cascade.centre, cascade.provincial, cascade.province
quarter_filed = test_province.quarter_filed
ledger_province = test_county_rollup.ledger_province


def test_the_coordinator_previews_and_then_reports_up(ledger_province, page, live_server,
                                                       sign_in, screenshot):  # fmt: skip
    adoption, keys, coordinator = ledger_province
    _enter(coordinator, "130102", {keys[0]: 1, keys[1]: 3})
    _enter(coordinator, "130202", {keys[0]: 1})
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(coordinator)
    page.goto(f"{live_server}/federation/adoptions/{adoption.id}")
    with page.expect_navigation():
        page.click("#preview-link")
    assert page.locator("h1").inner_text().endswith("上报预览 · 2024年第三季度")
    item = page.locator("section[data-item='23']")
    assert "（3 个单位报送）" in item.locator("h2").inner_text()
    text = item.inner_text()
    assert "（县级台账合计，2/5 县已报）" in text and "（县级台账合计，1/5 县已报）" in text
    assert "完成县级摸底排查：部分完成" in text
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    screenshot("federation-preview")
    with page.expect_navigation():
        page.click("#preview-state button[type=submit]")
    assert "第 1 版已进入上报队列" in page.locator(".flash").inner_text()
    assert "第 1 版" in page.locator("#pushes tbody").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/federation/adoptions/{adoption.id}/preview?period=2024Q3")
    assert "第 2 版" in page.locator("#consolidated").inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_an_unconsolidated_quarter_names_what_is_missing(
    quarter_filed, page, live_server, sign_in, make_user, screenshot
):
    adoption, _, _ = quarter_filed
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(make_user("coordinator", "hb-mca"))
    page.goto(f"{live_server}/federation/adoptions/{adoption.id}/preview?period=2024Q3")
    missing = page.locator("#not-consolidated li")
    assert missing.all_inner_texts() == [
        "第23项 省民政厅 的牵头报告尚未报送", "第24项 省公安厅 的牵头报告尚未报送",
    ]  # fmt: skip
    assert page.locator("#nothing-yet").is_visible()
    assert page.locator("#preview-state button").count() == 0
    screenshot("federation-preview-unconsolidated")
    page.fill("input[name=period]", "2024Q7")
    with page.expect_navigation():
        page.click("#preview-period button")
    assert page.locator("#period-error").inner_text() == "应为 年份+Q+季度，如 2026Q3"
    assert page.locator("input[name=period]").get_attribute("aria-invalid") == "true"
