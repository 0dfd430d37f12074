"""The hints beside the report form's controls: tied to them with aria-describedby, and
stating the limits in force (read from the configuration, so a changed setting shows)."""

from __future__ import annotations

import re
from html import unescape

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


def _tag(html: str, pattern: str) -> str:
    """The one opening tag matching ``pattern``."""
    found = re.findall(rf"<{pattern}[^>]*>", html)
    assert len(found) == 1, (pattern, found)
    return found[0]


def _element_text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return unescape(re.sub(r"<[^>]+>", "", match.group(2)))


def test_the_edit_form_describes_the_self_rating_and_the_figures(client, login, make_user, quarter):
    login(make_user("liaison", "moj"))
    obligation = quarter.obligation(11, "moj")
    html = client.get(f"/obligations/{obligation.id}/edit").get_data(as_text=True)
    assert 'aria-describedby="status-hint"' in _tag(html, r'select[^>]* id="status"')
    status_hint = _element_text(html, "status-hint")
    for label in ("未启动", "推进中", "已完成", "常态化推进"):
        assert f"{label}——" in status_hint
    assert 'aria-describedby="figures-hint"' in _tag(html, r'fieldset[^>]* id="figures"')
    figures_hint = _element_text(html, "figures-hint")
    assert "最多 5 项" in figures_hint and "1,200.5" in figures_hint


def test_a_refused_rating_is_described_by_its_message_instead_of_its_hint(
    client, login, make_user, quarter
):
    login(make_user("liaison", "moj"))
    obligation = quarter.obligation(11, "moj")
    page = client.post(
        f"/obligations/{obligation.id}/edit",
        data={"status": "finished", "progress": "已开展。", "save": "保存草稿"},
    )
    html = page.get_data(as_text=True)
    select = _tag(html, r'select[^>]* id="status"')
    assert 'aria-describedby="status-error"' in select  # the message says what to do now
    assert 'aria-invalid="true"' in select
    assert "常态化推进——" in _element_text(html, "status-hint")  # the hint still stands


def test_the_evidence_hint_states_the_configured_limits(
    app, client, login, make_user, quarter, monkeypatch
):
    liaison = make_user("liaison", "moj")
    obligation = quarter.obligation(11, "moj")
    services.save_draft(
        obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展。"),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    db.session.commit()
    login(liaison)
    html = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    file_input = _tag(html, r'input[^>]* type="file"')
    assert 'aria-describedby="evidence-hint"' in file_input
    hint = _element_text(html, "evidence-hint")
    assert "每个文件不超过 10 MB" in hint and "最多 20 个" in hint
    assert "PDF、Word、Excel、PNG、JPEG（.pdf .docx .xlsx .doc .xls .png .jpeg .jpg）" in hint

    monkeypatch.setitem(app.config, "TRACKER_EVIDENCE_MAX_BYTES", 2 * 1024 * 1024)
    html = client.get(f"/obligations/{obligation.id}").get_data(as_text=True)
    assert "每个文件不超过 2 MB" in _element_text(html, "evidence-hint")

    refused = client.post(f"/obligations/{obligation.id}/evidence", data={})  # no file chosen
    html = refused.get_data(as_text=True)
    assert 'aria-describedby="file-error"' in _tag(html, r'input[^>]* type="file"')
    assert "每个文件不超过 2 MB" in _element_text(html, "evidence-hint")
