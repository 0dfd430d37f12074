"""In a real browser: the administrator turns 民政部's sign-off on; its liaison fills item 5
and sends it for sign-off; the approver returns it (a missing reason is refused, what was
typed kept), the liaison revises and sends it again, the approver signs it off, and the
coordinator reads who signed it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_report_signed_off_inside_the_department(
    page, live_server, quarter, make_user, sign_in, sign_out, screenshot
):
    liaison = make_user("liaison", "mca", username="zhang", display_name="张联络")
    approver = make_user("approver", "mca", username="wang", display_name="王处长",
                         phone="010-58123456")  # fmt: skip
    obligation = quarter.obligation(5, "mca")
    page_url = f"{live_server}/obligations/{obligation.id}"

    sign_in(make_user("admin"))
    page.goto(f"{live_server}/departments/mca/edit")
    page.select_option("select[name=signoff]", "on")
    page.click("button:has-text('保存修改')")
    expect(page.locator(".flash-success")).to_contain_text("已保存")
    sign_out()

    sign_in(liaison)
    page.goto(f"{page_url}/edit")
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", "已在 12 个省份部署关爱服务。")
    expect(page.locator("input[name=save_and_submit]")).to_have_value("保存并送审")
    page.click("input[name=save_and_submit]")
    expect(page.locator(".flash-success")).to_contain_text("报告已送审")
    expect(page.locator("#state")).to_contain_text("待本部门审核签发")
    expect(page.locator("#edit-report")).to_have_count(0)
    screenshot("signoff-1-sent")
    sign_out()

    sign_in(approver)
    page.goto(live_server + "/")
    expect(page.locator("[data-todo=awaiting-approval]")).to_contain_text("待您审核签发")
    page.locator("[data-todo=awaiting-approval] a", has_text="第5项").first.click()
    expect(page.locator("#signoff")).to_contain_text("张联络")
    page.click("#return-to-liaison")  # no reason: refused beside the field
    expect(page.locator("#signoff-return-form .field.has-error")).to_contain_text("请填写退回理由")
    page.fill("textarea[name=reason]", "请补充培训人次。")
    screenshot("signoff-2-approver")
    page.click("#return-to-liaison")
    expect(page.locator(".flash-success")).to_contain_text("已退回联络员修改")
    sign_out()

    sign_in(liaison)
    page.goto(page_url)
    expect(page.locator("#signoff-return-reason")).to_contain_text("请补充培训人次。")
    page.click("#edit-report")
    page.fill("textarea[name=progress]", "已在 12 个省份部署关爱服务，培训 1200 人次。")
    page.click("input[name=save_and_submit]")
    expect(page.locator(".flash-success")).to_contain_text("报告已送审")
    sign_out()

    sign_in(approver)
    page.goto(page_url)
    page.click("#approve-report")
    expect(page.locator(".flash-success")).to_contain_text("已审核签发")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    expect(page.locator("#signoff-state")).to_contain_text("王处长")
    sign_out()

    sign_in(make_user("coordinator", "mca"))
    page.goto(page_url)
    expect(page.locator("#signoff-state")).to_contain_text("审核人：王处长（010-58123456）")
    expect(page.locator("#review")).to_be_visible()
    screenshot("signoff-3-coordinator")
