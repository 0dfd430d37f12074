"""In a real browser: the auditor lands on the audit trail, filters it, is told about a wrong
date with the input kept, and pages back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tracker.audit.models import Outcome
from tracker.audit.services import record_event
from tracker.extensions import db

pytestmark = pytest.mark.browser


def test_the_auditor_filters_the_trail(page, live_server, seeded, make_user, sign_in,
                                       screenshot):  # fmt: skip
    liaison = make_user("liaison", "mca", display_name="李联络")
    for n in range(60):
        record_event("report.save", actor=liaison, object_type="report", object_id=n)
    record_event("user.login", actor=liaison, object_type="user", object_id=liaison.id,
                 outcome=Outcome.FAILURE, after={"username": liaison.username})  # fmt: skip
    db.session.commit()
    sign_in(make_user("auditor", display_name="审计员"))
    expect(page).to_have_url(f"{live_server}/audit")
    expect(page.locator("#audit-rows tbody tr")).to_have_count(50)
    page.fill("input[name=start]", "2026-02-30")
    page.click("button:has-text('筛选')")
    expect(page.locator(".field.has-error")).to_contain_text("起始日期应为日期")
    expect(page.locator("input[name=start]")).to_have_value("2026-02-30")
    expect(page.locator("input[name=start]")).to_be_focused()
    screenshot("audit-refused-date")
    page.fill("input[name=start]", "")
    page.fill("input[name=actor]", liaison.username)
    page.select_option("select[name=outcome]", "failure")
    page.click("button:has-text('筛选')")
    rows = page.locator("#audit-rows tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("user.login")
    expect(rows.first).to_contain_text("失败")
    expect(rows.first).to_contain_text("民政部")
    screenshot("audit-filtered")
    page.select_option("select[name=outcome]", "")
    page.fill("input[name=operation]", "report.save")
    page.click("button:has-text('筛选')")
    expect(rows).to_have_count(50)
    page.click("a[rel=next]")
    expect(rows).to_have_count(10)
    expect(page.locator("input[name=operation]")).to_have_value("report.save")
    expect(page.locator("a[rel=next]")).to_have_count(0)
    screenshot("audit-second-page")
