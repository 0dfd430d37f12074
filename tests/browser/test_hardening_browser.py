"""In the browser: a refused evidence file, the cleaned name in the flash, an expired form that
comes back with its text and is sent again."""

from __future__ import annotations

import io
import time
import zipfile

from playwright.sync_api import expect

from tracker.extensions import db
from tracker.reports import services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _macro_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/vbaProject.bin", b"VBA")
    return buffer.getvalue()


def test_evidence_refusals_and_the_cleaned_name(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    obligation = quarter.obligation(5, "mca")
    services.save_draft(
        obligation, services.ReportInput(progress="进展"), actor=liaison, expected_version=None
    )
    db.session.commit()
    sign_in(liaison)
    page.goto(f"{live_server}/obligations/{obligation.id}")
    expect(page.locator("h1")).to_be_visible()

    page.set_input_files(
        "input[name=file]",
        files=[{"name": "统计表.xlsx", "mimeType": "application/octet-stream",
                "buffer": _macro_xlsx()}],
    )  # fmt: skip
    page.click("button:has-text('上传附件')")
    error = page.locator("#file-error")
    expect(error).to_contain_text("文件含有宏（VBA 代码），不能作为佐证材料")
    screenshot("evidence-macro-refused")

    page.set_input_files(
        "input[name=file]",
        files=[{"name": "\u202egpj.exe<i>工作方案.pdf", "mimeType": "application/pdf",
                "buffer": PDF}],
    )  # fmt: skip
    page.click("button:has-text('上传附件')")
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("已上传附件：gpj.exe<i>工作方案")
    expect(flash).not_to_contain_text("\u202e")
    screenshot("evidence-uploaded-clean-name")


def test_an_expired_form_comes_back_with_its_text(
    app, page, live_server, quarter, make_user, sign_in, screenshot, monkeypatch
):
    liaison = make_user("liaison", "mca", display_name="民政部联络员")
    obligation = quarter.obligation(5, "mca")
    sign_in(liaison)
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 1)
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    expect(page.locator("textarea[name=progress]")).to_be_visible()
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", "本季度完成三期培训，覆盖 1200 人次。")
    page.fill("textarea[name=problems]", "部分村经费不足。")
    time.sleep(2.5)  # the token is older than its lifetime now
    page.click("input[name=save]")
    kept = page.locator("[data-testid=csrf-expired]")
    expect(kept).to_contain_text("安全令牌已失效")
    expect(kept).to_contain_text("本季度完成三期培训，覆盖 1200 人次。")
    expect(kept).to_contain_text("部分村经费不足。")
    screenshot("csrf-expired-kept-input")

    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 3600)
    page.click("#resubmit")
    expect(page.locator(".flash-success")).to_contain_text("草稿已保存")
    db.session.expire_all()
    assert obligation.report.progress == "本季度完成三期培训，覆盖 1200 人次。"


def test_a_nul_in_the_address_says_why(page, live_server, seeded, make_user, sign_in, screenshot):
    sign_in(make_user("liaison", "mca", display_name="民政部联络员"))
    response = page.goto(f"{live_server}/search?q=%E5%9F%B9%00%E8%AE%AD")
    assert response is not None and response.status == 400
    expect(page.locator(".error-page")).to_contain_text("查询参数中含有不允许的空字符（NUL）")
    screenshot("refused-nul-query")
