"""In a real browser: each role lands on its page with its to-do block on top, and each entry
leads to where the work is done."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tracker.extensions import db
from tracker.followups import services as followups
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

pytestmark = pytest.mark.browser


def test_each_role_lands_on_its_to_do(page, live_server, quarter, make_user, sign_in, sign_out,
                                      screenshot):  # fmt: skip
    mca, mps = make_user("liaison", "mca"), make_user("liaison", "mps")
    coordinator, admin = make_user("coordinator", "mca"), make_user("admin")
    report = services.save_draft(
        quarter.obligation(5, "mca"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展工作。"),
        actor=mca, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=mca)
    followups.urge_obligation(quarter.obligation(11, "mps"), actor=coordinator)
    db.session.commit()

    sign_in(coordinator)
    todo = page.locator("#todo")
    expect(todo).to_contain_text("待审核报告")
    screenshot("home-coordinator")
    todo.locator("[data-todo=review] ul a").first.click()
    expect(page.locator("#review")).to_contain_text("审核通过")
    sign_out()

    sign_in(mps)
    expect(page.locator("#todo [data-todo=urges]")).to_contain_text("待签收催办")
    expect(page.locator("#todo [data-todo=supporting]")).to_contain_text("司法部")
    screenshot("home-liaison")
    page.locator("#todo [data-todo=supporting] ul a").first.click()
    expect(page.locator("#consolidation")).to_contain_text("尚未报送")
    sign_out()

    sign_in(admin)
    expect(page.locator("h1")).to_contain_text("系统管理")
    expect(page.locator("#todo [data-todo=never-signed-in]")).to_contain_text("从未登录的账号")
    screenshot("home-admin")
