"""What the audit trail records from requests: sign-ins (done, failed, refused while
locked), lockouts, refusals (403), evidence downloads, workbook exports and API writes, each
with the client address, user agent and outcome."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.api.test_reports import FILLED
from tests.conftest import PASSWORD
from tracker.audit import chain
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Obligation
from tracker.reports.services import ReportInput

AGENT = "Mozilla/5.0 (X11; Linux x86_64) 审计测试"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


@pytest.fixture
def browser(client):
    client.environ_base.update({"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": AGENT})
    return client


def _sign_in(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_sign_ins_failures_refusals_and_the_lockout_are_recorded(app, browser, seeded, make_user):
    user = make_user("liaison", "mca")
    assert _sign_in(browser, user.username, PASSWORD).status_code == 302
    browser.post("/logout")
    for _ in range(app.config["TRACKER_LOGIN_MAX_FAILURES"]):
        _sign_in(browser, user.username, "wrong-password")
    _sign_in(browser, user.username, PASSWORD)  # locked now: refused unchecked
    logins = _events("user.login")
    assert [e.outcome for e in logins] == ["success"] + ["failure"] * 5 + ["refused"]
    assert {(e.client_address, e.user_agent) for e in logins} == {("192.0.2.10", AGENT)}
    assert logins[0].actor_id == user.id and logins[0].department_id == user.department_id
    assert logins[1].object_id == user.id and logins[1].after == {"username": user.username}
    (lock,) = _events("user.lock")
    assert (lock.outcome, lock.client_address, lock.object_id) == ("failure", "192.0.2.10", user.id)
    assert chain.verify(db.session).first_break is None


def test_a_long_user_agent_is_cut(browser, seeded, make_user):
    browser.environ_base["HTTP_USER_AGENT"] = "x" * 2000
    user = make_user("liaison", "mca")
    _sign_in(browser, user.username, PASSWORD)
    assert _events("user.login")[0].user_agent == "x" * 256


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(app, seeded, make_user, monkeypatch):
    from tracker.proxy import TrustedProxyFix, parse_networks

    user = make_user("liaison", "mca")
    monkeypatch.setattr(app, "wsgi_app", TrustedProxyFix(app.wsgi_app, parse_networks("10.0.0.1")))
    for proxy in ("10.0.0.1", "198.51.100.9"):
        client = app.test_client()
        client.environ_base.update({"REMOTE_ADDR": proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.5"})
        _sign_in(client, user.username, "wrong-password")
    assert [e.client_address for e in _events("user.login")] == ["203.0.113.5", "198.51.100.9"]


def test_a_refusal_is_recorded_apart_from_the_rolled_back_request(browser, seeded, make_user,
                                                                 login):  # fmt: skip
    liaison = make_user("liaison", "mca")
    login(liaison)
    assert browser.get("/admin/users").status_code == 403
    (refused,) = _events("access.refused")
    assert (refused.outcome, refused.actor_id, refused.department_id) == (
        "refused", liaison.id, liaison.department_id)  # fmt: skip
    assert refused.object_type == "auth.users"
    assert refused.after == {"method": "GET", "path": "/admin/users"}
    assert (refused.client_address, refused.user_agent) == ("192.0.2.10", AGENT)


def test_an_evidence_download_and_an_export_are_recorded(app, browser, quarter, make_user, login,
                                                        tmp_path, monkeypatch):  # fmt: skip
    monkeypatch.setitem(app.config, "TRACKER_UPLOAD_DIR", str(tmp_path / "uploads"))
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(obligation, ReportInput(progress="进展"), actor=liaison,
                                 expected_version=None)  # fmt: skip
    item = services.add_evidence(report, "统计表.pdf", PDF, actor=liaison)
    db.session.commit()
    login(liaison)
    assert browser.get(f"/evidence/{item.id}").status_code == 200
    (download,) = _events("evidence.download")
    assert (download.object_type, download.object_id, download.actor_id) == (
        "evidence", item.id, liaison.id)  # fmt: skip
    assert download.after == {"filename": "统计表.pdf"}
    assert (download.client_address, download.outcome) == ("192.0.2.10", "success")
    assert browser.get("/exports/quarterly.xlsx?period=2024Q3").status_code == 200
    (export,) = _events("export.download")
    assert export.after["filename"].endswith(".xlsx") and export.user_agent == AGENT
    assert chain.verify(db.session).first_break is None


def test_every_api_write_is_recorded_with_its_answer(app, quarter, make_user, api):
    liaison = make_user("liaison", "mca")
    caller = api(liaison)
    headers = {"User-Agent": "部委业务系统/1.0"}
    body = {"obligation_id": quarter.obligation(5, "mca").id, **FILLED}
    created = caller.post(
        "/reports", json=body, headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.77"}
    )
    assert created.status_code == 201
    again = caller.post("/reports", json=body, headers=headers)
    assert again.status_code == 409
    other = db.session.scalar(
        sa.select(Obligation.id).where(
            Obligation.period == quarter.period.key,
            Obligation.department_id != liaison.department_id,
        )
    )
    refused = caller.post("/reports", json={**body, "obligation_id": other}, headers=headers)
    assert refused.status_code == 403
    writes = _events("api.create_report")
    assert [(e.outcome, e.after["status"]) for e in writes] == [("success", 201), ("failure", 409)]
    assert writes[0].actor_id == liaison.id and writes[0].user_agent == "部委业务系统/1.0"
    assert writes[0].client_address == "192.0.2.77"
    assert writes[0].after["method"] == "POST" and writes[0].after["path"] == "/api/v1/reports"
    (refusal,) = _events("access.refused")
    assert refusal.actor_id == liaison.id and refusal.object_type == "api.create_report"
    assert caller.get(f"/reports/{created.get_json()['id']}").status_code == 200
    assert len(_events("api.report")) == 0  # reads are not API writes
    assert chain.verify(db.session).first_break is None
