"""In a real browser: the scorecard's provinces section at a central instance, sorted by a
click on its header."""

from __future__ import annotations

import pytest

from tests.browser.test_every_page_browser import AXE_JS, AXE_SCRIPT, _axe_available
from tests.federation.conftest import with_plans
from tests.federation.provinces import cascade

pytestmark = pytest.mark.browser


def test_the_scorecard_shows_each_provinces_rollup(
    page, browser, live_server, quarter, make_user, sign_in, screenshot
):
    with_plans()
    cascade()
    quarter.at("2024-10-16 10:00")
    sign_in(make_user("coordinator"))
    page.goto(f"{live_server}/dashboard/scorecard?period=2024Q3")
    section = page.locator("#provinces")
    rows = section.locator("tbody tr")
    assert [rows.nth(i).get_attribute("data-member") for i in range(rows.count())] == [
        "130000", "650000", "140000", "210000",
    ]  # fmt: skip
    assert rows.nth(3).locator(".state").inner_text() == "逾期未报"
    assert section.locator("tbody tr[data-member='650000'] td").nth(2).inner_text() == (
        "2024-10-11 00:30"
    )
    section.scroll_into_view_if_needed()
    screenshot("scorecard-provinces")
    with page.expect_navigation():
        section.locator("th a", has_text="迟报工作日").click()
    assert page.url.endswith("#provinces") and "psort=days_late" in page.url
    rows = page.locator("#provinces tbody tr")
    assert rows.first.get_attribute("data-member") == "130000"  # ascending: on time first
    with page.expect_navigation():
        page.locator("#provinces th a", has_text="迟报工作日").click()
    assert page.locator("#provinces tbody tr").first.get_attribute("data-member") == "210000"
    assert page.locator("#provinces th[aria-sort=descending]").count() == 1
    # on a phone the section's table scrolls in its own box; the page stays the screen's width
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    if _axe_available():
        # axe-core is injected as an inline script, which the page's CSP refuses (as it
        # should): the check runs in a context that bypasses it, signed in as the same user
        # (the page crawl does the same).
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 390, "height": 844}, bypass_csp=True,
            storage_state=page.context.storage_state(),
        )  # fmt: skip
        try:
            checked = context.new_page()
            checked.goto(page.url)
            checked.add_script_tag(path=str(AXE_SCRIPT))
            assert checked.evaluate(AXE_JS) == []
        finally:
            context.close()
