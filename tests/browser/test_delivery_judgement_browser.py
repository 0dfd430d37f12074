"""In a real browser: a 民政部 coordinator judges item 23's delivery on the item page; a
judgement that differs from the suggestion without a reason is refused beside the field with
the choice kept; with a reason it is saved and the dashboard's matrix shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.delivery.conftest import department, milestone, task
from tracker.delivery import services
from tracker.extensions import db

pytestmark = pytest.mark.browser


def test_a_coordinator_judges_and_the_matrix_shows_it(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    data = services.PlanInput(milestones=[milestone("完成县级摸底排查", "2024Q2", "mca")])
    plan = services.propose_plan(task(23), department("mca"), data, actor=liaison)
    services.approve_plan(plan, actor=coordinator)
    db.session.commit()
    item = task(23)

    sign_in(coordinator)
    page.goto(f"{live_server}/dashboard/items/{item.id}")
    card = page.locator("#delivery-judgement")
    expect(card).to_contain_text("明显滞后")  # the suggestion: the milestone is overdue
    card.locator("input[name=step][value=mostly]").check()
    card.locator("input[type=submit]").click()
    expect(page.locator("#reason-error")).to_contain_text("请填写理由")
    assert page.locator("#delivery-judgement input[name=step][value=mostly]").is_checked()
    screenshot("delivery-judgement-refused")
    page.fill("#delivery-judgement textarea[name=reason]", "排查已基本完成，汇总材料待报")
    page.locator("#delivery-judgement input[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("落实情况判断")
    row = page.locator("tr[data-period='2024Q3'] td[data-column=delivery]")
    expect(row).to_contain_text("基本按序时")

    page.goto(f"{live_server}/dashboard?period=2024Q3")
    cell = page.locator(f"#matrix tr[data-task='{item.id}'] td[data-column=delivery]")
    expect(cell).to_contain_text("基本按序时")
    expect(cell.locator("[data-judged=yes]")).to_have_count(1)
    screenshot("delivery-judgement-matrix")
