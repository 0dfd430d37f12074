"""In a real browser: an administrator edits an account, reads the contact directory and
deactivates an account through its confirmation page (no script needed)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_edit_a_user_read_the_directory_and_confirm_a_deactivation(
    page, live_server, seeded, make_user, sign_in, sign_out, screenshot
):
    from tracker.auth.models import User
    from tracker.extensions import db

    admin = make_user("admin", display_name="管理员")
    liaison = make_user("liaison", "mps", display_name="旧名字")
    sign_in(admin)

    page.goto(f"{live_server}/admin/users/{liaison.id}/edit")
    page.fill("input[name=phone]", "010 6626")  # a space: refused beside the field
    page.click("button:has-text('保存修改')")
    expect(page.locator(".field.has-error")).to_contain_text("联系电话只能含数字")
    expect(page.locator("input[name=phone]")).to_be_focused()
    screenshot("admin-user-edit-refused")
    page.fill("input[name=display_name]", "王联络")
    page.fill("input[name=phone]", "010-66261234")
    page.fill("input[name=email]", "wang@example.org")
    page.click("button:has-text('保存修改')")
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    expect(page.locator(f"tr[data-username={liaison.username}]")).to_contain_text("010-66261234")

    page.goto(f"{live_server}/departments")
    page.click("#all-contacts")
    expect(page.locator("#contacts")).to_contain_text("王联络")
    expect(page.locator("#contacts")).to_contain_text("010-66261234")
    screenshot("admin-contacts")

    page.goto(f"{live_server}/admin/users")
    page.locator(f"tr[data-username={liaison.username}] button:has-text('停用')").click()
    expect(page.locator("[data-testid=confirmation]")).to_contain_text("其已登录的会话随即失效")
    screenshot("admin-confirm-deactivate")
    page.click("#cancel-action")  # cancel first: nothing happened
    expect(page.locator(f"tr[data-username={liaison.username}]")).to_contain_text("启用")
    db.session.expire_all()
    assert db.session.get(User, liaison.id).active
    page.locator(f"tr[data-username={liaison.username}] button:has-text('停用')").click()
    page.click("#confirm-action")
    expect(page.locator(".flash-success")).to_contain_text(f"已停用 {liaison.username}")
    expect(page.locator(f"tr[data-username={liaison.username}]")).to_contain_text("已停用")
    db.session.expire_all()
    assert not db.session.get(User, liaison.id).active
