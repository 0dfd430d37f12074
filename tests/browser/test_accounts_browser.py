"""In a real browser: an administrator creates a liaison's account, who signs in with the
one-time password, must change it, and is then at work; the security administrator unlocks
a locked account (三员分立: the system administrator cannot)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_create_an_account_and_sign_in_with_its_one_time_password(
    browser, page, live_server, seeded, make_user, sign_in, sign_out, screenshot
):
    sign_in(make_user("admin"))
    page.click("nav >> text=用户管理")
    page.fill("input[name=username]", "wangwu")
    page.fill("input[name=display_name]", "王五")
    page.select_option("select[name=role]", "liaison")
    page.select_option("select[name=department]", label="公安部")
    page.click("button:has-text('创建账号')")
    password = page.locator("[data-testid=one-time-password]").inner_text().strip()
    screenshot("accounts-created")
    assert page.locator("tr[data-username=wangwu]").inner_text().count("待改密码") == 1

    liaison = browser.new_context(locale="zh-CN").new_page()
    liaison.goto(f"{live_server}/login")
    liaison.fill("input[name=username]", "wangwu")
    liaison.fill("input[name=password]", password)
    liaison.click("button[type=submit]")
    assert liaison.url.endswith("/password")  # a one-time password is changed first
    liaison.fill("input[name=current_password]", password)
    liaison.fill("input[name=new_password]", "Own-pass-for-w1")
    liaison.fill("input[name=confirm]", "Own-pass-for-w1")
    liaison.click("main button.primary")  # not the sign-out button in the top bar
    expect(liaison.locator("body")).to_contain_text("密码已修改")
    expect(liaison.locator("body")).to_contain_text("公安部")

    other = browser.new_context(locale="zh-CN").new_page()
    for _ in range(5):
        other.goto(f"{live_server}/login")
        other.fill("input[name=username]", "wangwu")
        other.fill("input[name=password]", "a-wrong-guess")
        other.click("button[type=submit]")
    expect(other.locator("body")).to_contain_text("登录失败次数过多")
    page.goto(f"{live_server}/admin/users")  # not reload: that would post the form again
    row = page.locator("tr[data-username=wangwu]")
    assert "登录锁定至" in row.inner_text()
    assert row.locator("button:has-text('解除锁定')").count() == 0  # not the system admin's

    sign_out()
    sign_in(make_user("security_admin"))
    assert page.url.endswith("/admin/users")  # the security administrator's landing page
    expect(page.locator("body")).not_to_contain_text("新建账号")
    row = page.locator("tr[data-username=wangwu]")
    row.locator("button:has-text('解除锁定')").click()
    expect(page.locator("body")).to_contain_text("已解除 wangwu 的登录锁定")
    expect(page.locator("tr[data-username=wangwu]")).not_to_contain_text("登录锁定至")
    screenshot("security-users")
