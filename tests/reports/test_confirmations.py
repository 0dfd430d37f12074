"""Waiving and deleting evidence ask first: the first POST shows exactly what will happen and
writes nothing; the POST with ``confirm=1`` acts."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Evidence, Obligation
from tracker.reports.services import ReportInput

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _events() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_waiving_asks_first_then_waives_with_the_reason_typed(client, quarter, make_user, login):
    login(make_user("coordinator", "mca"))
    supporting = quarter.obligation(11, "moa")  # 农业农村部 supports item 11
    url = f"/obligations/{supporting.id}/waive"
    before = _events()
    response = client.post(url, data={"reason": "本期无相关工作 <b>"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "确认豁免" in page and "农业农村部第11项" in page
    assert "本期无相关工作 &lt;b&gt;" in page and "<b>" not in page  # escaped, carried along
    assert 'name="confirm" value="1"' in page and f'href="/obligations/{supporting.id}"' in page
    assert not db.session.get(Obligation, supporting.id).waived and _events() == before

    response = client.post(url, data={"reason": "本期无相关工作 <b>", "confirm": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    waived = db.session.get(Obligation, supporting.id)
    assert waived.waived and waived.waiver_reason == "本期无相关工作 <b>"
    assert _events() == before + 1


def test_a_waiver_without_a_reason_is_refused_before_any_confirmation(
    client, quarter, make_user, login
):
    login(make_user("coordinator", "mca"))
    supporting = quarter.obligation(11, "moa")
    response = client.post(f"/obligations/{supporting.id}/waive", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写豁免理由" in response.get_data(as_text=True)
    assert "确认豁免" not in response.get_data(as_text=True)


def test_deleting_evidence_asks_first_then_deletes(client, quarter, make_user, login):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(progress="进展"), actor=liaison, expected_version=None
    )
    evidence = services.add_evidence(report, "统计表.pdf", PDF, actor=liaison)
    db.session.commit()
    evidence_id = evidence.id
    login(liaison)
    before = _events()
    response = client.post(f"/evidence/{evidence_id}/delete")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "确认删除" in page and "统计表.pdf" in page and "第5项" in page
    assert db.session.get(Evidence, evidence_id) is not None and _events() == before

    response = client.post(f"/evidence/{evidence_id}/delete", data={"confirm": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    tombstone = db.session.get(Evidence, evidence_id)  # kept, marked removed
    assert tombstone.removed_at is not None and tombstone.removed_by_id == liaison.id
    assert tombstone not in tombstone.report.evidence
    assert _events() == before + 1


def test_others_get_403_at_the_confirmation_step_too(client, quarter, make_user, login):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(progress="进展"), actor=liaison, expected_version=None
    )
    evidence = services.add_evidence(report, "统计表.pdf", PDF, actor=liaison)
    db.session.commit()
    login(make_user("liaison", "mps"))
    assert client.post(f"/evidence/{evidence.id}/delete").status_code == 403
    supporting = quarter.obligation(11, "moa")
    assert (
        client.post(f"/obligations/{supporting.id}/waive", data={"reason": "x"}).status_code == 403
    )
    assert db.session.get(Evidence, evidence.id) is not None
