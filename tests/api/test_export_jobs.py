"""A quarterly workbook too large for the request, through the API: 202, a job resource, the
download once the scheduler process has written it, for the caller alone."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from tests.exports.conftest import data_rows, load
from tracker.api import URL_PREFIX
from tracker.audit.models import AuditEvent
from tracker.exports import background
from tracker.exports import queries as export_queries
from tracker.exports.models import ExportJob, ExportState
from tracker.extensions import db
from tracker.periods import Period

PERIOD = {"period": "2024Q3"}


@pytest.fixture
def people(make_user):
    return {
        "coordinator": make_user("coordinator", "mca"),
        "other": make_user("coordinator", "mca"),
        "liaison": make_user("liaison", "mohrss"),
    }


@pytest.fixture
def big(app, monkeypatch, tmp_path):
    """Every export of more than one obligation goes to the background."""
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 1)
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_DIR", str(tmp_path / "exports"))


def _cells(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


def test_a_big_export_answers_202_then_the_job_then_the_workbook(app, api, quarter, people, big):
    caller = api(people["coordinator"])
    queued = caller.get("/exports/quarterly.xlsx", query_string=PERIOD)
    assert queued.status_code == 202
    body = queued.get_json()
    location = queued.headers["Location"]
    assert location == f"{URL_PREFIX}/exports/jobs/{body['id']}"
    assert body["state"] == "queued" and body["download"] is None
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(ExportJob).where(ExportJob.id == body["id"])
    )
    assert total == 1 and body["total"] > 1
    assert not Path(app.config["TRACKER_EXPORT_DIR"]).exists()  # reading creates no folder

    polled = caller.get(location)
    assert polled.status_code == 200 and polled.get_json()["state"] == "queued"
    early = caller.get(f"{location}/download")
    assert early.status_code == 409 and early.get_json()["error"] == "invalid_state"
    # Asking again while it waits finds the same job.
    assert caller.get("/exports/quarterly.xlsx", query_string=PERIOD).get_json()["id"] == body["id"]

    assert background.run_pending().written == 1
    done = caller.get(location).get_json()
    assert done["state"] == "done" and done["percent"] == 100 and done["done"] == done["total"]
    assert done["download"] == f"{location}/download"
    workbook = caller.get(done["download"])
    assert workbook.status_code == 200 and workbook.mimetype.endswith("spreadsheetml.sheet")
    assert "2024Q3" in workbook.headers["Content-Disposition"]

    app.config["TRACKER_EXPORT_BACKGROUND_OBLIGATIONS"] = 0  # the same export, in the request
    immediate = caller.get("/exports/quarterly.xlsx", query_string=PERIOD)
    assert immediate.status_code == 200
    assert _cells(workbook.data) == _cells(immediate.data)
    actions = list(db.session.scalars(sa.select(AuditEvent.action)))
    assert "export.queue" in actions and actions.count("export.download") == 2


def test_only_the_caller_sees_or_downloads_its_job(api, quarter, people, big):
    job_id = api(people["coordinator"]).get("/exports/quarterly.xlsx", query_string=PERIOD)
    job_id = job_id.get_json()["id"]
    background.run_pending()
    for other in ("other", "liaison"):
        caller = api(people[other])
        assert caller.get(f"/exports/jobs/{job_id}").status_code == 403, other
        assert caller.get(f"/exports/jobs/{job_id}/download").status_code == 403, other
    assert api(people["coordinator"]).get("/exports/jobs/999999").status_code == 404
    assert api(token=None).get(f"/exports/jobs/{job_id}").status_code == 401


def test_a_scoped_callers_job_holds_its_department_only(api, quarter, people, big):
    caller = api(people["liaison"])
    job_id = caller.get("/exports/quarterly.xlsx", query_string=PERIOD).get_json()["id"]
    background.run_pending()
    data = caller.get(f"/exports/jobs/{job_id}/download").data
    departments = {row[2] for row in data_rows(load(data)["报告明细"])}
    assert departments == {"人力资源社会保障部"}


def test_a_removed_file_is_404_and_the_job_says_why(app, api, quarter, people, big):
    caller = api(people["coordinator"])
    job_id = caller.get("/exports/quarterly.xlsx", query_string=PERIOD).get_json()["id"]
    background.run_pending()
    job = db.session.get(ExportJob, job_id)
    (Path(app.config["TRACKER_EXPORT_DIR"]) / job.file_name).unlink()
    assert caller.get(f"/exports/jobs/{job_id}").get_json()["download"] is None
    assert caller.get(f"/exports/jobs/{job_id}/download").status_code == 404
    job.state, job.error = ExportState.FAILED, background.FAILED_MESSAGE
    db.session.commit()
    failed = caller.get(f"/exports/jobs/{job_id}").get_json()
    assert failed["state"] == "failed" and failed["error"] == background.FAILED_MESSAGE


def test_a_small_export_stays_in_the_request(app, api, quarter, people, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 100_000)
    response = api(people["coordinator"]).get("/exports/quarterly.xlsx", query_string=PERIOD)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExportJob)) == 0


def test_the_obligation_count_is_kept_until_the_quarter_changes(app, quarter, count_queries):
    """The count that decides where an export is written is not run again on each download,
    and is run again after a change to the quarter."""
    period = Period(2024, 3)
    first = export_queries.period_obligation_count(period)
    db.session.commit()
    with count_queries() as counter:
        assert export_queries.period_obligation_count(period) == first
    assert not any("count(" in s.lower() for s in counter.statements), counter.statements
    db.session.commit()
    db.session.delete(quarter.obligation(5, "mca"))
    db.session.commit()
    assert export_queries.period_obligation_count(period) == first - 1
