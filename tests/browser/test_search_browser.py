"""In a real browser: search from the top navigation of any page, filter, see the matches
marked in context, grouped into items and reports, and follow a report to its page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.search.conftest import draft

pytestmark = pytest.mark.browser


def test_search_from_the_navigation(page, live_server, quarter, make_user, sign_in, screenshot):
    liaison = make_user("liaison", "moj")
    text = "组织农村留守妇女参加法律援助培训，<b>覆盖</b>留守妇女 300 人。"
    draft(quarter.obligation(11, "moj"), liaison, text,
          figures=[("留守妇女法律咨询", "120", "人次")])  # fmt: skip
    sign_in(liaison)
    page.goto(f"{live_server}/tasks")
    page.fill("#nav-q", "留守妇女")
    with page.expect_navigation(wait_until="load"):
        page.press("#nav-q", "Enter")
    reports = page.locator("#report-results")
    expect(reports).to_contain_text("第11项 · 司法部 · 2024年第三季度")  # the label, not the key
    expect(reports.locator("mark").first).to_have_text("留守妇女")
    expect(reports).to_contain_text("<b>覆盖</b>")  # user text shown as text, not as markup
    expect(reports).to_contain_text("关键数据：留守妇女法律咨询 120 人次")
    expect(page.locator("#task-results")).to_contain_text("第1项")
    assert page.locator("#task-results mark").count() > 3
    path = screenshot("search")
    assert path.stat().st_size > 10_000

    page.fill("input[name=item]", "11")
    with page.expect_navigation(wait_until="load"):
        page.click("form[role=search].filters button[type=submit]")
    expect(page.locator("#task-results")).to_contain_text("第11项")
    assert page.locator("#task-results .hit").count() == 1

    with page.expect_navigation(wait_until="load"):
        page.click("#report-results .hit h3 a")
    expect(page.locator("h1")).to_contain_text("第11项 · 司法部")

    page.fill("#nav-q", "，。")
    with page.expect_navigation(wait_until="load"):
        page.press("#nav-q", "Enter")
    expect(page.locator("#search-errors")).to_contain_text("不能只有标点符号")
