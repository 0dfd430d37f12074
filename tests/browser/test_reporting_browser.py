"""In a real browser: a liaison drafts and submits, a coordinator returns it with a reason,
the liaison resubmits, the coordinator accepts."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_draft_submit_return_resubmit_accept(
    page, sign_out, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    obligation = quarter.obligation(5, "mca")

    sign_in(liaison)
    page.goto(f"{live_server}/reports")
    page.click(f'tr[data-obligation="{obligation.id}"] a')
    page.click("#edit-report")
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", "已指导 1200 个村将关爱服务纳入村规民约。")
    page.fill("textarea[name=problems]", "部分村经费不足。")
    page.fill("input[name='figures-0-name']", "覆盖村数")
    page.fill("input[name='figures-0-value']", "1200")
    page.fill("input[name='figures-0-unit']", "个")
    page.click("input[name=save]")
    assert "草稿已保存" in page.inner_text(".flash")
    page.click("#submit-report")
    assert "已报送待审核" in page.inner_text("#state")
    screenshot("report-submitted")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/reports/review")
    page.click(f'tr[data-obligation="{obligation.id}"] a')
    page.fill("#review textarea[name=reason]", "请补充经费保障措施。")
    page.click("#return-report")
    assert "已退回" in page.inner_text("#state")
    sign_out()

    sign_in(liaison)
    page.goto(f"{live_server}/reports")
    assert "请补充经费保障措施。" in page.inner_text(".returned-list")
    page.goto(f"{live_server}/obligations/{obligation.id}")
    assert "请补充经费保障措施。" in page.inner_text("#return-reason")
    page.click("#edit-report")
    page.fill("textarea[name=next_steps]", "协调地方财政安排专项经费。")
    page.click("input[name=save_and_submit]")
    assert "已报送待审核" in page.inner_text("#state")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/obligations/{obligation.id}")
    page.select_option("#review select[name=confirmed_status]", "in_progress")
    page.click("#accept-report")
    assert "已审核通过" in page.inner_text("#state")
    history = page.inner_text("#history")
    for action in ("保存", "报送", "退回", "重新报送", "审核通过"):
        assert action in history
    screenshot("report-accepted")
