"""Big quarterly workbooks are written off the request path, by the scheduler process.

The ``filed`` quarter has 74 obligations; the threshold is lowered below that so that its
workbook counts as big. What the background writes must be what the request would have sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.exports.conftest import data_rows, load
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.exports import background
from tracker.exports.models import ExportJob, ExportState
from tracker.extensions import db

REPO = Path(__file__).resolve().parents[2]
URL = "/exports/quarterly.xlsx?period=2024Q3"


@pytest.fixture
def big(app, monkeypatch, tmp_path):
    """Every export of more than 10 obligations goes to the background, into a folder of the
    test's own."""
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 10)
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_DIR", str(tmp_path / "exports"))


def _queue(client) -> ExportJob:
    response = client.get(URL)
    assert response.status_code == 303, response.status_code
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.get(ExportJob, job_id)


def _sheets(data: bytes) -> dict[str, list[tuple]]:
    wb = load(data)
    return {name: data_rows(wb[name]) for name in ("报告明细", "逾期清单", "部门考核")}


def test_a_big_export_is_queued_written_and_downloaded_by_who_asked(
    app, client, filed, people, login, big
):
    login(people["coordinator"])
    job = _queue(client)
    assert job.state == ExportState.QUEUED and job.total == 74
    page = client.get(f"/exports/jobs/{job.id}").get_data(as_text=True)
    assert "排队中" in page and 'http-equiv="refresh"' in page
    assert f"/exports/jobs/{job.id}/download" not in page
    assert client.get(f"/exports/jobs/{job.id}/download").status_code == 404  # not written yet

    result = background.run_pending()
    assert (result.written, result.failed) == (1, 0)
    db.session.expire_all()
    assert job.state == ExportState.DONE and job.done == 74 and job.attempts == 1
    page = client.get(f"/exports/jobs/{job.id}").get_data(as_text=True)
    assert "已完成" in page and 'http-equiv="refresh"' not in page
    response = client.get(f"/exports/jobs/{job.id}/download")
    assert response.status_code == 200
    assert "2024Q3" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    written = _sheets(response.data)

    app.config["TRACKER_EXPORT_BACKGROUND_OBLIGATIONS"] = 0  # the same export, in the request
    immediate = client.get(URL)
    assert immediate.status_code == 200
    assert written == _sheets(immediate.data)
    assert len(written["报告明细"]) == 74
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"export.queue", "export.download"} <= actions


def test_the_departments_are_those_the_user_saw_when_asking(client, filed, people, login, big):
    login(people["mps"])
    job = _queue(client)
    background.run_pending()
    response = client.get(f"/exports/jobs/{job.id}/download")
    assert {row[2] for row in data_rows(load(response.data)["报告明细"])} == {"公安部"}


def test_nobody_else_sees_or_downloads_a_users_export(client, filed, people, login, big):
    login(people["coordinator"])
    job = _queue(client)
    background.run_pending()
    for other in ("leader", "mps", "admin"):
        login(people[other])
        assert client.get(f"/exports/jobs/{job.id}").status_code == 403, other
        assert client.get(f"/exports/jobs/{job.id}/download").status_code == 403, other
        assert f"/exports/jobs/{job.id}" not in client.get("/exports/jobs").get_data(as_text=True)
    login(people["coordinator"])
    listing = client.get("/exports/jobs").get_data(as_text=True)
    assert f"/exports/jobs/{job.id}/download" in listing
    assert client.get("/exports/jobs/999999").status_code == 404


def test_asking_again_while_it_is_written_finds_the_same_job(client, filed, people, login, big):
    login(people["coordinator"])
    first = _queue(client)
    assert _queue(client).id == first.id
    background.run_pending()
    assert _queue(client).id != first.id  # once written, asking again writes it afresh
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 2


def test_small_exports_and_a_zero_threshold_stay_in_the_request(
    app, client, filed, people, login, monkeypatch
):
    login(people["coordinator"])
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 74)
    assert client.get(URL).status_code == 200  # 74 is not more than 74
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 0)
    assert client.get(URL).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 0


def test_a_failed_export_says_so_and_leaves_no_file(
    app, client, filed, people, login, big, monkeypatch
):
    login(people["coordinator"])
    job = _queue(client)

    def broken(target, request, *, progress=None):
        Path(target).write_bytes(b"half a workbook")
        raise RuntimeError("disk full")

    monkeypatch.setattr(background, "write_quarterly", broken)
    result = background.run_pending()
    assert (result.written, result.failed) == (0, 1)
    db.session.expire_all()
    assert job.state == ExportState.FAILED and job.file_name is None
    page = client.get(f"/exports/jobs/{job.id}").get_data(as_text=True)
    assert background.FAILED_MESSAGE in page and "disk full" not in page
    assert list(Path(app.config["TRACKER_EXPORT_DIR"]).iterdir()) == []


