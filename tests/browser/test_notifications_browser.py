"""In a real browser: the bell lists one reminder for a pass's items and an urge; the liaison
filters to urges, signs (签收) the urge from its notification, and chooses in the preferences to
get reminders in the app only and the rest in a daily digest."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.reminders.conftest import run_pass
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.followups.models import Urge
from tracker.notifications import queries
from tracker.notifications.models import MailMode, NotificationKind

pytestmark = pytest.mark.browser


def test_bell_filter_acknowledge_and_preferences(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mps", display_name="公安部联络员", email="mps@example.org")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    run_pass(quarter, "2024-10-11")  # items 11 and 22 of mps are overdue: one notification
    quarter.at("2024-10-11 10:00")
    followups.urge_obligation(
        quarter.obligation(11, "mps"), actor=coordinator, message="请于本周内报送第11项进展。"
    )
    db.session.commit()

    sign_in(liaison)
    expect(page.locator("#unread-count")).to_have_text("2")
    page.click("#bell")
    notes = page.locator("li.notification")
    expect(notes).to_have_count(2)
    expect(page.locator("li.notification[data-kind=reminder]")).to_contain_text(
        "【催报提醒】2 项待报送（2 项已逾期）：第11项 公安部、第22项 公安部"
    )
    expect(page.locator("li.notification[data-kind=reminder] details")).to_contain_text(
        "提醒级别：逾期 1 个工作日"
    )
    screenshot("notifications-bell")

    page.select_option("#filter-kind", "urge")
    page.click("#apply-filters")
    expect(page).to_have_url(f"{live_server}/notifications?kind=urge&state=")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("催办")
    screenshot("notifications-filtered-urges")

    notes.first.locator("form.acknowledge button").click()
    expect(page.locator(".flash")).to_contain_text("已签收催办")
    expect(page).to_have_url(f"{live_server}/notifications?kind=urge&state=")
    expect(notes.first).to_contain_text("已由公安部联络员于 2024-10-11 签收")
    expect(notes.first.locator("form.acknowledge")).to_have_count(0)
    screenshot("notifications-acknowledged")
    urge = db.session.query(Urge).one()
    db.session.refresh(urge)
    assert urge.acknowledged_by_id == liaison.id

    page.click("#preferences-link")
    expect(page.locator("h1")).to_contain_text("通知设置")
    page.check("#kind_reminder-app")
    page.check("#mode-digest")
    page.click("#save-preferences")
    expect(page.locator(".flash")).to_contain_text("通知设置已保存。")
    expect(page.locator("#kind_reminder-app")).to_be_checked()
    expect(page.locator("#mode-digest")).to_be_checked()
    screenshot("notifications-preferences")
    db.session.expire_all()
    assert queries.email_choices(liaison.id)[NotificationKind.REMINDER] is False
    assert queries.mail_mode(liaison.id) == MailMode.DIGEST
