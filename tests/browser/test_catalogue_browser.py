"""In a real browser: sign in, open the catalogue, see all 23 items and item 11's lead."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_catalogue_in_the_browser(page, live_server, seeded, make_user, sign_in, screenshot):
    sign_in(make_user("liaison", "mps"))
    page.goto(f"{live_server}/tasks")
    rows = page.locator("table.tasks tbody tr[data-number]")
    assert rows.count() == 23
    item11 = page.locator('tr[data-number="11"]')
    assert "公安部 · 牵头" in item11.inner_text()
    path = screenshot("catalogue")
    assert path.stat().st_size > 10_000
    page.select_option("select[name=department]", "mps")
    page.click("form.filters button[type=submit]")
    assert page.locator("table.tasks tbody tr[data-number]").count() == 2


def test_login_form_rejects_wrong_password(page, live_server, make_user):
    user = make_user("viewer")
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_contain_text("用户名或密码不正确")
