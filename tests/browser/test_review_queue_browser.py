"""In a real browser: a coordinator filters the review queue, accepts a report and lands on
the next one of the same queue, then accepts the rest in bulk after a confirmation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus, Report
from tracker.reports.services import ReportInput

pytestmark = pytest.mark.browser


def test_filter_decide_next_and_bulk_accept(page, live_server, quarter, make_user, sign_in,
                                            screenshot):  # fmt: skip
    coordinator = make_user("coordinator", "mca")
    liaison = make_user("liaison", "mca")
    ids = []
    for minute, number in enumerate((22, 2, 5)):
        quarter.at(f"2024-10-05 10:0{minute}")
        report = services.save_draft(
            quarter.obligation(number, "mca"),
            ReportInput(status=ProgressStatus.IN_PROGRESS, progress=f"第{number}项进展。"),
            actor=liaison, expected_version=None,
        )  # fmt: skip
        services.submit_report(report, actor=liaison)
        ids.append(report.obligation_id)
    db.session.commit()

    sign_in(coordinator)
    page.goto(f"{live_server}/reports/review")
    page.select_option("select[name=department]", "mca")
    page.select_option("select[name=sort]", "submitted")
    page.click(".review-filters button[type=submit]")
    expect(page.locator("table.queue tbody tr")).to_have_count(3)
    screenshot("review-queue-filtered")
    page.click(f'tr[data-obligation="{ids[0]}"] a')
    page.click("#accept-report")
    expect(page.locator(".flash").first).to_contain_text("已审核通过")
    expect(page.locator("body")).to_contain_text("下一份待审核：第2项")
    expect(page.locator("h1")).to_contain_text("第2项")
    screenshot("review-queue-next")
    page.click("#queue-link a")
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    for obligation_id in ids[1:]:
        page.check(f"#select-{obligation_id}")
    page.click("#accept-selected")
    expect(page.locator("h1")).to_contain_text("确认审核通过 2 份报告")
    screenshot("review-queue-bulk-confirm")
    page.click("#confirm-accept-selected")
    expect(page.locator(".flash")).to_contain_text("已审核通过 2 份报告")
    expect(page.locator("table.queue")).to_contain_text("没有待审核的报告")
    screenshot("review-queue-bulk-done")
    db.session.expire_all()
    assert {r.state.value for r in db.session.query(Report).all()} == {"accepted"}


def test_a_decision_on_page_two_comes_back_to_page_two(
    page, live_server, quarter, make_user, sign_in, screenshot, monkeypatch
):
    from tracker.reports import routes

    monkeypatch.setattr(routes, "REVIEW_PER_PAGE", 2)
    coordinator = make_user("coordinator", "mca")
    liaison = make_user("liaison", "mca")
    ids = []
    for minute, number in enumerate((1, 2, 5, 6, 14)):
        quarter.at(f"2024-10-05 10:0{minute}")
        report = services.save_draft(
            quarter.obligation(number, "mca"),
            ReportInput(status=ProgressStatus.IN_PROGRESS, progress=f"第{number}项进展。"),
            actor=liaison, expected_version=None,
        )  # fmt: skip
        services.submit_report(report, actor=liaison)
        ids.append(report.obligation_id)
    db.session.commit()

    sign_in(coordinator)
    page.goto(f"{live_server}/reports/review")
    page.select_option("select[name=sort]", "submitted")
    page.click(".review-filters button[type=submit]")
    page.click(".pager a:has-text('下一页')")
    expect(page.locator(".pager")).to_contain_text("第 2 / 3 页")
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    screenshot("review-queue-page-2")
    # one report of page 2, decided from its own page, then back by the queue link
    page.click(f'tr[data-obligation="{ids[2]}"] a')
    page.click("#accept-report")
    expect(page.locator(".flash").first).to_contain_text("已审核通过")
    page.click("#queue-link a")
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")
    assert "page=2" in page.url and "sort=submitted" in page.url
    # bulk accept on page 2 lands on page 2 again
    page.check(f"#select-{ids[3]}")
    page.click("#accept-selected")
    page.click("#confirm-accept-selected")
    expect(page.locator(".flash")).to_contain_text("已审核通过 1 份报告")
    assert "page=2" in page.url and "sort=submitted" in page.url
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    screenshot("review-queue-page-2-after-bulk")


def test_the_coordinators_reports_page_two_keeps_the_period(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/reports?period=2024Q3")
    first = page.locator("table tbody tr[data-obligation]").first.get_attribute("data-obligation")
    page.click(".pager a:has-text('下一页')")
    assert "period=2024Q3" in page.url and "page=2" in page.url
    expect(page.locator(".pager")).to_contain_text("第 2 / 2 页")
    rows = page.locator("table tbody tr[data-obligation]")
    expect(rows.first).not_to_have_attribute("data-obligation", first)
    screenshot("coordinator-reports-page-2")
