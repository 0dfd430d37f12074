"""In a real browser: download the quarterly workbook, and round-trip a liaison's template."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tracker.exports.quarterly import SHEETS
from tracker.exports.template import HEADERS, SHEET_TITLE
from tracker.extensions import db
from tracker.reports.models import Report, ReportVersion

pytestmark = pytest.mark.browser


def _saved(download, folder: Path) -> Path:
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def test_coordinator_downloads_the_quarterly_workbook_from_the_dashboard(
    page, live_server, quarter, make_user, sign_in, screenshot, tmp_path
):
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/dashboard?period=2024Q3")
    screenshot("dashboard-download")
    with page.expect_download() as info:
        page.click("#download-quarterly")
    download = info.value
    assert download.suggested_filename.endswith("2024Q3季度报表.xlsx")
    wb = openpyxl.load_workbook(_saved(download, tmp_path))
    assert wb.sheetnames == list(SHEETS)
    detail = wb["报告明细"]
    assert "2024年第三季度" in detail["A3"].value
    assert sum(1 for row in detail.iter_rows(min_row=6, values_only=True) if any(row)) == 74
    assert wb["总体情况"]._charts  # the on-time chart came along


def test_liaison_round_trips_the_template(page, live_server, quarter, make_user, sign_in, tmp_path):
    sign_in(make_user("liaison", "mps"))
    page.goto(f"{live_server}/reports?period=2024Q3")
    page.click("#offline-template")
    with page.expect_download() as info:
        page.click("#download-template")
    wb = openpyxl.load_workbook(_saved(info.value, tmp_path))
    ws = wb[SHEET_TITLE]
    ws.cell(3, HEADERS.index("自评状态") + 1).value = "推进中"
    ws.cell(3, HEADERS.index("工作进展") + 1).value = "开展专项打击行动 2 次。"
    filled = Path(tmp_path) / "填好的模板.xlsx"
    wb.save(filled)
    page.set_input_files("input[name=file]", str(filled))
    page.click("form[enctype] button[type=submit], form[enctype] input[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_contain_text("已保存 1 份草稿")
    assert "草稿" in page.locator('tr[data-number="11"]').inner_text()
    # A damaged file is refused with its problem listed, and nothing changes.
    broken = Path(tmp_path) / "坏文件.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    page.goto(f"{live_server}/exports/template/upload?period=2024Q3")
    page.set_input_files("input[name=file]", str(broken))
    page.click("form[enctype] input[type=submit]")
    assert "文件已损坏" in page.locator("#problems").inner_text()


def test_an_untouched_template_accepts_multi_line_text_typed_in_the_browser(
    page, live_server, quarter, make_user, sign_in, tmp_path
):
    """Chromium sends a textarea's line breaks as CRLF and the workbook gives LF back: the
    template downloaded after submitting such a report is accepted untouched, saving nothing."""
    liaison = make_user("liaison", "mps")
    sign_in(liaison)
    obligation = quarter.obligation(22, "mps")
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    page.select_option("select[name=status]", "ongoing")
    page.fill("textarea[name=progress]", "开展专项行动 3 次。  \n\n\u3000\u3000覆盖全部乡镇。 ")
    page.fill("textarea[name=problems]", "经费不足\n人员紧张\t")
    page.click("button[name=save_and_submit], input[name=save_and_submit]")
    page.wait_for_load_state("networkidle")
    db.session.expire_all()
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == obligation.id))
    assert report.state.value == "submitted"
    assert report.progress == "开展专项行动 3 次。\n\n\u3000\u3000覆盖全部乡镇。"
    versions = db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion))
    page.goto(f"{live_server}/reports?period=2024Q3")
    page.click("#offline-template")
    with page.expect_download() as info:
        page.click("#download-template")
    untouched = _saved(info.value, tmp_path)
    page.set_input_files("input[name=file]", str(untouched))
    page.click("form[enctype] button[type=submit], form[enctype] input[type=submit]")
    page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_contain_text("模板中的内容与系统中一致，没有需要保存的修改")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)) == versions
    assert db.session.get(Report, report.id).state.value == "submitted"


def test_the_department_sheet_from_the_department_and_from_the_coordinator(
    page, live_server, quarter, make_user, sign_in, sign_out, screenshot, tmp_path
):
    """A liaison takes the 报送 sheet from their quarter's list (their draft on it, marked);
    a coordinator takes the same department's from its dashboard page (handed-in only)."""
    from tracker.exports.department import DRAFT_NOTE
    from tracker.exports.department import SHEET_TITLE as PAPER

    liaison = make_user("liaison", "mps")
    sign_in(liaison)
    obligation = quarter.obligation(22, "mps")
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    page.select_option("select[name=status]", "ongoing")
    page.fill("textarea[name=progress]", "草拟中的进展。")
    page.click("button[name=save], input[name=save]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server}/reports?period=2024Q3")
    with page.expect_download() as info:
        page.click("#download-department-sheet")
    ws = openpyxl.load_workbook(_saved(info.value, tmp_path))[PAPER]
    assert ws["A2"].value.endswith("公安部任务分工落实情况报送表")
    texts = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "草拟中的进展。" in texts and DRAFT_NOTE.strip("（）") in texts
    sign_out()
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/dashboard/departments/mps?period=2024Q3")
    screenshot("department-sheet-link")
    with page.expect_download() as info:
        page.click("#download-department-sheet")
    folder = tmp_path / "coordinator"
    folder.mkdir()
    ws = openpyxl.load_workbook(_saved(info.value, folder))[PAPER]
    texts = [c.value for row in ws.iter_rows() for c in row if c.value]
    assert "草拟中的进展。" not in texts and "负责人签字：" in texts
