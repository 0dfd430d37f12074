"""In a real browser: every form refused for what was typed comes back with the input still in
its fields, the message right under the field it is about (the field is described by it), and
that field focused and in view, where the page would otherwise open at its top.

Each test first shows that the field is out of view when the page opens, so that "in view"
after the refusal is the page's doing, not the window's size.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tracker.api.services import MAX_ACTIVE_TOKENS, create_token
from tracker.extensions import db
from tracker.reports.models import Obligation, Report

pytestmark = pytest.mark.browser

SECOND_DOCUMENT = Path(__file__).resolve().parents[1] / "imports/fixtures/second_document.txt"
LONG = "详" * 2000  # with any prefix, over the 2000-character limit of review text
# A long report pushes the review forms below the first screen of the obligation page.
PROGRESS = "\n".join(f"第{n}批：已在 {n * 10} 个村开展关爱服务。" for n in range(1, 41))


def _refused_beside(page, field_selector: str, message: str):
    """The field's own error says ``message``; the field is focused and in the viewport."""
    field = page.locator(field_selector)
    error_id = field.get_attribute("aria-describedby")
    assert error_id, f"{field_selector} is not described by an error"
    expect(page.locator(f"#{error_id}")).to_contain_text(message)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(field).to_be_in_viewport()
    return field


def _window_above(page, field) -> None:
    """Make the window end just above ``field``, so that it is out of view when the page
    opens (the page then needs to bring it into view itself)."""
    box = field.bounding_box()
    page.set_viewport_size({"width": 1400, "height": max(120, int(box["y"]) - 10)})
    expect(field).not_to_be_in_viewport()


def _beyond_maxlength(field) -> None:
    """Let ``field`` take more than its ``maxlength``, as pasted by a script or sent by an old
    or tampered form: the browser's limit stops typing, the server's check is what is shown."""
    field.evaluate("element => element.removeAttribute('maxlength')")


def _submitted(page, live_server, quarter, make_user, sign_in, sign_out) -> Obligation:
    obligation = quarter.obligation(5, "mca")
    sign_in(make_user("liaison", "mca"))
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    page.select_option("select[name=status]", "in_progress")
    page.fill("textarea[name=progress]", PROGRESS)
    page.click("input[name=save_and_submit]")
    expect(page.locator("#state")).to_contain_text("已报送待审核")
    sign_out()
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/obligations/{obligation.id}")
    return obligation


def _state(obligation: Obligation) -> str:
    db.session.expire_all()
    return db.session.get(Report, obligation.report.id).state.value


def test_a_refused_accept_keeps_the_rating_and_comment(
    page, live_server, quarter, make_user, sign_in, sign_out, screenshot
):
    obligation = _submitted(page, live_server, quarter, make_user, sign_in, sign_out)
    comment = page.locator("#review textarea[name=comment]")
    expect(comment).not_to_be_in_viewport()
    typed = "覆盖人数与上季度一致，核定为已完成。" + LONG
    page.select_option("#review select[name=confirmed_status]", "completed")
    _beyond_maxlength(comment)
    comment.fill(typed)
    page.click("#accept-report")

    expect(page.locator(".flash-error")).to_contain_text("未能审核通过")
    accept = "#review form[action$='/accept']"
    _refused_beside(page, f"{accept} textarea[name=comment]", "审核意见不能超过 2000 字")
    expect(page.locator(f"{accept} .error")).to_have_count(1)  # inside the accept form
    expect(page.locator(f"{accept} textarea[name=comment]")).to_have_value(typed)
    expect(page.locator(f"{accept} select[name=confirmed_status]")).to_have_value("completed")
    expect(page.locator("#review form[action$='/return'] textarea[name=reason]")).to_have_value("")
    screenshot("refused-accept")
    assert _state(obligation) == "submitted"


