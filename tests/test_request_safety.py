"""CSRF tokens that expire (and the input kept), forms from other sites refused, responses
that are never cached, and files (database, evidence, exports) readable by their owner only."""

from __future__ import annotations

import io
import stat
import time

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeTimedSerializer

from tracker import create_app
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Report

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _form(progress: str, **extra: str) -> dict[str, str]:
    return {"status": "in_progress", "progress": progress, "problems": "", "practices": "",
            "suggestions": "", "next_steps": "", **extra}  # fmt: skip


@pytest.fixture
def liaison(quarter, make_user, login):
    user = make_user("liaison", "mca")
    login(user)
    return user


def _old_token(client, monkeypatch, seconds_ago: int) -> str:
    """The session's CSRF token as a page served ``seconds_ago`` would have signed it."""
    client.csrf_token()  # the session holds its raw token from now on
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    serializer = URLSafeTimedSerializer(client.application.config["SECRET_KEY"], "wtf-csrf-token")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - seconds_ago)
    token = serializer.dumps(raw)
    monkeypatch.setattr(time, "time", real)
    return token


# -- CSRF tokens bounded in time ---------------------------------------------------------------


def test_the_token_lifetime_is_bounded_by_default(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600


def test_an_expired_form_keeps_what_the_user_typed_and_can_be_sent_again(
    client, liaison, quarter, monkeypatch
):
    obligation = quarter.obligation(5, "mca")
    url = f"/obligations/{obligation.id}/edit"
    token = _old_token(client, monkeypatch, 8 * 3600 + 60)
    typed = _form("本季度完成三期培训，覆盖 1200 人次。", csrf_token=token)
    response = client.post(url, data=typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "表单已过期，内容尚未保存" in page and "超过 8 小时" in page
    assert "本季度完成三期培训，覆盖 1200 人次。" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0

    # The page's form posts the same fields with a fresh token: the draft is saved.
    fresh = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    assert f'action="{url}"' in page
    response = client.post(url, data={**typed, "csrf_token": fresh}, csrf=False)
    assert response.status_code == 302, response.headers.get("Location")
    report = db.session.scalar(sa.select(Report))
    assert report.progress == "本季度完成三期培训，覆盖 1200 人次。"


def test_a_token_within_its_lifetime_is_accepted(client, liaison, quarter, monkeypatch):
    obligation = quarter.obligation(5, "mca")
    token = _old_token(client, monkeypatch, 8 * 3600 - 60)
    response = client.post(
        f"/obligations/{obligation.id}/edit", data=_form("进展", csrf_token=token)
    )
    assert response.status_code == 302


def test_a_forged_token_gets_no_resubmit_page(client, liaison, quarter):
    obligation = quarter.obligation(5, "mca")
    response = client.post(
        f"/obligations/{obligation.id}/edit", data=_form("进展", csrf_token="forged")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "表单已失效" in page and 'id="resubmit"' not in page


# -- Origin and Referer on unsafe methods ------------------------------------------------------


def _save(client, obligation, **headers):
    return client.post(f"/obligations/{obligation.id}/edit", data=_form("进展"), headers=headers)


def _read_all(client, **headers):
    return client.post("/notifications/read-all", headers=headers)


def test_a_form_from_another_site_is_refused(client, liaison, quarter):
    obligation = quarter.obligation(5, "mca")
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://localhost:8080"},  # another port is another origin
    ):
        response = _save(client, obligation, **headers)
        assert response.status_code == 400, headers
        assert "来自其他网站" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_same_origin_trusted_origins_and_no_header_pass(client, liaison, quarter, app, monkeypatch):
    assert _read_all(client, Origin="http://localhost").status_code == 302
    assert _read_all(client, Referer="http://localhost/reports").status_code == 302
    assert _read_all(client).status_code == 302  # neither header: the token decides
    assert _read_all(client, Origin="https://portal.example").status_code == 400
    monkeypatch.setitem(app.config, "TRACKER_TRUSTED_ORIGINS", ("https://portal.example",))
    assert _read_all(client, Origin="https://portal.example").status_code == 302


def test_trusted_origins_are_read_as_a_comma_separated_list(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACKER_TRUSTED_ORIGINS", "https://A.example/, https://b.example:8443")
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["TRACKER_TRUSTED_ORIGINS"] == ("https://a.example", "https://b.example:8443")


# -- no-store ------------------------------------------------------------------------------------


def test_reports_evidence_exports_and_the_api_are_never_stored(client, liaison, quarter):
    from tracker.api.services import create_token

    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, services.ReportInput(progress="进展"), actor=liaison, expected_version=None
    )
    item = services.add_evidence(report, "a.pdf", PDF, actor=liaison)
    _, token = create_token(liaison, name="cache", actor=liaison)
    db.session.commit()
    urls = [f"/obligations/{obligation.id}", f"/obligations/{obligation.id}/edit", "/reports",
            f"/evidence/{item.id}", "/exports/template.xlsx?period=2024Q3"]  # fmt: skip
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.headers["Cache-Control"] == "no-store"


# -- files readable by their owner only ---------------------------------------------------------


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_database_file_is_private(tmp_path):
    path = tmp_path / "instance" / "tracker.sqlite3"
    path.parent.mkdir()
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
    )
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.execute(sa.text("INSERT INTO t VALUES (1)"))
        db.session.commit()
        db.engine.dispose()
    assert _mode(path) == 0o600
    for extra in path.parent.glob("tracker.sqlite3-*"):
        assert _mode(extra) == 0o600, extra


def test_an_existing_database_file_is_made_private(tmp_path):
    path = tmp_path / "old.sqlite3"
    path.touch(mode=0o644)
    path.chmod(0o644)
    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    assert _mode(path) == 0o600


def test_evidence_and_exported_files_are_private(client, liaison, quarter, runner, tmp_path):
    obligation = quarter.obligation(5, "mca")
    client.post(f"/obligations/{obligation.id}/edit", data=_form("进展"))
    response = client.post(
        f"/obligations/{obligation.id}/evidence",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    from tracker.reports import evidence
    from tracker.reports.models import Evidence

    stored = db.session.scalar(sa.select(Evidence.stored_name))
    assert _mode(evidence.path_of(stored)) == 0o600
    output = tmp_path / "季度报表.xlsx"
    result = runner.invoke(
        args=["export", "quarterly", "--period", "2024Q3", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    assert _mode(output) == 0o600
