"""A quarter walked end to end in Chromium, one role per test, a screenshot per step:

- a supporting department's liaison files its input with a figure and evidence, and submits;
- the lead department's liaison consolidates: inserts a supporting department's text into its
  own report, reminds (提醒报送) the department still missing, and submits once all are in;
- a coordinator returns a report, the liaison fixes it from the edit form where the reason
  stands, the coordinator accepts without touching the rating (the self-rating is confirmed),
  then reopens it and corrects the rating.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tracker.extensions import db
from tracker.notifications.models import Notification, NotificationKind
from tracker.reports import services
from tracker.reports.models import ProgressStatus, Report
from tracker.reports.services import ReportInput

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LEGAL_AID = "组织开展农村留守妇女法律援助专项行动，办理法律援助案件 1286 件。"


def _report(obligation) -> Report:
    db.session.expire_all()
    return db.session.scalar(sa.select(Report).where(Report.obligation_id == obligation.id))


def test_a_supporting_liaison_files_and_submits_with_evidence(
    page, live_server, quarter, make_user, sign_in, screenshot, tmp_path
):
    liaison = make_user("liaison", "moj", display_name="司法部联络员")
    obligation = quarter.obligation(11, "moj")
    sign_in(liaison)
    page.goto(f"{live_server}/reports")
    screenshot("walk-liaison-1-my-obligations")
    page.click(f'tr[data-obligation="{obligation.id}"] a')
    expect(page.locator("h1")).to_contain_text("第11项 · 司法部")
    page.click("#edit-report")
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", LEGAL_AID + "\n在 12 个省开展巡回法律服务。")
    page.fill("textarea[name=problems]", "基层法律援助人员不足。")
    page.fill("input[name='figures-0-name']", "法律援助件数")
    page.fill("input[name='figures-0-value']", "1,286")
    page.fill("input[name='figures-0-unit']", "件")
    screenshot("walk-liaison-2-form-filled")
    page.click("input[name=save]")
    expect(page.locator(".flash")).to_contain_text("草稿已保存")
    screenshot("walk-liaison-3-draft-saved")

    evidence = tmp_path / "司法部_法律援助情况.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files("form.upload input[type=file]", str(evidence))
    page.click("form.upload button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已上传附件：司法部_法律援助情况.pdf")
    expect(page.locator("ul.evidence")).to_contain_text("司法部_法律援助情况.pdf")
    screenshot("walk-liaison-4-evidence-uploaded")

    page.click("#submit-report")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    screenshot("walk-liaison-5-submitted")
    report = _report(obligation)
    assert report.state.value == "submitted" and report.figures[0].value == Decimal("1286")
    assert [e.filename for e in report.evidence] == ["司法部_法律援助情况.pdf"]


def test_the_lead_consolidates_inserts_supporting_text_and_reminds_a_missing_department(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    lead_liaison = make_user("liaison", "mps", display_name="公安部联络员")
    people = {code: make_user("liaison", code) for code in ("moj", "moa")}
    coordinator = make_user("coordinator", "mca")
    moj = services.save_draft(
        quarter.obligation(11, "moj"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress=LEGAL_AID,
                    figures=[("法律援助件数", Decimal("1286"), "件")]),
        actor=people["moj"], expected_version=None,
    )  # fmt: skip
    services.add_evidence(moj, "司法部_法律援助情况.pdf", PDF, actor=people["moj"])
    services.submit_report(moj, actor=people["moj"])
    services.waive_obligation(quarter.obligation(11, "acwf"), actor=coordinator,
                              reason="本期无相关工作")  # fmt: skip
    db.session.commit()
    lead, moa = quarter.obligation(11, "mps"), quarter.obligation(11, "moa")

    sign_in(lead_liaison)
    page.goto(f"{live_server}/obligations/{lead.id}")
    expect(page.locator("#supporting")).to_contain_text("司法部_法律援助情况.pdf")
    screenshot("walk-lead-1-obligation-page")
    page.click("#edit-report")
    panel = page.locator("#consolidation")
    expect(panel).to_contain_text(LEGAL_AID)
    expect(page.locator("#missing-supporting")).to_contain_text("农业农村部")
    screenshot("walk-lead-2-workspace")

    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", "公安部：开展打击侵害农村留守妇女权益违法犯罪专项行动。")
    panel.locator("button[aria-label='插入司法部的工作进展']").click()
    expect(page.locator(".flash")).to_contain_text("已将司法部的“工作进展”插入")
    progress = page.locator("textarea[name=progress]")
    expect(progress).to_have_value(
        f"公安部：开展打击侵害农村留守妇女权益违法犯罪专项行动。\n\n司法部：{LEGAL_AID}"
    )
    expect(progress).to_be_focused()
    panel.locator("button[aria-label='插入司法部的法律援助件数']").click()
    expect(page.locator("input[name='figures-0-name']")).to_have_value("法律援助件数")
    screenshot("walk-lead-3-inserted")

    page.locator("[data-remind=moa] button.remind").click()
    expect(page.locator(".flash")).to_contain_text("已提醒农业农村部报送本期配合材料")
    expect(progress).to_contain_text(LEGAL_AID)  # what was typed and inserted is still there
    expect(page.locator("[data-remind=moa]")).to_contain_text("已提醒")
    screenshot("walk-lead-4-reminded")
    db.session.expire_all()
    (note,) = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == people["moa"].id)
    ).all()
    assert note.kind == NotificationKind.SUPPORT_REMINDER

    page.click("input[name=save_and_submit]")
    expect(page.locator(".flash")).to_contain_text("农业农村部")  # still missing: refused
    expect(progress).to_contain_text(LEGAL_AID)
    screenshot("walk-lead-5-submit-refused")
    page.click("input[name=save]")
    expect(page.locator(".flash")).to_contain_text("草稿已保存")

    moa_report = services.save_draft(
        moa, ReportInput(status=ProgressStatus.COMPLETED, progress="已完成土地承包权益排查。"),
        actor=people["moa"], expected_version=None,
    )  # fmt: skip
    services.submit_report(moa_report, actor=people["moa"])
    db.session.commit()
    page.goto(f"{live_server}/obligations/{lead.id}/edit")
    expect(page.locator("#consolidation")).to_contain_text("已完成土地承包权益排查。")
    expect(page.locator("#consolidation")).to_contain_text("配合部门材料已全部报送或豁免")
    page.click("input[name=save_and_submit]")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    screenshot("walk-lead-6-submitted")
    report = _report(lead)
    assert f"司法部：{LEGAL_AID}" in report.progress
    assert [(f.name, f.value) for f in report.figures] == [("法律援助件数", Decimal("1286"))]


def test_the_coordinator_returns_accepts_untouched_then_reopens_and_corrects(
    page, sign_out, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    coordinator = make_user("coordinator", "mca", display_name="督办处")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展摸底排查。"),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=liaison)
    db.session.commit()

    sign_in(coordinator)
    page.goto(f"{live_server}/reports/review")
    screenshot("walk-coordinator-1-review-queue")
    page.click(f'tr[data-obligation="{obligation.id}"] a')
    page.fill("#review textarea[name=reason]", "请补充摸底排查覆盖的村数。")
    page.click("#return-report")
    expect(page.locator("#state")).to_contain_text("已退回")
    screenshot("walk-coordinator-2-returned")
    sign_out()

    sign_in(liaison)
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    expect(page.locator("#return-reason")).to_contain_text("请补充摸底排查覆盖的村数。")
    screenshot("walk-coordinator-3-liaison-fixes-from-the-edit-form")
    page.fill("textarea[name=progress]", "已开展摸底排查，覆盖 1200 个村。")
    page.click("input[name=save_and_submit]")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    sign_out()

    sign_in(coordinator)
    page.goto(f"{live_server}/obligations/{obligation.id}")
    expect(
        page.locator("#review form[action$='/accept'] select[name=confirmed_status]")
    ).to_have_value("in_progress")
    screenshot("walk-coordinator-4-accept-form")
    page.click("#accept-report")  # the rating untouched
    expect(page.locator("#state")).to_contain_text("已审核通过")
    assert _report(obligation).confirmed_status.value == "in_progress"
    screenshot("walk-coordinator-5-accepted-self-rating-confirmed")

    page.fill("#reopen textarea[name=reason]", "经核实已全面完成，应核定为已完成。")
    page.click("#reopen-report")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    page.select_option("#review form[action$='/accept'] select[name=confirmed_status]", "completed")
    page.click("#accept-report")
    expect(page.locator("#state")).to_contain_text("已审核通过")
    expect(page.locator("#report")).to_contain_text("与自评不一致")
    screenshot("walk-coordinator-6-reopened-and-corrected")
    corrected = _report(obligation)
    assert (
        corrected.confirmed_status.value == "completed" and corrected.status.value == "in_progress"
    )
