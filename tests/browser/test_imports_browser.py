"""In a real browser: upload a second document, preview it, confirm, see both in the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SECOND_DOCUMENT = Path(__file__).resolve().parents[1] / "imports/fixtures/second_document.txt"


def test_import_a_second_document_in_the_browser(
    page, live_server, seeded, make_user, sign_in, screenshot
):
    sign_in(make_user("coordinator", "mca"))
    page.click("nav.mainnav >> text=导入文件")
    page.fill("input[name=number]", "民办函〔2024〕12号")
    page.fill("input[name=title]", "关于进一步做好农村留守妇女关爱服务工作的通知")
    page.fill("input[name=issuer]", "民政部办公厅")
    page.fill("input[name=issued]", "2024-03-15")
    page.set_input_files("input[name=file]", str(SECOND_DOCUMENT))
    page.click("button[type=submit]:has-text('预览')")
    page.wait_for_load_state("networkidle")

    assert page.locator("table.preview tbody tr[data-number]").count() == 4
    assert page.locator("tr.has-problem").count() == 0
    screenshot("import-preview")
    page.click("button[type=submit]:has-text('确认导入')")
    page.wait_for_load_state("networkidle")

    expect(page.locator("body")).to_contain_text("已导入 民办函〔2024〕12号，共 4 项任务。")
    assert page.locator("table.tasks tbody tr[data-number]").count() == 4
    page.goto(f"{live_server}/tasks")
    assert page.locator("table.tasks tr.group-row").count() == 2
    assert page.locator("table.tasks tbody tr[data-number]").count() == 27
    screenshot("catalogue-two-documents")