def test_a_lost_job_is_queued_again_then_given_up(client, filed, people, login, big):
    login(people["coordinator"])
    job = _queue(client)
    long_ago = clock.utcnow() - background.STALE_AFTER - timedelta(minutes=1)
    job.state, job.heartbeat_at, job.attempts = ExportState.RUNNING, long_ago, 1
    db.session.commit()
    result = background.run_pending()
    assert (result.requeued, result.written) == (1, 1)
    db.session.expire_all()
    assert job.state == ExportState.DONE and job.attempts == 2

    again = _queue(client)
    again.state, again.heartbeat_at = ExportState.RUNNING, long_ago
    again.attempts = background.MAX_ATTEMPTS
    db.session.commit()
    result = background.run_pending()
    assert (result.requeued, result.written) == (1, 0)
    db.session.expire_all()
    assert again.state == ExportState.FAILED and again.error == background.GAVE_UP_MESSAGE


def test_a_running_job_with_a_fresh_heartbeat_is_left_alone(client, filed, people, login, big):
    login(people["coordinator"])
    job = _queue(client)
    job.state, job.heartbeat_at = ExportState.RUNNING, clock.utcnow()
    db.session.commit()
    assert background.run_pending().written == 0
    db.session.expire_all()
    assert job.state == ExportState.RUNNING


def test_files_are_removed_after_the_keeping_time(app, client, filed, people, login, big, quarter):
    login(people["coordinator"])
    job = _queue(client)
    background.run_pending()
    db.session.expire_all()
    path = Path(app.config["TRACKER_EXPORT_DIR"]) / job.file_name
    assert path.is_file()
    hours = app.config["TRACKER_EXPORT_KEEP_HOURS"]
    quarter.at("2024-10-13 15:00")  # a day and more later
    assert hours <= 24
    result = background.run_pending()
    assert result.expired == 1 and not path.exists()
    db.session.expire_all()
    assert job.state == ExportState.EXPIRED
    assert client.get(f"/exports/jobs/{job.id}/download").status_code == 404
    assert "已过期" in client.get(f"/exports/jobs/{job.id}").get_data(as_text=True)
    quarter.at("2024-10-21 15:00")  # a week after it was written: forgotten
    background.run_pending()
    assert db.session.scalars(sa.select(ExportJob.id)).all() == []


def test_the_request_survives_its_json_round_trip(filed):
    from tracker.catalogue.models import Role
    from tracker.dashboard.rag import Rag
    from tracker.exports.quarterly import QuarterlyRequest
    from tracker.periods import Period

    options = {"section": "三", "role": Role.LEAD, "rag": Rag.RED, "prepared_by_id": 7}
    request = QuarterlyRequest(Period.parse("2024Q3"), 3, frozenset({5, 2}), "公安部", **options)
    assert background.request_from_json(background.request_to_json(request)) == request
    whole = QuarterlyRequest(Period.parse("2024Q3"))
    assert background.request_from_json(background.request_to_json(whole)) == whole


def _process_env(app) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        TRACKER_SECRET_KEY="test",
        TRACKER_EXPORT_DIR=app.config["TRACKER_EXPORT_DIR"],
        TRACKER_EXPORT_POLL_SECONDS="1",
        TRACKER_SCHEDULER_HEARTBEAT_SECONDS="1",
        TRACKER_SCHEDULER_LEASE_SECONDS="6",
        TRACKER_REMIND_AT="23:59",
    )
    return env


def test_two_processes_write_each_queued_export_once(app, client, filed, people, login, big):
    """Two real ``flask export run-jobs`` at once over six queued exports."""
    for who in ("coordinator", "leader", "admin", "mps", "mca", "mps_viewer"):
        login(people[who])
        _queue(client)
    db.session.commit()
    flask = Path(sys.executable).with_name("flask")
    env = _process_env(app)
    command = [str(flask), "--app", "tracker", "export", "run-jobs"]
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    processes = [subprocess.Popen(command, cwd=REPO, env=env, **options) for _ in range(2)]
    outputs = [process.communicate(timeout=180)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    db.session.expire_all()
    jobs = list(db.session.scalars(sa.select(ExportJob)))
    assert [(job.state, job.attempts) for job in jobs] == [(ExportState.DONE, 1)] * 6
    files = sorted(p.name for p in Path(app.config["TRACKER_EXPORT_DIR"]).iterdir())
    assert files == sorted(job.file_name for job in jobs)


def test_the_schedulers_exports_job_writes_a_queued_export(app, client, filed, people, login, big):
    """The job table's ``exports`` entry, run as the scheduler runs it (its own application
    context, the lease taken first). A real scheduler process would first open and freeze every
    quarter up to today's real date, which says nothing about exports; the two processes
    above are the real-process test."""
    from tracker.jobs import JOBS, runner

    assert any(job.id == "exports" and job.on_gain for job in JOBS)
    login(people["coordinator"])
    job = _queue(client)
    db.session.commit()
    assert runner(app, owner="exports-test").run("exports") is True
    db.session.expire_all()
    assert db.session.get(ExportJob, job.id).state == ExportState.DONE
    response = client.get(f"/exports/jobs/{job.id}/download")
    assert len(data_rows(load(response.data)["报告明细"])) == 74
