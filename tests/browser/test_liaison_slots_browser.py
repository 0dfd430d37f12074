"""In a real browser: an administrator names a department's A and B liaisons, then
deactivates the A liaison, who holds a draft, handing the work to the B liaison; the
coordinator's to-do lists a department left with no liaison."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.dashboard.conftest import draft

pytestmark = pytest.mark.browser


def _user(username):
    from tracker.auth.models import User
    from tracker.extensions import db

    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_a_and_b_liaisons_and_the_handover(
    page, live_server, quarter, make_user, sign_in, sign_out, screenshot
):
    a = make_user("liaison", "mohrss", username="zhangsan", display_name="张三")
    make_user("liaison", "mohrss", username="lisi", display_name="李四")
    lone = make_user("liaison", "mps", username="wangwu", display_name="王五")
    draft(quarter.obligation(3, "mohrss"), a)
    from tracker.extensions import db

    db.session.commit()
    sign_in(make_user("admin", display_name="管理员"))

    page.goto(f"{live_server}/departments/mohrss")
    page.click("#edit-liaisons")
    expect(page.locator("h1")).to_contain_text("A角、B角联络员")
    page.select_option("select[name=main]", label="张三（zhangsan）")
    page.select_option("select[name=alternate]", label="张三（zhangsan）")
    page.click("button:has-text('保存')")
    expect(page.locator(".field.has-error")).to_contain_text("A角和B角不能是同一人")
    expect(page.locator("select[name=main]")).to_have_value(str(a.id))  # kept
    screenshot("liaison-slots-refused")
    page.select_option("select[name=alternate]", label="李四（lisi）")
    page.click("button:has-text('保存')")
    expect(page.locator(".flash-success")).to_contain_text("已保存A角、B角联络员")
    expect(page.locator("#liaison-slots")).to_contain_text("A角（主要联络员）：张三")
    expect(page.locator("#liaison-slots")).to_contain_text("B角（备用联络员）：李四")
    screenshot("liaison-slots-department")

    page.goto(f"{live_server}/admin/users")
    row = page.locator("tr", has_text="zhangsan")
    row.locator("button:has-text('停用')").click()
    expect(page.locator("[data-testid=confirmation]")).to_contain_text("第3项")
    page.click("#confirm-action")  # nothing chosen: the browser's required select stops it
    expect(page.locator("[data-testid=confirmation]")).to_be_visible()
    page.select_option("select[name=successor]", label="李四（lisi）")
    screenshot("liaison-handover-confirm")
    page.click("#confirm-action")
    expect(page.locator(".flash-success")).to_contain_text("其工作已交接给 李四（lisi）")
    assert not _user("zhangsan").active and _user("lisi").liaison_slot == "main"

    page.goto(f"{live_server}/admin/users")
    page.locator("tr", has_text="wangwu").locator("button:has-text('停用')").click()
    page.click("#confirm-action")
    expect(page.locator(".flash-success")).to_contain_text("已停用 wangwu")
    assert not _user(lone.username).active

    coordinator = make_user("coordinator", "mca", display_name="协调员")
    sign_out()
    sign_in(coordinator)
    page.goto(f"{live_server}/dashboard")
    todo = page.locator("[data-todo=unstaffed]")
    expect(todo).to_contain_text("无在岗联络员的部门")
    expect(todo).to_contain_text("公安部")
    screenshot("liaison-unstaffed-todo")
