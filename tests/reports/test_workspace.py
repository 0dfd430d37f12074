"""The lead department's consolidation workspace: its edit form shows each supporting
department's submitted input beside its own fields, and inserts a text or a figure into the
form without saving; a department never reads another's unsubmitted work."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus, Report, ReportVersion
from tracker.reports.services import ReportInput

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LEGAL_AID = "组织开展农村留守妇女法律援助专项行动，办理法律援助案件 1286 件。"


@pytest.fixture
def item11(quarter, make_user):
    """Item 11: 公安部 leads; 司法部 has submitted (with a figure and evidence), 农业农村部 has
    only a draft, 全国妇联 has nothing yet."""
    people = {code: make_user("liaison", code) for code in ("mps", "moj", "moa", "acwf")}
    moj = services.save_draft(
        quarter.obligation(11, "moj"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress=LEGAL_AID,
                    problems="基层法律援助人员不足。",
                    figures=[("法律援助件数", Decimal("1286"), "件")]),
        actor=people["moj"], expected_version=None,
    )  # fmt: skip
    evidence = services.add_evidence(moj, "司法部_法律援助情况.pdf", PDF, actor=people["moj"])
    services.submit_report(moj, actor=people["moj"])
    moa = services.save_draft(
        quarter.obligation(11, "moa"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress="【未报送的草稿】土地承包权益维护"),
        actor=people["moa"], expected_version=None,
    )  # fmt: skip
    services.add_evidence(moa, "农业农村部_草稿.pdf", PDF, actor=people["moa"])
    db.session.commit()
    return {"people": people, "lead": quarter.obligation(11, "mps"), "moj": moj,
            "moa": moa, "evidence": evidence}  # fmt: skip


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1)).removeprefix("\r\n").removeprefix("\n")


def _counts():
    return [db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (Report, ReportVersion)]  # fmt: skip


def test_the_lead_edit_form_shows_submitted_input_and_who_is_missing(client, login, item11):
    login(item11["people"]["mps"])
    page = _text(client.get(f"/obligations/{item11['lead'].id}/edit"))
    workspace = page[page.index('id="consolidation"') :]
    assert LEGAL_AID in workspace and "基层法律援助人员不足。" in workspace
    assert "法律援助件数" in workspace and "1286" in workspace
    assert f"/evidence/{item11['evidence'].id}" in workspace
    assert "司法部_法律援助情况.pdf" in workspace
    missing = workspace[workspace.index('id="missing-supporting"') :]
    missing = missing[: missing.index("</p>")]
    assert "农业农村部" in missing and "全国妇联" in missing and "司法部" not in missing
    # 农业农村部's draft is not submitted: the lead never reads it
    assert "【未报送的草稿】" not in page and "农业农村部_草稿.pdf" not in page
    # one insert button per text filled in, and one per figure, each submitting the form
    moj = item11["moj"].obligation_id
    for value in (f"{moj}:progress", f"{moj}:problems", f"{moj}:figure:0"):
        assert re.search(rf'form="report-form"[^>]*name="insert" value="{value}"', page), value
    assert f'value="{moj}:practices"' not in page  # left empty: nothing to insert


def test_insert_puts_the_text_into_the_field_keeps_what_was_typed_and_saves_nothing(
    client, login, item11
):
    login(item11["people"]["mps"])
    lead, moj = item11["lead"], item11["moj"].obligation_id
    before = _counts()
    typed = {"status": "in_progress", "progress": "公安部：开展专项打击行动。",
             "problems": "", "practices": "公安部的经验", "figures-0-name": "立案数",
             "figures-0-value": "35", "figures-0-unit": "起"}  # fmt: skip
    response = client.post(f"/obligations/{lead.id}/edit",
                           data={**typed, "insert": f"{moj}:progress"})  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _textarea(page, "progress") == f"公安部：开展专项打击行动。\n\n司法部：{LEGAL_AID}"
    assert _textarea(page, "practices") == "公安部的经验"
    assert 'value="立案数"' in page and 'value="35"' in page
    assert re.search(r'<textarea[^>]*autofocus[^>]*name="progress"', page) or re.search(
        r'<textarea[^>]*name="progress"[^>]*autofocus', page
    )
    assert "已将司法部的“工作进展”插入本部门“工作进展”栏，尚未保存。" in unescape(page)
    assert _counts() == before and lead.report is None

    # inserting the same text again does not duplicate it
    again = client.post(f"/obligations/{lead.id}/edit", data={
        **typed, "progress": _textarea(page, "progress"), "insert": f"{moj}:progress"})  # fmt: skip
    assert _textarea(again.get_data(as_text=True), "progress").count(LEGAL_AID) == 1
    assert "已插入过" in _text(again)

    # a figure goes into the first empty row
    figure = client.post(
        f"/obligations/{lead.id}/edit", data={**typed, "insert": f"{moj}:figure:0"}
    )
    html = figure.get_data(as_text=True)
    assert re.search(r'name="figures-1-name"[^>]*value="法律援助件数"', html)
    assert re.search(r'name="figures-1-value"[^>]*value="1286"', html)
    assert re.search(r'name="figures-0-name"[^>]*value="立案数"', html)
    assert _counts() == before


def test_inserting_what_the_lead_may_not_read_is_refused_and_keeps_the_input(client, login, item11):
    login(item11["people"]["mps"])
    lead = item11["lead"]
    before = _counts()
    for value in (f"{item11['moa'].obligation_id}:progress",  # a draft
                  f"{lead.id}:progress",  # its own obligation
                  "999999:progress", "garbage",
                  f"{item11['moj'].obligation_id}:secret_column",
                  f"{item11['moj'].obligation_id}:figure:7"):  # fmt: skip
        response = client.post(f"/obligations/{lead.id}/edit",
                               data={"progress": "已经写好的文字", "insert": value})  # fmt: skip
        assert response.status_code == 422, value
        page = response.get_data(as_text=True)
        assert _textarea(page, "progress") == "已经写好的文字", value
        assert "无法插入" in unescape(page), value
        assert "【未报送的草稿】" not in page
    assert _counts() == before


def test_a_full_figure_table_refuses_another_figure(client, login, item11):
    login(item11["people"]["mps"])
    lead = item11["lead"]
    full = {f"figures-{i}-{k}": v for i in range(5)
            for k, v in (("name", f"指标{i}"), ("value", str(i)), ("unit", "个"))}  # fmt: skip
    response = client.post(
        f"/obligations/{lead.id}/edit",
        data={**full, "insert": f"{item11['moj'].obligation_id}:figure:0"},
    )
    assert response.status_code == 422
    assert "关键数据最多 5 项" in _text(response)
    assert 'value="指标4"' in response.get_data(as_text=True)


def test_a_lead_never_reads_a_supporting_draft_history_or_evidence(client, login, item11):
    login(item11["people"]["mps"])
    moa = item11["moa"]
    page = _text(client.get(f"/obligations/{moa.obligation_id}"))
    assert "【未报送的草稿】" not in page and "农业农村部_草稿.pdf" not in page
    assert "尚未填报" in page or "尚未报送" in page
    assert client.get(f"/obligations/{moa.obligation_id}/versions/1").status_code == 404
    assert client.get(f"/evidence/{moa.evidence[0].id}").status_code == 404
    # once submitted, the lead reads the report and its evidence, but still not its history
    services.submit_report(moa, actor=item11["people"]["moa"])
    db.session.commit()
    page = _text(client.get(f"/obligations/{moa.obligation_id}"))
    assert "【未报送的草稿】" in page
    assert client.get(f"/evidence/{moa.evidence[0].id}").status_code == 200
    assert client.get(f"/obligations/{moa.obligation_id}/versions/1").status_code == 404
    # the department itself still reads its own history
    login(item11["people"]["moa"])
    assert client.get(f"/obligations/{moa.obligation_id}/versions/1").status_code == 200


def test_the_lead_obligation_page_lists_supporting_evidence(client, login, item11):
    login(item11["people"]["mps"])
    page = _text(client.get(f"/obligations/{item11['lead'].id}"))
    supporting = page[page.index('id="supporting"') :]
    assert "司法部_法律援助情况.pdf" in supporting
    assert f"/evidence/{item11['evidence'].id}" in supporting
    assert "【未报送的草稿】" not in supporting
