"""In a real browser: the lead's liaison proposes item 23's plan (a refused date keeps what was
typed), a 民政部 coordinator approves it from the queue, and the item page shows it in force."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tracker.catalogue.models import Department
from tracker.extensions import db

pytestmark = pytest.mark.browser


def test_a_lead_liaison_proposes_and_a_coordinator_approves(
    page, sign_out, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    acwf = db.session.scalar(sa.select(Department).where(Department.code == "acwf"))

    sign_in(liaison)
    page.click("nav.mainnav >> text=落实计划")
    page.click("#plannable >> text=第23项")
    page.click("#propose-plan")
    page.fill("#milestones-0-title", "完成县级摸底排查")
    page.select_option("#milestones-0-due_period", label="2025年第二季度")
    page.select_option("#milestones-0-department", label="民政部")
    page.fill("#indicators-0-name", "已完成摸底排查的县")
    page.fill("#indicators-0-unit", "个")
    page.fill("#indicators-0-baseline_value", "0")
    page.fill("#indicators-0-baseline_date", "2019-05-01")
    page.fill("#indicators-0-target_value", "2800")
    page.fill("#indicators-0-target_date", "2019-01-01")  # before the baseline: refused
    page.check(f"#indicators-0-departments input[value='{acwf.id}']")
    page.click("#plan-form button[type=submit], #plan-form input[type=submit]")
    expect(page.locator("#indicators-0-target_date-error")).to_contain_text(
        "目标日期应晚于基线日期"
    )
    assert page.input_value("#milestones-0-title") == "完成县级摸底排查"  # kept
    assert page.is_checked(f"#indicators-0-departments input[value='{acwf.id}']")
    screenshot("delivery-plan-refused")
    page.fill("#indicators-0-target_date", "2027-12-31")
    page.click("#plan-form button[type=submit], #plan-form input[type=submit]")
    expect(page.locator(".flash")).to_contain_text("第 1 版已提交")
    expect(page.locator(".plan-version.waiting")).to_contain_text("待审核")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/delivery")
    page.click("#pending-plans >> text=第23项")
    page.click(".plan-version.waiting button.primary")
    expect(page.locator(".flash")).to_contain_text("已批准民政部的落实计划第 1 版")
    expect(page.locator(".plan-version.in-force")).to_contain_text("已完成摸底排查的县")
    expect(page.locator(".plan-version.in-force")).to_contain_text("全国妇联")
    screenshot("delivery-plan-approved")
