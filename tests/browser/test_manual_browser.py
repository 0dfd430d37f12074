"""The user manual's screenshots (docs/manual.md), taken while each role does its main work.

Every picture is a 1280 × 800 PNG of the viewport, saved under test-artifacts/<backend>/manual/;
with ``TRACKER_MANUAL_SCREENSHOTS=1`` (scripts/manual-screenshots.sh) also into docs/manual/,
the copies the manual shows. Each step waits for what the user would see before the picture.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import db_backend
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

pytestmark = pytest.mark.browser

MANUAL_DIR = Path(__file__).resolve().parents[2] / "docs" / "manual"
VIEWPORT = {"width": 1280, "height": 800}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LEGAL_AID = "组织开展农村留守妇女法律援助专项行动，办理法律援助案件 1286 件。"


def _to_top(page, selector: str) -> None:
    """Scroll so that ``selector`` starts at the top of the viewport (the picture's subject)."""
    page.locator(selector).evaluate("element => element.scrollIntoView({block: 'start'})")


@pytest.fixture
def shot(app, page):
    """``shot("name")`` saves the viewport as name.png (see the module's doc)."""
    page.set_viewport_size(VIEWPORT)
    folder = ARTIFACTS / db_backend(app) / "manual"
    into_docs = os.environ.get("TRACKER_MANUAL_SCREENSHOTS") == "1"

    def take(name: str, *, full_page: bool = False, manual: bool = True) -> Path:
        """``manual=False``: a picture for review under test-artifacts only."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if into_docs and manual:
            MANUAL_DIR.mkdir(parents=True, exist_ok=True)
            (MANUAL_DIR / path.name).write_bytes(path.read_bytes())
        return path

    return take


def test_sign_in_and_its_help(page, live_server, shot):
    page.goto(f"{live_server}/login")
    expect(page.locator("h1")).to_have_text("登录")
    shot("login-1-page")
    page.click("#sign-in-help a")
    expect(page.locator("h1")).to_have_text("登录帮助")
    expect(page.locator("#help")).to_contain_text("连续输错")
    shot("login-2-help")


def test_a_supporting_liaison_reads_the_help_fills_a_report_and_acknowledges_an_urge(
    page, live_server, quarter, make_user, sign_in, shot, tmp_path
):
    liaison = make_user("liaison", "moj", display_name="司法部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处 王敏", phone="010-58123456")
    quarter.at("2024-10-09 10:00")
    obligation = quarter.obligation(11, "moj")
    followups.urge_obligation(obligation, actor=coordinator, message="请于今日报送第11项配合材料。")
    db.session.commit()

    sign_in(liaison)
    expect(page.locator("h1")).to_contain_text("填报任务")
    shot("liaison-1-my-obligations")
    page.click("#help-link")
    expect(page.locator("h1")).to_have_text("联络员操作说明")
    expect(page.locator("#help-contacts")).to_contain_text("督办处 王敏")
    shot("liaison-2-help")

    page.goto(f"{live_server}/notifications")
    expect(page.locator("main")).to_contain_text("请于今日报送第11项配合材料。")
    shot("liaison-3-urge-notification")
    page.locator("form.acknowledge button").first.click()
    expect(page.locator(".flash")).to_contain_text("签收")
    shot("liaison-4-urge-acknowledged")

    page.goto(f"{live_server}/obligations/{obligation.id}")
    expect(page.locator("h1")).to_contain_text("第11项")
    page.click("#edit-report")
    expect(page.locator("#status-hint")).to_contain_text("常态化推进")
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", LEGAL_AID + "\n在 12 个省开展巡回法律服务。")
    shot("liaison-5-edit-status-hint")
    page.fill("input[name='figures-0-name']", "法律援助件数")
    page.fill("input[name='figures-0-value']", "1,286")
    page.fill("input[name='figures-0-unit']", "件")
    _to_top(page, "#figures")
    expect(page.locator("#figures-hint")).to_be_visible()
    shot("liaison-6-edit-figures-hint")
    page.click("input[name=save]")
    expect(page.locator(".flash")).to_contain_text("草稿已保存")

    evidence = tmp_path / "司法部_法律援助情况.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files("form.upload input[type=file]", str(evidence))
    page.click("form.upload button[type=submit]")
    expect(page.locator("ul.evidence")).to_contain_text("司法部_法律援助情况.pdf")
    _to_top(page, "form.upload")
    expect(page.locator("#evidence-hint")).to_be_in_viewport()
    shot("liaison-7-evidence")
    page.click("#submit-report")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    shot("liaison-8-submitted")


def test_a_liaison_asks_for_an_extension_and_works_offline(
    page, live_server, quarter, make_user, sign_in, shot
):
    liaison = make_user("liaison", "mohrss", display_name="人社部联络员")
    quarter.at("2024-10-09 10:00")
    obligation = quarter.obligation(6, "mohrss")
    sign_in(liaison)
    expect(page.locator("h1")).to_contain_text("填报任务")
    page.goto(f"{live_server}/obligations/{obligation.id}")
    expect(page.locator("h1")).to_contain_text("第6项")
    page.click("#extension-request summary")
    expect(page.locator("#extension-form")).to_be_visible()
    page.fill("#extension-form input[name=requested_due_date]", "2024-10-18")
    page.fill(
        "#extension-form textarea[name=reason]", "需等待省级数据汇总，申请延期至 10 月 18 日。"
    )
    _to_top(page, "#extensions")
    shot("liaison-9-extension-request")
    page.click("#extension-form button[type=submit]")
    expect(page.locator("#extensions")).to_contain_text("需等待省级数据汇总")

    page.goto(f"{live_server}/reports")
    expect(page.locator("#offline-template")).to_be_visible()
    page.click("#offline-template")
    expect(page.locator("h1")).to_contain_text("离线填报")
    shot("liaison-10-offline-template")


def test_the_lead_liaison_consolidates(page, live_server, quarter, make_user, sign_in, shot):
    lead_liaison = make_user("liaison", "mps", display_name="公安部联络员")
    moj = make_user("liaison", "moj")
    report = services.save_draft(
        quarter.obligation(11, "moj"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress=LEGAL_AID,
                    figures=[("法律援助件数", Decimal("1286"), "件")]),
        actor=moj, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=moj)
    db.session.commit()
    lead = quarter.obligation(11, "mps")

    sign_in(lead_liaison)
    page.goto(f"{live_server}/obligations/{lead.id}/edit")
    expect(page.locator("#consolidation")).to_contain_text(LEGAL_AID)
    page.fill("textarea[name=progress]", "公安部：开展打击侵害农村留守妇女权益违法犯罪专项行动。")
    page.locator("button[aria-label='插入司法部的工作进展']").click()
    expect(page.locator(".flash")).to_contain_text("已将司法部的“工作进展”插入")
    shot("lead-1-consolidation")
    page.click("#help-link")
    expect(page.locator("h1")).to_have_text("联络员操作说明")
    _to_top(page, "#help-lead")
    expect(page.locator("#help-lead")).to_be_visible()
    shot("lead-2-help-section", manual=False)


def test_the_coordinator_reviews_urges_and_decides_an_extension(
    page, live_server, quarter, make_user, sign_in, shot
):
    coordinator = make_user("coordinator", "mca", display_name="督办处 王敏")
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    other = make_user("liaison", "mohrss", display_name="人社部联络员")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展摸底排查。"),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=liaison)
    quarter.at("2024-10-09 10:00")
    followups.request_extension(
        quarter.obligation(6, "mohrss"), actor=other, requested_due_date=date(2024, 10, 18),
        reason="需等待省级数据汇总。",
    )  # fmt: skip
    db.session.commit()
    quarter.at("2024-10-14 10:00")

    sign_in(coordinator)
    expect(page.locator("h1")).to_contain_text("看板")
    page.goto(f"{live_server}/dashboard?period=2024Q3")  # the quarter just due, not 2024Q4
    expect(page.locator("#overdue")).to_contain_text("司法部")
    shot("coordinator-1-dashboard")
    _to_top(page, "#overdue")
    expect(page.locator("#overdue")).to_be_visible()
    shot("coordinator-2-overdue-list")
    page.goto(f"{live_server}/reports/review")
    expect(page.locator(f'tr[data-obligation="{obligation.id}"]')).to_be_visible()
    shot("coordinator-3-review-queue")
    page.click(f'tr[data-obligation="{obligation.id}"] a')
    expect(page.locator("#review")).to_be_visible()
    _to_top(page, "#review")
    shot("coordinator-4-review-form")
    page.click("#accept-report")
    expect(page.locator("#state")).to_contain_text("已审核通过")
    page.goto(f"{live_server}/extensions")
    expect(page.locator("main")).to_contain_text("需等待省级数据汇总。")
    shot("coordinator-5-extensions")
    page.click("#help-link")
    expect(page.locator("h1")).to_have_text("督办协调员操作说明")
    shot("coordinator-6-help", manual=False)


def test_a_department_leader_reads_the_dashboard(
    page, live_server, quarter, make_user, sign_in, shot
):
    viewer = make_user("viewer", "mps", display_name="公安部 李处长")
    quarter.at("2024-10-14 10:00")
    sign_in(viewer)
    expect(page.locator("h1")).to_contain_text("看板")
    page.goto(f"{live_server}/dashboard?period=2024Q3")
    expect(page.locator("#matrix")).to_contain_text("公安部")
    shot("viewer-1-dashboard")
    page.goto(f"{live_server}/dashboard/scorecard?period=2024Q3")
    expect(page.locator("h1")).to_contain_text("考核")
    shot("viewer-2-scorecard")
    page.click("#help-link")
    expect(page.locator("h1")).to_have_text("部门领导（查阅）操作说明")
    shot("viewer-3-help", manual=False)


def test_the_administrator_manages_accounts(
    page, live_server, seeded, make_user, sign_in, shot, at
):
    at("2024-10-14 10:00")
    admin = make_user("admin", display_name="系统管理员")
    make_user("liaison", "mps", display_name="公安部联络员")
    sign_in(admin)
    expect(page.locator("h1")).to_contain_text("系统管理")
    shot("admin-1-home")
    page.goto(f"{live_server}/admin/users")
    expect(page.locator("main")).to_contain_text("公安部联络员")
    shot("admin-2-users")
    page.click("#help-link")
    expect(page.locator("h1")).to_have_text("系统管理员操作说明")
    shot("admin-3-help", manual=False)


@pytest.mark.parametrize("role", ["liaison", "coordinator", "viewer", "admin"])
def test_each_help_page_as_rendered(page, live_server, quarter, make_user, sign_in, shot, role):
    """Each role's whole help page, for review (test-artifacts only)."""
    make_user("coordinator", "mca", display_name="督办处 王敏", phone="010-58123456")
    sign_in(make_user(role, {"liaison": "mps", "viewer": "mps"}.get(role)))
    page.click("#help-link")
    expect(page.locator("#help")).to_have_attribute("data-role", role)
    expect(page.locator("#help-contacts")).to_contain_text("督办处 王敏")
    shot(f"help-{role}-whole-page", full_page=True, manual=False)
