"""Filing and reviewing through the API: the reporting rules, and nothing written on failure."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports.models import KeyFigure, Report, ReportVersion

FILLED = {"status": "in_progress", "progress": "已开展培训 3 期。"}


def _counts() -> tuple[int, ...]:
    """Rows that any write would add to: reports, figures, versions, audit events (of a
    change made: a refused or failed request is audited too, with its outcome)."""
    done = sa.select(AuditEvent).where(AuditEvent.outcome == "success").subquery()
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Report, KeyFigure, ReportVersion, done)
    )


ROLES = {
    "coordinator": ("coordinator", "mca"),
    "viewer": ("viewer", "mca"),
    "leader": ("viewer", None),
    "admin": ("admin", None),
}


@pytest.fixture
def people(quarter, make_user, api):
    """API clients made on first use: ``people["mohrss"]`` is a liaison of that department;
    also ``coordinator``, ``viewer`` (of mca), ``leader`` and ``admin``."""

    class People(dict):
        def __missing__(self, name):
            role, department = ROLES.get(name, ("liaison", name))
            self[name] = api(make_user(role, department))
            return self[name]

    return People()


def _file(people, quarter, number, code, **fields):
    body = {"obligation_id": quarter.obligation(number, code).id, **FILLED, **fields}
    response = people[code].post("/reports", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_filing_creates_a_draft(people, quarter):
    figures = [
        {"name": "培训人次", "value": 1200, "unit": "人次"},
        {"name": "覆盖率", "value": "35.5"},
    ]
    response = people["mca"].post(
        "/reports",
        json={
            "obligation_id": quarter.obligation(5, "mca").id,
            **FILLED,
            "problems": "基层人手不足。",
            "figures": figures,
        },
    )
    assert response.status_code == 201
    report = response.get_json()
    assert response.headers["Location"] == f"/api/v1/reports/{report['id']}"
    assert report["state"] == "draft" and report["version"] == 1
    assert (report["task_number"], report["department"]["code"], report["period"]) == (
        5,
        "mca",
        "2024Q3",
    )
    assert report["figures"] == [
        {"name": "培训人次", "value": "1200", "unit": "人次"},
        {"name": "覆盖率", "value": "35.5", "unit": ""},
    ]
    assert people["mca"].get(f"/reports/{report['id']}").get_json() == report
    listed = people["mca"].get("/obligations").get_json()["items"]
    assert next(o for o in listed if o["report_id"] == report["id"])["state"] == "draft"


@pytest.mark.parametrize("who", ["mohrss", "coordinator", "viewer", "leader", "admin"])
def test_only_the_owning_liaison_files(people, quarter, who):
    caller = people[who]
    before = _counts()
    response = caller.post(
        "/reports", json={"obligation_id": quarter.obligation(5, "mca").id, **FILLED}
    )
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"
    assert _counts() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"obligation_id"}),
        ({"obligation_id": "5"}, {"obligation_id"}),
        ({"obligation_id": 999_999}, {"obligation_id"}),
        ({"obligation_id": True}, {"obligation_id"}),
        (
            {"status": "done", "progress": 5, "colour": "red"},
            {"obligation_id", "status", "progress", "colour"},
        ),
        ({"progress": "长" * 5001}, {"progress"}),
        ({"problems": "a\x00b"}, {"problems"}),
        ({"figures": [{"name": "人次", "value": "很多"}]}, {"figures[0]"}),
        ({"figures": [{"name": " ", "value": 1}]}, {"figures[0]"}),
        ({"figures": [{"name": "x", "value": 1e17}]}, {"figures[0]"}),
        ({"figures": [{"name": "x", "value": 1}] * 6}, {"figures"}),
        ({"figures": "1200"}, {"figures"}),
    ],
)
def test_invalid_input_is_400_with_a_message_per_field(people, quarter, body, fields):
    if "obligation_id" not in fields:
        body = {"obligation_id": quarter.obligation(5, "mca").id, **body}
    caller = people["mca"]
    before = _counts()
    response = caller.post("/reports", json=body)
    assert response.status_code == 400
    error = response.get_json()
    assert error["error"] == "invalid" and set(error["fields"]) == fields
    assert all(error["fields"].values())
    assert _counts() == before


def test_bodies_must_be_json_objects(people):
    caller = people["mca"]
    assert caller.post("/reports", data="obligation_id=1").status_code == 415
    for body in ("[1, 2]", "{not json", ""):
        response = caller.post("/reports", data=body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.get_json()["error"] == "invalid_json"


def test_a_second_report_for_one_obligation_is_a_conflict(people, quarter):
    first = _file(people, quarter, 5, "mca")
    response = people["mca"].post(
        "/reports", json={"obligation_id": quarter.obligation(5, "mca").id, **FILLED}
    )
    assert response.status_code == 409
    assert response.get_json()["error"] == "report_exists"
    assert str(first["id"]) in response.get_json()["message"]


def test_patch_changes_only_what_it_names_and_needs_the_version(people, quarter):
    report = _file(
        people, quarter, 5, "mca", problems="人手不足", figures=[{"name": "人次", "value": 1}]
    )
    url = f"/reports/{report['id']}"
    missing = people["mca"].patch(url, json={"progress": "新进展"})
    assert missing.status_code == 400 and "version" in missing.get_json()["fields"]
    updated = people["mca"].patch(url, json={"version": 1, "progress": "新进展"}).get_json()
    assert updated["version"] == 2
    assert (updated["progress"], updated["problems"]) == ("新进展", "人手不足")
    assert updated["figures"] == [{"name": "人次", "value": "1", "unit": ""}]
    cleared = people["mca"].patch(url, json={"version": 2, "figures": [], "status": None})
    assert cleared.get_json()["figures"] == [] and cleared.get_json()["status"] is None


def test_a_stale_version_is_409_and_changes_nothing(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    assert people["mca"].patch(url, json={"version": 1, "progress": "甲的修改"}).status_code == 200
    before = _counts()
    stale = people["mca"].patch(url, json={"version": 1, "progress": "乙的修改"})
    assert stale.status_code == 409
    assert stale.get_json()["error"] == "stale_version"
    assert _counts() == before
    assert people["mca"].get(url).get_json()["progress"] == "甲的修改"


def test_submit_accept_and_read_back(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    submitted = people["mca"].post(f"{url}/submit").get_json()
    assert submitted["state"] == "submitted" and submitted["first_submitted_at"]
    assert people["mca"].patch(url, json={"version": submitted["version"]}).status_code == 409
    accepted = people["coordinator"].post(
        f"{url}/accept", json={"confirmed_status": "completed", "comment": "同意。"}
    )
    assert accepted.status_code == 200
    body = people["viewer"].get(url).get_json()
    assert (body["state"], body["confirmed_status"], body["review_comment"]) == (
        "accepted",
        "completed",
        "同意。",
    )
    again = people["coordinator"].post(f"{url}/accept", json={"confirmed_status": "completed"})
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_state"


def test_return_needs_a_reason_and_the_liaison_resubmits(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit", json={"version": 1})
    for body in ({}, {"reason": "   "}):
        refused = people["coordinator"].post(f"{url}/return", json=body)
        assert refused.status_code == 400 and "reason" in refused.get_json()["fields"]
    returned = people["coordinator"].post(f"{url}/return", json={"reason": "请补充数据。"})
    assert returned.get_json()["state"] == "returned"
    assert returned.get_json()["return_reason"] == "请补充数据。"
    version = returned.get_json()["version"]
    fixed = people["mca"].patch(url, json={"version": version, "progress": "补充：1200 人次。"})
    assert fixed.status_code == 200
    assert people["mca"].post(f"{url}/submit").get_json()["state"] == "submitted"


@pytest.mark.parametrize("who", ["mca", "viewer", "leader", "admin"])
def test_only_coordinators_review(people, quarter, who):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit")
    reviewer = people[who]
    before = _counts()
    accept = reviewer.post(f"{url}/accept", json={"confirmed_status": "completed"})
    refuse = reviewer.post(f"{url}/return", json={"reason": "x"})
    assert (accept.status_code, refuse.status_code) == (403, 403)
    assert _counts() == before


def test_submit_needs_status_and_progress(people, quarter):
    report = (
        people["mca"]
        .post(
            "/reports",
            json={"obligation_id": quarter.obligation(5, "mca").id, "problems": "只写了困难"},
        )
        .get_json()
    )
    response = people["mca"].post(f"/reports/{report['id']}/submit")
    assert response.status_code == 409
    assert response.get_json()["error"] == "invalid_state"
    assert "自评状态、工作进展" in response.get_json()["message"]


def test_the_lead_submits_after_its_supporting_departments(people, quarter):
    lead = _file(people, quarter, 3, "mohrss")
    before = _counts()
    refused = people["mohrss"].post(f"/reports/{lead['id']}/submit")
    assert refused.status_code == 409
    assert "农业农村部、文化和旅游部、全国妇联" in refused.get_json()["message"]
    assert _counts() == before
    for code in ("moa", "mct", "acwf"):
        support = _file(people, quarter, 3, code)
        people[code].post(f"/reports/{support['id']}/submit")
    # The lead reads its supporters' input; another department does not.
    assert people["mohrss"].get(f"/reports/{support['id']}").status_code == 200
    assert people["mca"].get(f"/reports/{support['id']}").status_code == 403
    assert people["mohrss"].post(f"/reports/{lead['id']}/submit").status_code == 200


def test_a_version_guard_on_a_transition(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit")
    stale = people["coordinator"].post(
        f"{url}/accept", json={"confirmed_status": "completed", "version": 1}
    )
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    assert people["mca"].get(url).get_json()["state"] == "submitted"


def test_unknown_urls_and_methods_answer_json(people):
    client = people["mca"].client
    headers = {"Authorization": f"Bearer {people['mca'].token}"}
    for method, url, status in (
        ("GET", "/api/v1/nothing-here", 404),
        ("GET", "/api/v1/reports/abc", 404),
        ("GET", "/api/v1/reports/99999999999", 404),
        ("DELETE", "/api/v1/reports/1", 405),
    ):
        response = client.open(url, method=method, headers=headers, csrf=False)
        assert response.status_code == status, url
        assert response.get_json()["error"] in ("not_found", "method_not_allowed")


def test_an_accept_without_a_confirmed_status_confirms_the_self_rating(people, quarter):
    report = _file(people, quarter, 5, "mca")  # self-rated in_progress
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit")
    accepted = people["coordinator"].post(f"{url}/accept", json={})
    assert accepted.status_code == 200
    assert (accepted.get_json()["state"], accepted.get_json()["confirmed_status"]) == (
        "accepted",
        "in_progress",
    )


def test_reopen_needs_a_reason_and_lets_the_coordinator_correct_the_rating(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit")
    people["coordinator"].post(f"{url}/accept", json={"confirmed_status": "not_started"})
    before = _counts()
    for body in ({}, {"reason": "  "}):
        refused = people["coordinator"].post(f"{url}/reopen", json=body)
        assert refused.status_code == 400 and "reason" in refused.get_json()["fields"]
    assert people["mca"].post(f"{url}/reopen", json={"reason": "x"}).status_code == 403
    assert _counts() == before
    reopened = people["coordinator"].post(f"{url}/reopen", json={"reason": "核定状态选错了。"})
    assert reopened.status_code == 200 and reopened.get_json()["state"] == "submitted"
    again = people["coordinator"].post(f"{url}/reopen", json={"reason": "x"})
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_state"
    corrected = people["coordinator"].post(f"{url}/accept", json={"confirmed_status": "completed"})
    assert corrected.get_json()["confirmed_status"] == "completed"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.reopen"))
    assert event is not None and event.after["reopen_reason"] == "核定状态选错了。"


def test_the_liaison_withdraws_a_submission_nobody_has_reviewed(people, quarter):
    report = _file(people, quarter, 5, "mca")
    url = f"/reports/{report['id']}"
    people["mca"].post(f"{url}/submit")
    assert people["coordinator"].post(f"{url}/withdraw").status_code == 403
    withdrawn = people["mca"].post(f"{url}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "draft"
    assert withdrawn.get_json()["first_submitted_at"] is None
    people["mca"].post(f"{url}/submit")
    people["coordinator"].post(f"{url}/return", json={"reason": "请补充。"})
    people["mca"].post(f"{url}/submit")
    people["coordinator"].post(f"{url}/accept", json={})
    assert people["mca"].post(f"{url}/withdraw").status_code == 409  # accepted
    people["coordinator"].post(f"{url}/reopen", json={"reason": "重新核定。"})
    before = _counts()
    refused = people["mca"].post(f"{url}/withdraw")  # submitted, but a coordinator acted
    assert refused.status_code == 409 and "不能撤回" in refused.get_json()["message"]
    assert _counts() == before
