"""In a real browser: a user sees where they are signed in and ends another browser's
session; a user with a one-time password is made to change it, the rules named beside the
field until the new one meets them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _sign_in_elsewhere(browser, live_server, user):
    other = browser.new_context(locale="zh-CN", user_agent="Another Browser/9.0").new_page()
    other.goto(f"{live_server}/login")
    other.fill("input[name=username]", user.username)
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    expect(other.locator("header .who")).to_contain_text(user.display_name)
    return other


def test_see_ones_sessions_and_end_another(
    browser, page, live_server, seeded, make_user, sign_in, screenshot
):
    user = make_user("liaison", "mps", display_name="赵六")
    other = _sign_in_elsewhere(browser, live_server, user)
    sign_in(user)
    page.click("header >> text=登录会话")
    expect(page.locator("h1")).to_have_text("登录会话")
    rows = page.locator("#sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#sessions tr.current")).to_contain_text("当前会话")
    expect(page.locator("#sessions")).to_contain_text("Another Browser/9.0")
    screenshot("sessions-page")

    page.locator("#sessions tr:not(.current) button:has-text('结束')").click()
    expect(page.locator("h1")).to_contain_text("确认结束这个会话")
    expect(page.locator("main")).to_contain_text("Another Browser/9.0")
    screenshot("sessions-confirm")
    page.click("button:has-text('确认结束会话')")
    expect(page.locator("body")).to_contain_text("该会话已结束")
    expect(rows).to_have_count(1)
    screenshot("sessions-after")

    other.goto(f"{live_server}/tasks")
    expect(other.locator("h1")).to_have_text("登录")  # that browser is signed out
    other.context.close()


def test_a_one_time_password_must_be_changed_by_the_rules(
    page, live_server, seeded, make_user, sign_in, screenshot
):
    user = make_user("liaison", "mps", username="sunqi", must_change_password=True)
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#must-change")).to_contain_text("一次性密码")
    page.goto(f"{live_server}/tasks")  # any other page leads back here
    expect(page.locator("#must-change")).to_be_visible()

    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "sunqi-password")
    page.fill("input[name=confirm]", "sunqi-password")
    page.click("main button.primary")
    errors = page.locator("#password-form")
    expect(errors).to_contain_text("至少 3 类")
    expect(errors).to_contain_text("不能包含用户名")
    screenshot("password-rules-refused")

    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "Quarter-report-27")
    page.fill("input[name=confirm]", "Quarter-report-27")
    page.click("main button.primary")
    expect(page.locator("body")).to_contain_text("密码已修改")
    page.goto(f"{live_server}/tasks")
    expect(page.locator("#must-change")).to_have_count(0)
    expect(page).to_have_url(f"{live_server}/tasks")


def test_the_security_admin_signs_a_user_out_everywhere(
    browser, page, live_server, seeded, make_user, sign_in, screenshot
):
    user = make_user("liaison", "mps", display_name="钱八")
    other = _sign_in_elsewhere(browser, live_server, user)
    sign_in(make_user("security_admin", display_name="安全员"))
    nav = page.locator("nav.mainnav")
    expect(nav).to_contain_text("安全策略")
    expect(nav).not_to_contain_text("看板")
    page.click("nav.mainnav >> text=安全策略")
    expect(page.locator("h1")).to_have_text("安全策略")
    expect(page.locator("main")).to_contain_text("TRACKER_SESSION_IDLE_MINUTES")
    screenshot("security-policy")

    page.click("nav.mainnav >> text=用户管理")
    row = page.locator(f"tr[data-username='{user.username}']")
    expect(row.locator("[data-col=sessions]")).to_have_text("1")
    row.locator("button:has-text('强制下线')").click()
    expect(page.locator("h1")).to_contain_text("确认强制")
    screenshot("end-access-confirm")
    page.click("button:has-text('确认强制下线')")
    expect(page.locator("body")).to_contain_text("已在所有设备上退出登录")
    expect(row.locator("[data-col=sessions]")).to_have_text("0")
    screenshot("end-access-done")

    other.goto(f"{live_server}/tasks")
    expect(other.locator("h1")).to_have_text("登录")
    other.context.close()
