"""In a real browser: a coordinator ticks overdue items on the dashboard, reads what will be
urged on the confirmation page, and urges them all at once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tracker.extensions import db
from tracker.followups.models import Urge

pytestmark = pytest.mark.browser


def test_bulk_urge_from_the_overdue_list(page, live_server, quarter, make_user, sign_in,
                                         screenshot):  # fmt: skip
    coordinator = make_user("coordinator", "mca")
    quarter.at("2024-10-11 09:00")
    sign_in(coordinator)
    page.goto(f"{live_server}/dashboard?period=2024Q3")
    boxes = page.locator("#overdue input[name=ids]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    screenshot("bulk-urge-ticked")
    page.click("#urge-selected")
    expect(page.locator("h1")).to_contain_text("确认催办 2 项")
    page.fill("textarea[name=message]", "请于今日内报送。")
    screenshot("bulk-urge-confirm")
    page.click("#confirm-urge-selected")
    expect(page.locator(".flash")).to_contain_text("已催办 2 项")
    assert page.url.endswith("/dashboard?period=2024Q3")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Urge)) == 2
