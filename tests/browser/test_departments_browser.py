"""In a real browser: an administrator creates a department, renames it, is refused the
deactivation of one with open obligations, deactivates one without through its confirmation
page, and creates a department the import page finds missing, then imports the document."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TEXT = (
    "附件\n任务分工\n"
    "一、开展农村留守妇女专项统计调查。（国家统计总局牵头，民政部、全国妇联按照职责分工负责）\n"
    "二、做好农村留守妇女信访接待工作。（国家信访局牵头，司法部配合）\n"
)


def _department(code):
    from tracker.catalogue.models import Department
    from tracker.extensions import db

    db.session.expire_all()
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def test_manage_departments_and_create_one_from_the_import_page(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    sign_in(make_user("admin", display_name="管理员"))

    # create
    page.goto(f"{live_server}/departments")
    page.click("#new-department")
    expect(page.locator("h1")).to_have_text("新建部门")
    page.fill("input[name=code]", "nbs")
    page.fill("input[name=name]", "国家统计局")
    page.fill("input[name=short_name]", "统计局")
    page.fill("textarea[name=aliases]", "国统局")
    page.click("button:has-text('新建部门')")
    expect(page.locator(".flash-success")).to_contain_text("已新建部门「国家统计局」（代码 nbs）")
    expect(page.locator("h1")).to_have_text("国家统计局")

    # a rename to another department's alias is refused beside the field, input kept
    page.click("#edit-department")
    expect(page.locator("h1")).to_contain_text("修改部门")
    page.fill("input[name=name]", "妇联")
    page.click("button:has-text('保存修改')")
    expect(page.locator(".field.has-error")).to_contain_text("已是部门「全国妇联」的简称或别称")
    expect(page.locator("input[name=name]")).to_have_value("妇联")
    expect(page.locator("input[name=name]")).to_be_focused()
    screenshot("department-rename-refused")

    # rename: the old name stays an alias
    page.fill("input[name=name]", "国家统计总局")
    page.click("button:has-text('保存修改')")
    expect(page.locator(".flash-success")).to_contain_text(
        "已将「国家统计局」改名为「国家统计总局」；旧名称保留为别称。"
    )
    expect(page.locator("h1")).to_have_text("国家统计总局")
    expect(page.locator("main")).to_contain_text("又称：国统局、国家统计局")
    screenshot("department-renamed")

    # open obligations: refused, with how many and which
    page.goto(f"{live_server}/departments/mps")
    expect(page.locator("h1")).to_have_text("公安部")
    page.click("#deactivate-department")
    expect(page.locator(".flash-error")).to_contain_text("「公安部」还有 2 项未办结的填报任务")
    expect(page.locator(".flash-error")).to_contain_text("民发〔2019〕86号第11项（未填报）")
    expect(page.locator("#deactivate-department")).to_be_visible()
    screenshot("department-deactivate-refused")
    assert _department("mps").active

    # none open: the confirmation page, then deactivated
    page.goto(f"{live_server}/departments/nbs")
    page.click("#deactivate-department")
    expect(page.locator("[data-testid=confirmation]")).to_contain_text(
        "将「国家统计总局」标为已停用"
    )
    expect(page.locator("[data-testid=confirmation]")).to_contain_text("它没有启用中的账号。")
    screenshot("department-deactivate-confirm")
    page.click("#confirm-action")
    expect(page.locator(".flash-success")).to_contain_text("已停用「国家统计总局」")
    expect(page.locator("#department-inactive")).to_have_text("已停用")
    assert not _department("nbs").active
    page.goto(f"{live_server}/departments")
    expect(page.locator("tr[data-code=nbs]")).to_have_class("inactive")
    expect(page.locator("tr[data-code=nbs]")).to_contain_text("已停用")
    screenshot("departments-list-inactive")
    page.goto(f"{live_server}/departments/nbs")
    page.click("#activate-department")
    expect(page.locator(".flash-success")).to_contain_text("已重新启用「国家统计总局」")
    expect(page.locator("#deactivate-department")).to_be_visible()

    # the import page offers the missing department, confirms, and continues
    page.goto(f"{live_server}/imports/new")
    page.fill("input[name=number]", "民办函〔2024〕12号")
    page.fill("input[name=title]", "关于进一步做好农村留守妇女关爱服务工作的通知")
    page.fill("input[name=issuer]", "民政部办公厅")
    page.fill("input[name=issued]", "2024-03-15")
    page.fill("textarea[name=text]", TEXT)
    page.click("button:has-text('预览')")
    missing = page.locator("#missing-departments")
    expect(missing).to_contain_text("文件中有 1 个系统中没有的部门")
    expect(missing.locator("tr[data-department=国家信访局]")).to_contain_text("dept15")
    expect(page.locator("#problems")).to_contain_text("无法识别的部门「国家信访局」")
    screenshot("import-missing-department")
    missing.locator("button:has-text('新建此部门')").click()
    confirmation = page.locator("[data-testid=confirmation]")
    expect(confirmation).to_contain_text(
        "新建部门「国家信访局」：代码 dept15，全称 国家信访局，简称 国家信访局，没有别称"
    )
    screenshot("import-create-department-confirm")
    page.click("#confirm-action")
    created = "已新建部门「国家信访局」（代码 dept15）"
    expect(page.locator(".flash-success")).to_contain_text(created)
    expect(page.locator("#missing-departments")).to_have_count(0)
    expect(page.locator("#problems")).to_have_count(0)
    expect(page.locator("tr[data-number='2']")).to_contain_text("国家信访局")
    screenshot("import-after-create-department")
    page.click("button:has-text('确认导入')")
    expect(page.locator(".flash-success")).to_contain_text("已导入 民办函〔2024〕12号，共 2 项任务")
    assert _department("dept15").name == "国家信访局"

    # at phone width the department pages fit the screen
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/departments/nbs", "/departments/nbs/edit", "/departments/new"):
        page.goto(f"{live_server}{path}")
        expect(page.locator("h1")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide"
    page.goto(f"{live_server}/departments/nbs")
    expect(page.locator("#department-admin")).to_be_visible()
    screenshot("department-phone")