def test_a_refused_return_keeps_the_reason_and_rating(
    page, live_server, quarter, make_user, sign_in, sign_out, screenshot
):
    obligation = _submitted(page, live_server, quarter, make_user, sign_in, sign_out)
    returned = "#review form[action$='/return']"
    expect(page.locator(f"{returned} textarea[name=reason]")).not_to_be_in_viewport()
    typed = "请补充各省覆盖人数和经费使用情况。" + LONG
    _beyond_maxlength(page.locator(f"{returned} textarea[name=reason]"))
    page.fill(f"{returned} textarea[name=reason]", typed)
    page.select_option(f"{returned} select[name=confirmed_status]", "not_started")
    page.click("#return-report")

    expect(page.locator(".flash-error")).to_contain_text("未能退回")
    _refused_beside(page, f"{returned} textarea[name=reason]", "退回理由不能超过 2000 字")
    expect(page.locator(f"{returned} .error")).to_have_count(1)
    expect(page.locator(f"{returned} textarea[name=reason]")).to_have_value(typed)
    expect(page.locator(f"{returned} select[name=confirmed_status]")).to_have_value("not_started")
    # the accept form beside it still offers the department's own rating
    expect(page.locator("#review form[action$='/accept'] select")).to_have_value("in_progress")
    screenshot("refused-return")
    assert _state(obligation) == "submitted"


