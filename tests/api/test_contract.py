"""The OpenAPI document is the contract: complete, valid, and kept by every response.

* every API route is documented, and every documented operation exists;
* the document is valid OpenAPI 3.1;
* every documented response (each status of each operation) is produced by a scripted call
  and matches its schema (the ``api`` client validates every response it receives);
* schemathesis fuzzes every operation from the document, with valid and invalid input, as a
  liaison and as a coordinator: no server error, only documented statuses, content types and
  bodies, and input that breaks the schema is refused.
"""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tracker.api import URL_PREFIX
from tracker.api.schemas import openapi_document
from tracker.exports import background
from tracker.extensions import db
from tracker.ratelimit import limiter


def _documented_operations() -> set[tuple[str, str]]:
    document = openapi_document()
    return {
        (URL_PREFIX + path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
    }


def test_every_route_is_documented_and_nothing_else(app):
    routes = {
        (_template(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == _documented_operations()


def _template(rule: str) -> str:
    """``/api/v1/reports/<int(...):report_id>`` → ``/api/v1/reports/{report_id}``."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1(app):
    document = app.test_client().get(f"{URL_PREFIX}/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()
    for name, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["summary"] and operation["responses"], f"{method} {name}"
            assert "operationId" in operation


def test_every_documented_response_is_seen_and_matches_its_schema(
    api, app, contract, quarter, make_user, monkeypatch, tmp_path
):
    """One call for each documented (operation, status), each checked against its schema."""
    contract.seen.clear()
    mca_user = make_user("liaison", "mca")
    mca, mohrss = api(mca_user), api(make_user("liaison", "mohrss"))
    coordinator, anonymous = api(make_user("coordinator", "mca")), api(token=None)
    item5 = quarter.obligation(5, "mca").id
    lead3 = quarter.obligation(3, "mohrss").id

    api(token=None).get("/openapi.json")
    reads = ("/me", "/departments", "/tasks", "/periods", "/obligations", "/dashboard",
             "/notifications", "/exports/quarterly.xlsx", "/tasks/1/plans",
             "/tasks/1/delivery")  # fmt: skip
    for path in reads:
        mca.get(path)
        anonymous.get(path)
        mca.get(path, query_string={"perod": "2024Q3"})  # an unknown argument is refused
    # A token whose owner must first change a one-time password: 403 on every operation.
    newcomer = make_user("liaison", "mca")
    waiting = api(newcomer)
    newcomer.must_change_password = True
    db.session.commit()
    for path in reads:
        waiting.get(path)
    mca.get("/tasks", query_string={"document": "没有"})
    mca.get("/notifications", query_string={"unread": "yes"})
    for path in ("/obligations", "/dashboard", "/exports/quarterly.xlsx"):
        mca.get(path, query_string={"period": "2024"})
        mca.get(path, query_string={"department": "mohrss"})

    anonymous.post("/reports", json={})
    mca.post("/reports", json={})
    mca.post("/reports", data="x", content_type="text/plain")
    mohrss.post("/reports", json={"obligation_id": item5})
    draft = mca.post("/reports", json={"obligation_id": item5, "progress": "x"}).get_json()
    mca.post("/reports", json={"obligation_id": item5})
    filled = {"status": "ongoing", "progress": "x"}
    lead = mohrss.post("/reports", json={"obligation_id": lead3, **filled})
    url, lead_url = f"/reports/{draft['id']}", f"/reports/{lead.get_json()['id']}"

    transitions = ("submit", "accept", "return", "reopen", "withdraw")
    for path in (url, *(f"{url}/{name}" for name in transitions)):
        method = anonymous.get if path == url else anonymous.post
        method(path)
        (mca.get if path == url else mca.post)(path.replace(str(draft["id"]), "99999"))
        sender = coordinator if path.endswith(("accept", "return", "reopen")) else mca
        sender.request(
            "PATCH" if path == url else "POST", path, data="x", content_type="text/plain"
        )
    mca.patch("/reports/99999", json={"version": 1})
    anonymous.patch(url, json={"version": 1})
    mohrss.get(url)
    mca.get(url, query_string={"x": "1"})
    mohrss.patch(url, json={"version": 1})
    mca.patch(url, json={})
    mca.patch(url, json={"version": 7})
    mca.patch(url, json={"version": 1, "status": "in_progress"})
    mca.get(url)
    mca.post(f"{url}/submit", json={"version": "1"})
    mohrss.post(f"{url}/submit")
    mohrss.post(f"{lead_url}/submit")  # the supporting departments have not reported: 409
    mca.post(f"{url}/submit")
    mca.post(f"{url}/accept", json={"confirmed_status": "completed"})
    coordinator.post(f"{url}/accept", json={"confirmed_status": "nope"})
    coordinator.post(f"{url}/return", json={})
    mca.post(f"{url}/return", json={"reason": "x"})
    coordinator.post(f"{url}/return", json={"reason": "请补充。"})
    coordinator.post(f"{url}/return", json={"reason": "again"})
    mca.post(f"{url}/submit")
    coordinator.post(f"{url}/accept", json={"confirmed_status": "ongoing"})
    coordinator.post(f"{url}/accept", json={"confirmed_status": "ongoing"})
    mca.post(f"{url}/submit", json={})
    mca.post(f"{url}/reopen", json={"reason": "x"})
    coordinator.post(f"{url}/reopen", json={})
    coordinator.post(f"{url}/reopen", json={"reason": "核定状态有误。"})
    coordinator.post(f"{url}/reopen", json={"reason": "again"})
    mohrss.post(f"{url}/withdraw")
    mca.post(f"{url}/withdraw", json={"version": "x"})
    mca.post(f"{url}/withdraw")  # the coordinator reopened it: 409
    coordinator.post(f"{url}/accept", json={})
    joint = mca.post("/reports", json={"obligation_id": quarter.obligation(1, "mca").id, **filled})
    joint_url = f"/reports/{joint.get_json()['id']}"
    mca.post(f"{joint_url}/submit")
    mca.post(f"{joint_url}/withdraw", json={})

    # Sign-off inside the department (审核签发), switched on for 民政部 with an approver.
    from tracker.auth.services import resolve_department

    resolve_department("mca").signoff_required = True
    db.session.commit()
    approver, mohrss_approver = (
        api(make_user("approver", "mca")),
        api(make_user("approver", "mohrss")),
    )
    mca.post(f"{url}/submit")  # reopened above; a fresh draft below for the sign-off
    signed = mca.post("/reports", json={"obligation_id": quarter.obligation(6, "mca").id, **filled})
    signed_url = f"/reports/{signed.get_json()['id']}"
    for name in ("request-approval", "cancel-approval", "approve", "return-to-liaison"):
        path = f"{signed_url}/{name}"
        anonymous.post(path)
        sender = approver if name in ("approve", "return-to-liaison") else mca
        sender.post(f"/reports/99999/{name}", json={"reason": "x"})
        sender.post(path, data="x", content_type="text/plain")
        sender.post(path, json={"version": "x"})
        mohrss_approver.post(path, json={"reason": "x"})
        mohrss.post(path, json={"reason": "x"})
    mca.post(f"{signed_url}/submit")  # 409: the department signs off
    approver.post(f"{signed_url}/approve")  # 409: not sent for approval yet
    mca.post(f"{signed_url}/cancel-approval")  # 409: nothing to take back
    mca.post(f"{signed_url}/request-approval")
    mca.post(f"{signed_url}/request-approval", json={"version": 1})  # 409: stale version
    mca.post(f"{signed_url}/cancel-approval", json={})
    mca.post(f"{signed_url}/request-approval")
    approver.post(f"{signed_url}/return-to-liaison", json={})
    approver.post(f"{signed_url}/return-to-liaison", json={"reason": "请补充数据。"})
    approver.post(f"{signed_url}/return-to-liaison", json={"reason": "again"})  # 409
    mca.post(f"{signed_url}/request-approval", json={})
    approver.post(f"{signed_url}/approve", json={})

    # A and B liaisons, named by the system administrator.
    admin = api(make_user("admin"))
    liaisons_url = "/departments/mca/liaisons"
    anonymous.post(liaisons_url, json={})
    mca.post(liaisons_url, json={})  # 403: a liaison names nobody
    admin.post("/departments/none/liaisons", json={})
    admin.post(liaisons_url, data="x", content_type="text/plain")
    admin.post(liaisons_url, json={"main_id": "x"})
    admin.post(liaisons_url, json={"main_id": mca_user.id})

    # Delivery plans on item 23 (民政部 leads): propose, return, approve; the delivery reads.
    from tests.api.test_delivery import proposal
    from tests.delivery.conftest import task

    plans = f"/tasks/{task(23).id}/plans"
    for path in (plans, f"/tasks/{task(23).id}/delivery"):
        mca.get(path)
        mohrss.get(path)  # not on the item: 403
        anonymous.get(path)
        mca.get(path.replace(str(task(23).id), "99999"))
        mca.get(path, query_string={"perod": "2024Q3"})
    anonymous.post(plans, json={})
    mohrss.post(plans, json=proposal())
    mca.post("/tasks/99999/plans", json=proposal())
    mca.post(plans, data="x", content_type="text/plain")
    mca.post(plans, json=proposal(target_value=-1))
    plan = mca.post(plans, json=proposal()).get_json()
    for name in ("approve", "return"):
        path = f"/plans/{plan['id']}/{name}"
        anonymous.post(path)
        mca.post(path, json={"reason": "x"})
        coordinator.post(f"/plans/99999/{name}", json={"reason": "x"})
        coordinator.post(path, data="x", content_type="text/plain")
        coordinator.post(path, json={"revision": "x"})
    coordinator.post(f"/plans/{plan['id']}/return", json={"reason": "请补充。"})
    coordinator.post(f"/plans/{plan['id']}/approve")  # returned: 409
    coordinator.post(f"/plans/{plan['id']}/return", json={"reason": "again"})  # 409
    mca.post(plans, json=proposal())
    coordinator.post(f"/plans/{plan['id']}/approve", json={})
    mca.get(plans)
    # The coordinator's judgement of the quarter, and the indicator's trajectory.
    judge = f"/tasks/{task(23).id}/judgement"
    period = mca.get(f"/tasks/{task(23).id}/delivery").get_json()["period"]
    anonymous.post(judge, json={})
    mca.post(judge, json={"period": period, "step": "on_pace"})  # a liaison: 403
    coordinator.post("/tasks/99999/judgement", json={"period": period, "step": "on_pace"})
    coordinator.post(judge, data="x", content_type="text/plain")
    coordinator.post(judge, json={"period": period, "step": "sideways"})
    coordinator.post(judge, json={"period": period, "step": "severe", "reason": "严重滞后"})
    stale = {"period": period, "step": "severe", "reason": "严重滞后", "revision": 99}
    coordinator.post(judge, json=stale)  # 409
    mca.get(f"/tasks/{task(23).id}/delivery")  # with the judgement
    key = mca.get(plans).get_json()["items"][0]["indicators"][0]["key"]
    trajectory = f"/tasks/{task(23).id}/indicators/{key}/trajectory"
    mca.get(trajectory)
    mohrss.get(trajectory)  # not on the item: 403
    anonymous.get(trajectory)
    mca.get(f"/tasks/{task(23).id}/indicators/nosuch/trajectory")
    mca.get(trajectory, query_string={"perod": "2024Q3"})
    # A workbook too large for the request: 202 and a job, polled, then downloaded.
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 1)
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_DIR", str(tmp_path / "exports"))
    job_url = coordinator.get("/exports/quarterly.xlsx").headers["Location"]
    for path in (job_url, f"{job_url}/download"):
        anonymous.get(path)
        mca.get(path)  # another user's job: 403
        coordinator.get(path.replace(job_url, "/exports/jobs/99999"))
        coordinator.get(path, query_string={"x": "1"})
    coordinator.get(f"{job_url}/download")  # not written yet: 409
    background.run_pending()
    coordinator.get(job_url)
    coordinator.get(f"{job_url}/download")
    monkeypatch.setitem(app.config, "TRACKER_EXPORT_BACKGROUND_OBLIGATIONS", 0)

    # Every operation answers 429 past its client address's limit (tracker/ratelimit.py).
    monkeypatch.setitem(app.config, "TRACKER_RATELIMIT_API_PER_ADDRESS", "1 per minute")
    limiter.reset()
    for n, (path, item) in enumerate(contract.document["paths"].items()):
        for method in item:
            if method != "parameters":
                for _ in range(2):
                    anonymous.request(
                        method.upper(),
                        path.replace("{report_id}", str(draft["id"]))
                        .replace("{task_id}", "1").replace("{plan_id}", "1")
                        .replace("{job_id}", "1").replace("{key}", "k"),
                        environ_base={"REMOTE_ADDR": f"10.9.{n}.{len(method)}"},
                    )  # fmt: skip
    limiter.reset()

    documented = set()
    for path, item in contract.document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                documented |= {(path, method, status) for status in operation["responses"]}
    assert documented - contract.seen == set(), "documented but never produced"
    assert contract.seen - documented == set()


# -- fuzzing ---------------------------------------------------------------------------------

# Examples per operation, caller and mode; the heavy reads (a workbook, the dashboard) get fewer.
EXAMPLES = {"/exports/quarterly.xlsx": 4, "/dashboard": 6}
DEFAULT_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_world(quarter, make_user, token_for):
    """Tokens of a liaison (with a draft on item 5) and of a coordinator."""
    from tracker.extensions import db
    from tracker.reports import services
    from tracker.reports.services import ReportInput

    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    report = services.save_draft(
        quarter.obligation(5, "mca"), ReportInput(progress="进展"), actor=liaison,
        expected_version=None,
    )  # fmt: skip
    db.session.commit()
    own = [quarter.obligation(n, "mca").id for n in (1, 2, 5, 6, 14)]
    from tests.delivery.conftest import milestone, task
    from tracker.delivery import services as plans

    item = task(23)
    plan = plans.propose_plan(
        item, quarter.obligation(23, "mca").department,
        plans.PlanInput(milestones=[milestone("完成县级摸底排查", "2024Q3", "mca")]),
        actor=liaison,
    )  # fmt: skip
    db.session.commit()
    return {"tokens": [token_for(liaison), token_for(coordinator)], "report_id": report.id,
            "obligation_ids": own, "task_id": item.id, "plan_id": plan.id}  # fmt: skip


def _fuzzed_schema(app, world):
    """The served document, with new reports' ``obligation_id`` drawn from real obligations
    (random ids would only ever meet "no such obligation")."""
    document = app.test_client().get(f"{URL_PREFIX}/openapi.json").get_json()
    create = document["components"]["schemas"]["ReportCreate"]["properties"]
    create["obligation_id"] = {"enum": world["obligation_ids"]}
    schema = schemathesis.openapi.from_dict(document)
    schema.app, schema.location = app, f"{URL_PREFIX}/openapi.json"
    return schema


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzing_every_operation_keeps_the_contract(app, fuzz_world, mode):
    schema = _fuzzed_schema(app, fuzz_world)
    checks = [*CHECKS, negative_data_rejection] if mode == GenerationMode.NEGATIVE else CHECKS
    for result in schema.get_all_operations():
        operation = result.ok()
        pinned = {"report_id": fuzz_world["report_id"]} if "{report_id}" in operation.path else None
        # Delivery plans: a real item and plan only. An id past the int converter's bound on
        # a path that another method also serves gets Werkzeug's 405, not 404.
        planned = {
            name: fuzz_world[name]
            for name in ("task_id", "plan_id")
            if f"{{{name}}}" in operation.path
        }
        examples = EXAMPLES.get(operation.path, DEFAULT_EXAMPLES)
        for token in fuzz_world["tokens"]:
            headers = {"Authorization": f"Bearer {token}"}
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=pinned or planned or None
            )
            _fuzz(strategy, headers, checks, examples)
            if pinned:  # and random ids, mostly missing
                _fuzz(operation.as_strategy(generation_mode=mode), headers, checks, examples)


def _fuzz(strategy, headers, checks, examples: int) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)

    run()
