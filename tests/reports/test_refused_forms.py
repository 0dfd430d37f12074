"""The obligation page's forms, refused over HTTP: 422, the page again with the form as typed
and the message inside that form beside its field, and nothing written."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports.models import Evidence, Obligation, Report, ReportState, ReportVersion

LONG = "详" * 2000  # with any prefix, over the 2000-character limit of review text


def _counts() -> tuple[int, ...]:
    count = sa.func.count()
    waived = sa.select(count).select_from(Obligation).where(Obligation.waived.is_(True))
    return (
        *(db.session.scalar(sa.select(count).select_from(m)) for m in (Report, ReportVersion)),
        *(db.session.scalar(sa.select(count).select_from(m)) for m in (AuditEvent, Evidence)),
        db.session.scalar(waived),
    )


def _form(html: str, action: str) -> str:
    """The <form> of the page that posts to ``…/action``."""
    match = re.search(rf'<form[^>]*action="[^"]*/{action}"[^>]*>.*?</form>', html, re.S)
    assert match, f"no form posting to {action}"
    return match.group(0)


def _selected(form_html: str) -> list[str]:
    """The selected options' values of the form's one select."""
    pattern = r'<option selected value="([^"]*)"|<option value="([^"]*)" selected'
    return [a or b for a, b in re.findall(pattern, form_html)]


def _textarea(form_html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\r?\n?(.*?)</textarea>', form_html, re.S)
    assert match, f"no textarea {name}"
    return match.group(1)


def _beside(form_html: str, field_id: str, message: str) -> None:
    """The message is the field's own error, inside the form, and the field points to it."""
    assert f'aria-describedby="{field_id}-error"' in form_html
    error = re.search(rf'<small class="error"[^>]*id="{field_id}-error">(.*?)</small>', form_html)
    assert error and message in error.group(1), form_html


def _submitted(client, quarter, make_user, login):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    login(liaison)
    obligation = quarter.obligation(5, "mca")
    data = {"status": "in_progress", "progress": "开展摸底排查 3 次。", "save_and_submit": "1"}
    assert client.post(f"/obligations/{obligation.id}/edit", data=data).status_code == 302
    login(coordinator)
    return obligation


def test_a_refused_accept_keeps_the_rating_and_the_comment(client, quarter, make_user, login):
    obligation = _submitted(client, quarter, make_user, login)
    before = _counts()
    comment = "覆盖人数与上季度一致。" + LONG
    response = client.post(
        f"/obligations/{obligation.id}/accept",
        data={"confirmed_status": "completed", "comment": comment},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    accept = _form(html, "accept")
    assert _selected(accept) == ["completed"]  # the rating chosen, not the self-rating
    assert _textarea(accept, "comment") == comment
    _beside(accept, "comment", "审核意见不能超过 2000 字")
    # the return form beside it is untouched by what was posted to accept
    assert _selected(_form(html, "return")) == [""]
    assert "autofocus" in accept and "autofocus" not in html.replace(accept, "")
    tampered = client.post(
        f"/obligations/{obligation.id}/accept", data={"confirmed_status": "finished"}
    )
    assert tampered.status_code == 422
    _beside(_form(tampered.get_data(as_text=True), "accept"), "confirmed_status", "请从列表中选择")
    assert _counts() == before
    assert db.session.get(Report, obligation.report.id).state == ReportState.SUBMITTED


def test_accept_of_a_report_not_submitted_is_refused_on_the_page(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data={"status": "in_progress"})
    login(make_user("coordinator", "mca"))
    before = _counts()
    response = client.post(
        f"/obligations/{obligation.id}/accept", data={"confirmed_status": "completed"}
    )
    assert response.status_code == 422
    assert "未能审核通过：报告当前状态为“草稿”，不能审核通过。" in response.get_data(as_text=True)
    assert _counts() == before


def test_a_refused_return_keeps_the_reason_and_the_rating(client, quarter, make_user, login):
    obligation = _submitted(client, quarter, make_user, login)
    before = _counts()
    reason = "请补充覆盖人数。" + LONG
    url = f"/obligations/{obligation.id}/return"
    response = client.post(url, data={"reason": reason, "confirmed_status": "completed"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    returned = _form(html, "return")
    assert _textarea(returned, "reason") == reason
    assert _selected(returned) == ["completed"]
    _beside(returned, "return_reason", "退回理由不能超过 2000 字")
    assert _selected(_form(html, "accept")) == ["in_progress"]  # still the self-rating
    blank = client.post(url, data={"reason": "  ", "confirmed_status": "not_started"})
    assert blank.status_code == 422
    returned = _form(blank.get_data(as_text=True), "return")
    _beside(returned, "return_reason", "请填写退回理由")
    assert _selected(returned) == ["not_started"]
    assert _counts() == before
    assert db.session.get(Report, obligation.report.id).state == ReportState.SUBMITTED


def test_a_refused_waiver_keeps_the_reason(client, quarter, make_user, login):
    login(make_user("coordinator", "mca"))
    supporting = quarter.obligation(11, "moa")  # 农业农村部 supports item 11
    url = f"/obligations/{supporting.id}/waive"
    page = client.get(f"/obligations/{supporting.id}").get_data(as_text=True)
    assert 'id="waive-obligation"' in page
    before = _counts()
    reason = "本期无相关工作。" + LONG
    response = client.post(url, data={"reason": reason})
    assert response.status_code == 422
    waive = _form(response.get_data(as_text=True), "waive")
    assert _textarea(waive, "reason") == reason
    _beside(waive, "waive_reason", "豁免理由不能超过 2000 字")
    blank = client.post(url, data={"reason": ""})
    assert blank.status_code == 422
    _beside(_form(blank.get_data(as_text=True), "waive"), "waive_reason", "请填写豁免理由")
    assert _counts() == before
    assert client.post(url, data={"reason": "本期无相关工作。", "confirm": "1"}).status_code == 302
    assert db.session.get(Obligation, supporting.id).waived


def test_a_refused_upload_says_why_beside_the_file_field(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data={"status": "in_progress"})
    before = _counts()
    url = f"/obligations/{obligation.id}/evidence"
    wrong = client.post(
        url,
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    upload = _form(wrong.get_data(as_text=True), "evidence")
    _beside(upload, "file", "不支持的文件类型")
    assert "请重新选择后上传" in upload  # the browser cannot keep the chosen file
    missing = client.post(url, data={}, content_type="multipart/form-data")
    assert missing.status_code == 422
    _beside(_form(missing.get_data(as_text=True), "evidence"), "file", "请选择文件")
    assert _counts() == before


def test_a_tampered_status_is_refused_in_chinese_and_keeps_the_text(
    client, quarter, make_user, login
):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    before = _counts()
    data = {"status": "finished-ish", "progress": "开展摸底排查 3 次。", "save": "1"}
    response = client.post(f"/obligations/{obligation.id}/edit", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    _beside(html, "status", "请从列表中选择自评状态。")
    assert "Not a valid choice" not in html
    assert "开展摸底排查 3 次。" in _textarea(html, "progress")
    assert _counts() == before