def test_a_refused_waiver_keeps_the_reason(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    supporting = quarter.obligation(11, "moa")  # 农业农村部 supports item 11
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/obligations/{supporting.id}")
    reason = page.locator("#waive textarea[name=reason]")
    _window_above(page, reason)
    typed = "本期该部门无相关工作安排。" + LONG
    _beyond_maxlength(reason)
    reason.fill(typed)
    page.click("#waive-obligation")

    expect(page.locator(".flash-error")).to_contain_text("未能豁免")
    _refused_beside(page, "#waive textarea[name=reason]", "豁免理由不能超过 2000 字")
    expect(page.locator("#waive .error")).to_have_count(1)
    expect(reason).to_have_value(typed)
    screenshot("refused-waive")
    db.session.expire_all()
    assert not db.session.get(Obligation, supporting.id).waived


def test_a_refused_upload_says_why_beside_the_file_field(
    page, live_server, quarter, make_user, sign_in, screenshot
):
    obligation = quarter.obligation(5, "mca")
    sign_in(make_user("liaison", "mca"))
    page.goto(f"{live_server}/obligations/{obligation.id}/edit")
    page.fill("textarea[name=progress]", PROGRESS)
    page.click("input[name=save]")
    expect(page.locator(".flash-success")).to_contain_text("草稿已保存")
    upload = "form.upload input[name=file]"
    expect(page.locator(upload)).not_to_be_in_viewport()
    page.set_input_files(
        upload, {"name": "方案.pdf", "mimeType": "application/pdf", "buffer": b"MZ not a pdf"}
    )
    page.click("form.upload button[type=submit]")

    expect(page.locator(".flash-error")).to_contain_text("未能上传附件")
    _refused_beside(page, upload, "不支持的文件类型")
    expect(page.locator("form.upload .error")).to_contain_text("请重新选择后上传")
    expect(page.locator(upload)).to_have_value("")  # a browser never refills a file input
    screenshot("refused-upload")


def test_a_refused_account_keeps_every_field(
    page, live_server, seeded, make_user, sign_in, screenshot
):
    sign_in(make_user("admin"))
    page.goto(f"{live_server}/admin/users")
    email = page.locator("#new-account input[name=email]")
    _window_above(page, email)
    page.fill("input[name=username]", "lisi")
    page.fill("input[name=display_name]", "李四")
    email.fill("lisi@mps")
    page.select_option("select[name=role]", "liaison")
    page.select_option("select[name=department]", label="公安部")
    page.click("button:has-text('创建账号')")

    _refused_beside(page, "#new-account input[name=email]", "邮箱格式不正确")
    expect(page.locator("#new-account .error")).to_have_count(1)
    expect(page.locator("input[name=username]")).to_have_value("lisi")
    expect(page.locator("input[name=display_name]")).to_have_value("李四")
    expect(email).to_have_value("lisi@mps")
    expect(page.locator("select[name=role]")).to_have_value("liaison")
    expect(page.locator("select[name=department]")).to_have_value("mps")
    expect(page.locator("[data-testid=one-time-password]")).to_have_count(0)
    screenshot("refused-account")


def test_a_refused_token_name_is_kept(page, live_server, seeded, make_user, sign_in, screenshot):
    user = make_user("viewer")
    for number in range(MAX_ACTIVE_TOKENS):
        create_token(user, name=f"系统{number}", actor=user)
    db.session.commit()
    sign_in(user)
    page.goto(f"{live_server}/profile/tokens")
    name = page.locator("#new-token-form input[name=name]")
    _window_above(page, name)
    name.fill("本部门业务系统")
    page.click("#new-token-form button[type=submit]")

    limit = f"最多 {MAX_ACTIVE_TOKENS} 个有效令牌"
    _refused_beside(page, "#new-token-form input[name=name]", limit)
    expect(page.locator("#new-token-form .error")).to_have_count(1)
    expect(name).to_have_value("本部门业务系统")
    expect(page.locator("[data-testid=new-token]")).to_have_count(0)
    screenshot("refused-token")


def test_a_refused_password_change_says_why_and_keeps_no_password(
    page, live_server, seeded, make_user, sign_in, screenshot
):
    from tests.conftest import PASSWORD

    sign_in(make_user("liaison", "mps"))
    page.goto(f"{live_server}/password")
    confirm = page.locator("#password-form input[name=confirm]")
    _window_above(page, confirm)
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "a-long-new-password-1")
    confirm.fill("a-long-new-password-2")
    page.click("#password-form button[type=submit]")

    _refused_beside(page, "#password-form input[name=confirm]", "两次输入的新密码不一致")
    expect(page.locator("#password-not-kept")).to_contain_text("页面不会保留已输入的密码")
    for name in ("current_password", "new_password", "confirm"):
        expect(page.locator(f"input[name={name}]")).to_have_value("")
    screenshot("refused-password-mismatch")

    page.fill("input[name=current_password]", "not-my-password")
    page.fill("input[name=new_password]", "a-long-new-password-1")
    page.fill("input[name=confirm]", "a-long-new-password-1")
    page.click("#password-form button[type=submit]")
    _refused_beside(page, "#password-form input[name=current_password]", "当前密码不正确")
    screenshot("refused-password-wrong-current")


def test_a_refused_import_keeps_everything_typed(
    page, live_server, seeded, make_user, sign_in, screenshot
):
    text = SECOND_DOCUMENT.read_text(encoding="utf-8")
    sign_in(make_user("coordinator", "mca"))
    page.goto(f"{live_server}/imports/new")
    typed = {
        "number": "民发〔2019〕86号",  # the seed document's number: already imported
        "title": "关于进一步做好农村留守妇女关爱服务工作的通知",
        "issuer": "民政部办公厅",
        "issued": "2024-03-15",
        "first_period": "2024Q1",
    }
    _window_above(page, page.locator("input[name=number]"))
    for name, value in typed.items():
        page.fill(f"input[name={name}]", value)
    page.fill("textarea[name=text]", text)
    pasted = page.locator("textarea[name=text]").input_value()
    page.click("button[type=submit]:has-text('预览')")

    _refused_beside(page, "input[name=number]", "已经导入，不能重复导入")
    for name, value in typed.items():
        expect(page.locator(f"input[name={name}]")).to_have_value(value)
    expect(page.locator("textarea[name=text]")).to_have_value(pasted)
    expect(page.locator("#preview")).to_have_count(0)
    screenshot("refused-import")
