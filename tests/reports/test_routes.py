"""Reporting pages over HTTP: forms, validation, escaping, uploads, stale saves, history."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import sqlalchemy as sa

from tracker.catalogue.models import Role
from tracker.extensions import db
from tracker.reports.models import Evidence, Obligation, Report, ReportState

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _form(progress="开展摸底排查 3 次。", status="in_progress", **extra):
    data = {"status": status, "progress": progress, "problems": "", "practices": "",
            "suggestions": "", "next_steps": ""}  # fmt: skip
    data.update(extra)
    return data


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_liaison_home_lists_own_obligations_with_due_dates(client, quarter, make_user, login):
    login(make_user("liaison", "mohrss"))
    html = client.get("/reports").get_data(as_text=True)
    numbers = re.findall(r'data-number="(\d+)"', html)
    assert numbers == ["3", "6", "22"]  # lead of 3, joint on 6 and on 22 (各部门)
    assert "2024-10-10" in html
    assert "2024年第三季度" in html


def test_draft_then_submit_through_the_form(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = client.post(
        f"/obligations/{obligation.id}/edit",
        data=_form(
            **{"figures-0-name": "覆盖村数", "figures-0-value": "1,200", "figures-0-unit": "个"}
        ),
    )
    assert response.status_code == 302
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == obligation.id))
    assert report.state == ReportState.DRAFT
    assert [(f.name, int(f.value), f.unit) for f in report.figures] == [("覆盖村数", 1200, "个")]
    assert client.post(f"/obligations/{obligation.id}/submit").status_code == 302
    db.session.refresh(report)
    assert report.state == ReportState.SUBMITTED


def test_save_and_submit_in_one_step_refuses_without_progress(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = client.post(
        f"/obligations/{obligation.id}/edit", data=_form(progress="", save_and_submit="1")
    )
    assert response.status_code == 422
    assert "报送前请填写：工作进展" in response.get_data(as_text=True)
    assert _count(Report) == 0  # the draft was not half-saved either


def test_over_long_field_is_refused_and_nothing_saved(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = client.post(f"/obligations/{obligation.id}/edit", data=_form("字" * 5001))
    assert response.status_code == 422
    assert "工作进展不能超过 5000 字" in response.get_data(as_text=True)
    assert _count(Report) == 0


def test_bad_figure_is_refused(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    html = client.post(
        f"/obligations/{obligation.id}/edit",
        data=_form(**{"figures-0-name": "人次", "figures-0-value": "很多"}),
    )
    assert "数值应为数字" in html.get_data(as_text=True)
    assert _count(Report) == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"figures-0-name": "人次", "figures-0-value": ""}, "数值应为数字"),
        ({"figures-0-unit": "人"}, "请填写指标名称"),
    ],
)
def test_half_filled_figure_is_refused(client, quarter, make_user, login, row, message):
    """A name without a number, or a unit alone, is refused beside the row, not saved half."""
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = client.post(f"/obligations/{obligation.id}/edit", data=_form(**row))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(Report) == 0


def test_stale_save_gets_a_clear_message(app, quarter, make_user):
    from tests.conftest import PASSWORD

    first, second = make_user("liaison", "mca"), make_user("liaison", "mca")
    a, b = app.test_client(), app.test_client()
    for c, user in ((a, first), (b, second)):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    obligation = quarter.obligation(5, "mca")
    a.post(f"/obligations/{obligation.id}/edit", data=_form("初稿"))
    # both open the edit form at version 1
    for c in (a, b):
        assert 'name="version" type="hidden" value="1"' in c.get(
            f"/obligations/{obligation.id}/edit"
        ).get_data(as_text=True)
    assert (
        a.post(
            f"/obligations/{obligation.id}/edit", data=_form("A 的修改", version="1")
        ).status_code
        == 302
    )
    response = b.post(f"/obligations/{obligation.id}/edit", data=_form("B 的修改", version="1"))
    assert response.status_code == 409
    assert "已被他人修改" in response.get_data(as_text=True)
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == obligation.id))
    assert report.progress == "A 的修改"


def test_user_text_is_escaped_everywhere(client, quarter, make_user, login):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    liaison = make_user("liaison", "mca")
    login(liaison)
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form(evil, problems=evil))
    client.post(f"/obligations/{obligation.id}/submit")
    pages = [
        f"/obligations/{obligation.id}",
        f"/obligations/{obligation.id}/versions/1",
        f"/tasks/{obligation.task_id}/periods/2024Q3",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_coordinator_returns_with_reason_and_liaison_sees_it(
    app, client, quarter, make_user, login
):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    login(liaison)
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form(save_and_submit="1"))
    login(coordinator)
    assert f'data-obligation="{obligation.id}"' in client.get("/reports/review").get_data(
        as_text=True
    )
    empty = client.post(f"/obligations/{obligation.id}/return", data={"reason": ""})
    assert empty.status_code == 422 and "请填写退回理由" in empty.get_data(as_text=True)
    assert db.session.get(Report, obligation.report.id).state == ReportState.SUBMITTED
    client.post(f"/obligations/{obligation.id}/return", data={"reason": "请补充覆盖人数。"})
    login(liaison)
    home = client.get("/reports").get_data(as_text=True)
    assert "请补充覆盖人数。" in home and "被退回的报告（1）" in home


def test_review_queue_is_coordinators_only(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    assert client.get("/reports/review").status_code == 403


def test_history_shows_what_changed(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form("第一稿"))
    client.post(f"/obligations/{obligation.id}/edit", data=_form("第二稿", version="1"))
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    assert "第 2 版" in page and "修改记录" in page
    diff = client.get(f"/obligations/{obligation.id}/versions/2").get_data(as_text=True)
    assert "与第 1 版相比的修改" in diff
    assert "第一稿" in diff and "第二稿" in diff
    first = client.get(f"/obligations/{obligation.id}/versions/1").get_data(as_text=True)
    assert "第二稿" not in first


def test_lead_sees_supporting_input_on_its_page(client, quarter, make_user, login):
    supporter, lead = make_user("liaison", "acwf"), make_user("liaison", "mohrss")
    support_obligation = quarter.obligation(3, "acwf")
    login(supporter)
    client.post(
        f"/obligations/{support_obligation.id}/edit",
        data=_form("妇联：举办巾帼创业培训 12 期。", save_and_submit="1"),
    )
    login(lead)
    lead_obligation = quarter.obligation(3, "mohrss")
    page = client.get(f"/obligations/{lead_obligation.id}").get_data(as_text=True)
    assert "配合部门本期材料" in page
    assert "妇联：举办巾帼创业培训 12 期。" in page
    # the lead may open the supporting department's report, but not edit it
    assert client.get(f"/obligations/{support_obligation.id}").status_code == 200
    assert client.get(f"/obligations/{support_obligation.id}/edit").status_code == 403
    refused = client.post(
        f"/obligations/{lead_obligation.id}/edit", data=_form(save_and_submit="1")
    )
    assert "农业农村部、文化和旅游部" in refused.get_data(as_text=True)


def test_item_page_shows_every_department_for_the_period(client, quarter, make_user, login):
    login(make_user("viewer"))
    obligation = quarter.obligation(14, "mca")
    html = client.get(f"/tasks/{obligation.task_id}/periods/2024Q3").get_data(as_text=True)
    assert re.findall(r'data-department="(\w+)"', html) == ["mca", "nhc", "cpad", "acwf", "cdpf"]
    assert client.get(f"/tasks/{obligation.task_id}/periods/2024Q5").status_code == 404
    assert client.get(f"/tasks/{obligation.task_id}/periods/2031Q1").status_code == 404


def test_liaison_of_an_unrelated_department_cannot_open_the_item_page(
    client, quarter, make_user, login
):
    login(make_user("liaison", "mps"))
    obligation = quarter.obligation(14, "mca")
    assert client.get(f"/tasks/{obligation.task_id}/periods/2024Q3").status_code == 403


def _upload(client, obligation, name, data):
    return client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_evidence_upload_and_download(client, quarter, make_user, login, app):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form())
    for name, data in (("工作方案.pdf", PDF), ("照片.png", PNG), ("总结.docx", _docx())):
        assert _upload(client, obligation, name, data).status_code == 302
    items = db.session.scalars(sa.select(Evidence).order_by(Evidence.id)).all()
    assert [(e.filename, e.kind) for e in items] == [
        ("工作方案.pdf", "pdf"),
        ("照片.png", "png"),
        ("总结.docx", "docx"),
    ]
    stored = app.config["TRACKER_UPLOAD_DIR"]
    assert not stored.startswith(app.static_folder)
    response = client.get(f"/evidence/{items[0].id}")
    assert response.status_code == 200 and response.data == PDF
    assert "attachment" in response.headers["Content-Disposition"]


def test_evidence_type_is_checked_by_content(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form())
    page = client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "report.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "不支持的文件类型" in page.get_data(as_text=True)
    page = _upload(client, obligation, "photo.pdf", PNG)
    assert _count(Evidence) == 0


def test_oversized_evidence_is_refused(client, quarter, make_user, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_MAX_BYTES", 1024)
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form())
    page = client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": (io.BytesIO(PDF + b"0" * 2048), "big.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "文件过大" in page.get_data(as_text=True)
    assert _count(Evidence) == 0


def test_evidence_of_another_department_is_403(client, quarter, make_user, login):
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form())
    _upload(client, obligation, "a.pdf", PDF)
    evidence = db.session.scalar(sa.select(Evidence))
    login(make_user("liaison", "mps"))
    assert client.get(f"/evidence/{evidence.id}").status_code == 403


def test_a_whole_quarter_over_http(app, quarter, make_user):
    """Every department files every obligation, leads after their supporters; all accepted."""
    from tests.conftest import PASSWORD

    def signed_in(user):
        c = app.test_client()
        c.post("/login", data={"username": user.username, "password": PASSWORD})
        return c

    obligations = db.session.scalars(sa.select(Obligation)).all()
    codes = {o.department.code for o in obligations}
    liaisons = {code: signed_in(make_user("liaison", code)) for code in codes}
    coordinator = signed_in(make_user("coordinator", "mca"))
    ordered = sorted(obligations, key=lambda o: o.role == Role.LEAD)  # supporters first
    for o in ordered:
        response = liaisons[o.department.code].post(
            f"/obligations/{o.id}/edit",
            data=_form(f"{o.department.name}第{o.task.number}项进展", save_and_submit="1"),
        )
        assert response.status_code == 302, (o.task.number, o.department.code)
    for o in obligations:
        coordinator.post(f"/obligations/{o.id}/accept", data={"confirmed_status": "ongoing"})
    states = db.session.scalars(sa.select(Report.state)).all()
    assert len(states) == 74 and set(states) == {ReportState.ACCEPTED}


def test_a_version_marks_what_each_field_lost_and_gained(client, quarter, make_user, login):
    """The version page marks, character by character, the text deleted and inserted."""
    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form("已开展培训 3 期"))
    client.post(f"/obligations/{obligation.id}/edit", data=_form("已开展培训 4 期", version="1"))
    page = client.get(f"/obligations/{obligation.id}/versions/2").get_data(as_text=True)
    assert "已开展培训 <del>3</del><ins>4</ins> 期" in page


def test_text_with_a_nul_character_is_refused_and_kept_on_the_page(
    client, quarter, make_user, login
):
    """The database cannot store NUL: the page says so beside the field, saves nothing, and
    gives the user back what they typed."""
    from tracker.reports.models import Report

    login(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = client.post(
        f"/obligations/{obligation.id}/edit",
        data=_form("本季度完成培训\x00三期", problems="经费紧张"),
    )
    page = response.get_data(as_text=True)
    assert "工作进展含有无法保存的控制字符（NUL）" in page
    assert "经费紧张" in page and "本季度完成培训" in page
    assert _count(Report) == 0


def _submitted_over_http(client, quarter, make_user, login):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    login(liaison)
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form(save_and_submit="1"))
    return obligation, liaison, coordinator


def _selected_status(html: str, name: str = "confirmed_status") -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select)


def test_the_confirmed_status_starts_as_the_self_rating(client, quarter, make_user, login):
    obligation, _, coordinator = _submitted_over_http(client, quarter, make_user, login)
    login(coordinator)
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    accept_form = page[page.index('id="review"') : page.index("退回修改")]
    selected = [a or b for a, b in _selected_status(accept_form)]
    assert selected == ["in_progress"]
    # Accepting as the browser sends the untouched form confirms the department's rating.
    client.post(f"/obligations/{obligation.id}/accept", data={"confirmed_status": "in_progress"})
    report = db.session.get(Report, obligation.report.id)
    assert (report.state, report.confirmed_status.value) == (ReportState.ACCEPTED, "in_progress")


def test_reopen_needs_a_reason_keeps_the_text_and_writes_nothing(client, quarter, make_user, login):
    from tracker.audit.models import AuditEvent
    from tracker.reports.models import ReportVersion

    obligation, liaison, coordinator = _submitted_over_http(client, quarter, make_user, login)
    login(coordinator)
    client.post(f"/obligations/{obligation.id}/accept", data={"confirmed_status": "not_started"})
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    assert 'id="reopen-report"' in page
    before = (_count(ReportVersion), _count(AuditEvent))
    empty = client.post(f"/obligations/{obligation.id}/reopen", data={"reason": "  "})
    assert empty.status_code == 422
    assert "请填写重新打开的理由" in empty.get_data(as_text=True)
    long_reason = "太长" * 1500
    too_long = client.post(f"/obligations/{obligation.id}/reopen", data={"reason": long_reason})
    assert too_long.status_code == 422 and long_reason in too_long.get_data(as_text=True)
    assert (_count(ReportVersion), _count(AuditEvent)) == before
    assert db.session.get(Report, obligation.report.id).state == ReportState.ACCEPTED
    done = client.post(f"/obligations/{obligation.id}/reopen", data={"reason": "核定状态选错。"})
    assert done.status_code == 302
    report = db.session.get(Report, obligation.report.id)
    assert report.state == ReportState.SUBMITTED
    client.post(f"/obligations/{obligation.id}/accept", data={"confirmed_status": "in_progress"})
    assert db.session.get(Report, report.id).confirmed_status.value == "in_progress"
    login(liaison)
    assert 'id="reopen-report"' not in client.get(f"/obligations/{obligation.id}").get_data(
        as_text=True
    )


def test_the_liaison_withdraws_until_a_coordinator_acts(client, quarter, make_user, login):
    obligation, liaison, coordinator = _submitted_over_http(client, quarter, make_user, login)
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    assert 'id="withdraw-report"' in page
    assert client.post(f"/obligations/{obligation.id}/withdraw").status_code == 302
    assert db.session.get(Report, obligation.report.id).state == ReportState.DRAFT
    client.post(f"/obligations/{obligation.id}/submit")
    login(coordinator)
    assert 'id="withdraw-report"' not in client.get(f"/obligations/{obligation.id}").get_data(
        as_text=True
    )
    client.post(f"/obligations/{obligation.id}/accept", data={"confirmed_status": "in_progress"})
    client.post(f"/obligations/{obligation.id}/reopen", data={"reason": "重新核定。"})
    login(liaison)
    page = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    assert 'id="withdraw-report"' not in page
    refused = client.post(f"/obligations/{obligation.id}/withdraw", follow_redirects=True)
    assert "不能撤回" in refused.get_data(as_text=True)
    assert db.session.get(Report, obligation.report.id).state == ReportState.SUBMITTED


def test_the_edit_form_shows_why_the_report_was_returned(client, quarter, make_user, login):
    obligation, liaison, coordinator = _submitted_over_http(client, quarter, make_user, login)
    login(coordinator)
    accepted = {"confirmed_status": "in_progress", "comment": "数据口径请统一。"}
    client.post(f"/obligations/{obligation.id}/accept", data=accepted)
    client.post(f"/obligations/{obligation.id}/reopen", data={"reason": "需补充。"})
    client.post(f"/obligations/{obligation.id}/return", data={"reason": "请补充覆盖人数。"})
    login(liaison)
    page = client.get(f"/obligations/{obligation.id}/edit").get_data(as_text=True)
    top = page[: page.index('name="progress"')]
    assert "退回理由" in top and "请补充覆盖人数。" in top
    assert "审核意见" in top and "数据口径请统一。" in top
