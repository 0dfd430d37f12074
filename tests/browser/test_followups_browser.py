"""In a real browser: a coordinator urges, the liaison acknowledges, asks for an extension (a
refused date keeps the reason typed), the coordinator approves it on the extensions page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_urge_acknowledge_extension_round(
    page, sign_out, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mps", display_name="公安部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    obligation = quarter.obligation(11, "mps")
    url = f"{live_server}/obligations/{obligation.id}"

    sign_in(coordinator)
    page.goto(url)
    page.fill("#urge-form textarea[name=message]", "请于本周内报送第11项进展。")
    page.click("#urge-form button[type=submit]")
    assert "已催办" in page.inner_text(".flash")
    sign_out()

    sign_in(liaison)
    page.goto(url)
    assert "请于本周内报送第11项进展。" in page.inner_text("#urges")
    page.click("#urges button.acknowledge")
    assert "已签收催办" in page.inner_text(".flash")
    # The extension form is collapsed until asked for.
    assert not page.is_visible("#extension-form")
    page.click("#extension-request summary")
    # 2024-10-13 is a Sunday (the 12th was a make-up working day): refused, the reason kept
    page.fill("#extension-form input[name=requested_due_date]", "2024-10-13")
    page.fill("#extension-form textarea[name=reason]", "需汇总各省数据，申请延期一周。")
    page.click("#extension-form button[type=submit]")
    # the message stands beside the date, which has focus and so is in view
    date_field = page.locator("#extension-form input[name=requested_due_date]")
    expect(page.locator("#extension-form #requested_due_date-error")).to_contain_text("不是工作日")
    expect(date_field).to_be_focused()
    expect(date_field).to_be_in_viewport()
    assert (
        page.input_value("#extension-form textarea[name=reason]")
        == "需汇总各省数据，申请延期一周。"
    )
    screenshot("followups-extension-refused")
    page.fill("#extension-form input[name=requested_due_date]", "2024-10-17")
    page.click("#extension-form button[type=submit]")
    assert "延期申请已提交" in page.inner_text(".flash")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/extensions")
    screenshot("followups-extensions-pending")
    page.click("#pending form.decision button.primary")
    assert "已批准延期" in page.inner_text(".flash")
    page.goto(url)
    assert "2024-10-17" in page.inner_text("#extensions")
    screenshot("followups-obligation-after")
