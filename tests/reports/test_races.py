"""Two writers that pass the version check together: the loser gets 409 and keeps its input."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import Report, ReportVersion


def _form(progress: str, version: str) -> dict[str, str]:
    return {"status": "in_progress", "progress": progress, "problems": "", "practices": "",
            "suggestions": "", "next_steps": "", "version": version}  # fmt: skip


def test_a_save_that_loses_the_race_answers_409_with_the_users_text(
    client, quarter, make_user, login, monkeypatch
):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    services.save_draft(
        obligation, services.ReportInput(progress="第一稿"), actor=liaison, expected_version=None
    )
    db.session.commit()
    report_id = obligation.report.id
    login(liaison)

    apply_input = services._apply_input

    def racing_apply(report, data):
        # Another request commits its save after this one's version check, before its write.
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(Report)
                .where(Report.id == report_id)
                .values(progress="别人的修改", version=Report.version + 1)
            )
        apply_input(report, data)

    monkeypatch.setattr(services, "_apply_input", racing_apply)
    response = client.post(f"/obligations/{obligation.id}/edit", data=_form("我的修改", "1"))
    monkeypatch.setattr(services, "_apply_input", apply_input)

    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "刚被他人修改" in html
    assert "我的修改" in html  # the form keeps what the user typed
    db.session.expire_all()
    report = db.session.get(Report, report_id)
    assert (report.progress, report.version) == ("别人的修改", 2)
    versions = db.session.scalar(
        sa.select(sa.func.count()).where(ReportVersion.report_id == report_id)
    )
    assert versions == 1  # nothing of the losing save was kept


def test_twenty_concurrent_saves_give_one_success_and_409s(app, quarter, make_user):
    import threading

    from tests.conftest import PASSWORD

    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    services.save_draft(
        obligation, services.ReportInput(progress="第一稿"), actor=liaison, expected_version=None
    )
    db.session.commit()
    url = f"/obligations/{obligation.id}/edit"
    clients = []
    for _ in range(20):
        client = app.test_client()
        response = client.post("/login", data={"username": liaison.username, "password": PASSWORD})
        assert response.status_code == 302
        clients.append(client)
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def save(client, number):
        with app.app_context():
            start.wait()
            statuses.append(client.post(url, data=_form(f"第{number}人的修改", "1")).status_code)

    threads = [threading.Thread(target=save, args=(c, n)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [302] + [409] * 19
    db.session.expire_all()
    report = db.session.get(Report, obligation.report.id)
    assert report.version == 2
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(ReportVersion.report_id == report.id))
        == 2
    )
