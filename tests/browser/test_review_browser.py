"""In a real browser: accepting untouched confirms the self-rating; the coordinator reopens
with a reason and corrects the rating; a liaison withdraws a report just submitted."""

from __future__ import annotations

import pytest

from tracker.extensions import db
from tracker.reports.models import Report

pytestmark = pytest.mark.browser


def _submit(page, live_server, obligation, status, progress):
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    page.select_option("select[name=status]", status)
    page.fill("textarea[name=progress]", progress)
    page.click("input[name=save_and_submit]")
    assert "已报送待审核" in page.inner_text("#state")


def _report(obligation) -> Report:
    db.session.expire_all()
    return db.session.get(Report, obligation.report.id)


def test_accept_untouched_reopen_correct_and_withdraw(
    page, sign_out, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    reviewed, withdrawn = quarter.obligation(5, "mca"), quarter.obligation(1, "mca")

    sign_in(liaison)
    _submit(page, live_server, reviewed, "in_progress", "已在 1200 个村开展关爱服务。")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/obligations/{reviewed.id}")
    select = "#review select[name=confirmed_status]"
    assert page.input_value(select) == "in_progress"  # the department's own rating
    screenshot("review-accept-form")
    page.click("#accept-report")  # the rating untouched
    assert "已审核通过" in page.inner_text("#state")
    assert "推进中" in page.inner_text("#report")
    assert _report(reviewed).confirmed_status.value == "in_progress"
    screenshot("review-accepted-untouched")

    page.fill("#reopen textarea[name=reason]", "   ")  # passes the browser's check, not ours
    page.click("#reopen-report")
    assert "请填写重新打开的理由" in page.inner_text("#reopen")
    screenshot("review-reopen-refused")
    assert _report(reviewed).state.value == "accepted"
    page.fill("#reopen textarea[name=reason]", "该项已全面完成，应核定为已完成。")
    page.click("#reopen-report")
    assert "已报送待审核" in page.inner_text("#state")
    screenshot("review-reopened")

    page.select_option(select, "completed")
    page.click("#accept-report")
    assert "已审核通过" in page.inner_text("#state")
    assert "与自评不一致" in page.inner_text("#report")
    assert _report(reviewed).confirmed_status.value == "completed"
    screenshot("review-corrected")
    sign_out()

    sign_in(liaison)
    _submit(page, live_server, withdrawn, "completed", "已完成全部摸底排查。")
    screenshot("review-just-submitted")
    page.click("#withdraw-report")
    assert "报告已撤回为草稿" in page.inner_text(".flash")
    assert "草稿" in page.inner_text("#state")
    assert page.locator("#edit-report").is_visible()
    assert _report(withdrawn).state.value == "draft"
    screenshot("review-withdrawn")
