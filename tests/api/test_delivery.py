"""Delivery plans through the API: reads under the plan's reading rules, writes through the
same services (and rules) as the pages, typed indicator values and milestone statuses in
reports, the combined values and the suggested light. Every response is checked against the
OpenAPI document by the ``api`` client."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.delivery.conftest import approved_plan, department, indicator, milestone, task
from tracker.audit.models import AuditEvent
from tracker.delivery.models import DeliveryPlan
from tracker.extensions import db
from tracker.reports.models import IndicatorValue, MilestoneStatus

ID_NUMBER = "11010519491231002X"  # a valid check digit (tests/test_privacy.py)


@pytest.fixture
def people(quarter, make_user):
    return {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "other": make_user("liaison", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
    }


def proposal(**indicator_changes) -> dict:
    """A valid plan for item 23: one 民政部 milestone, one indicator both departments report."""
    mca, acwf = department("mca").id, department("acwf").id
    return {
        "milestones": [{"title": "完成县级摸底排查", "due_period": "2024Q3", "department_id": mca}],
        "indicators": [
            {
                "name": "已完成摸底排查的县", "unit": "个", "direction": "higher",
                "baseline_value": 0, "baseline_date": "2019-05-01", "target_value": "2,800",
                "target_date": "2027-12-31", "combine": "sum", "department_ids": [mca, acwf],
                **indicator_changes,
            }
        ],
    }  # fmt: skip


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _events(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_a_plan_is_proposed_read_returned_and_approved(api, people):
    lead, coordinator = api(people["lead"]), api(people["coordinator"])
    support, other = api(people["support"]), api(people["other"])
    url = f"/tasks/{task(23).id}/plans"
    created = lead.post(url, json=proposal())
    assert created.status_code == 200, created.get_json()
    plan = created.get_json()
    assert plan["state"] == "proposed" and plan["number"] == 1
    assert plan["indicators"][0]["target_value"] == "2800"
    assert [d["code"] for d in plan["indicators"][0]["departments"]] == ["mca", "acwf"]
    assert _events("plan.propose") == 1
    # the proposing department and coordinators see it; the supporting department not yet
    assert [p["id"] for p in lead.get(url).get_json()["items"]] == [plan["id"]]
    assert [p["id"] for p in coordinator.get(url).get_json()["items"]] == [plan["id"]]
    assert support.get(url).get_json()["items"] == []
    assert api(people["leader"]).get(url).get_json()["items"] == []
    assert other.get(url).status_code == 403  # not on the item
    # only the lead proposes, only a coordinator decides
    assert support.post(url, json=proposal()).status_code == 403
    assert lead.post(f"/plans/{plan['id']}/approve").status_code == 403
    refused = coordinator.post(f"/plans/{plan['id']}/return", json={"reason": " "})
    assert refused.status_code == 400 and "reason" in refused.get_json()["fields"]
    stale = coordinator.post(f"/plans/{plan['id']}/approve", json={"revision": 99})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    returned = coordinator.post(f"/plans/{plan['id']}/return", json={"reason": "请补充节点。"})
    assert returned.get_json()["state"] == "returned"
    resubmitted = lead.post(url, json=proposal()).get_json()
    assert resubmitted["id"] == plan["id"] and resubmitted["state"] == "proposed"
    approved = coordinator.post(f"/plans/{plan['id']}/approve", json={}).get_json()
    assert approved["state"] == "approved" and approved["decided_by"]
    assert [p["state"] for p in support.get(url).get_json()["items"]] == ["approved"]
    assert (_events("plan.return"), _events("plan.resubmit"), _events("plan.approve")) == (1, 1, 1)
    # a change after approval needs its reason, and keeps the keys
    again = lead.post(url, json=proposal())
    assert again.status_code == 400
    assert again.get_json()["fields"] == {"change_reason": "计划已批准，变更须填写变更理由。"}
    body = proposal()
    body["indicators"][0]["key"] = approved["indicators"][0]["key"]
    change = lead.post(url, json={**body, "change_reason": "目标调整"}).get_json()
    assert change["number"] == 2 and change["indicators"][0]["key"] == body["indicators"][0]["key"]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"baseline_value": -1}, "indicators[0]", "不小于 0"),
        ({"target_value": "很多"}, "indicators[0]", "不小于 0"),
        ({"target_value": "1e9"}, "indicators[0]", "不小于 0"),
        ({"target_value": 1.00001}, "indicators[0]", "4 位小数"),
        ({"target_value": 0}, "indicators[0]", "应高于基线值"),
        ({"target_date": "2019-01-01"}, "indicators[0]", "应晚于基线日期"),
        ({"target_date": "2019-13-01"}, "indicators[0]", "日期"),
        ({"direction": "sideways"}, "indicators[0]", "higher / lower"),
        ({"department_ids": [999_999]}, "indicators[0]", "本项的部门"),
        ({"name": f"联系人{ID_NUMBER}"}, "indicators[0]", "身份证"),
        ({"unit": "13812345678"}, "indicators[0]", "手机号"),
    ],
)
def test_a_bad_plan_is_refused_naming_the_field_and_nothing_is_saved(
    api, people, changes, field, words
):
    response = api(people["lead"]).post(f"/tasks/{task(23).id}/plans", json=proposal(**changes))
    assert response.status_code == 400, response.get_json()
    fields = response.get_json()["fields"]
    assert field in fields and words in fields[field], fields
    assert _count(DeliveryPlan) == 0


def test_a_milestone_out_of_range_is_refused_as_on_the_page(api, people):
    body = proposal()
    body["milestones"][0]["due_period"] = "2019Q2"  # before the document's first quarter
    response = api(people["lead"]).post(f"/tasks/{task(23).id}/plans", json=body)
    assert response.status_code == 400
    assert "起始季度" in response.get_json()["fields"]["milestones[0]"]
    assert _count(DeliveryPlan) == 0


@pytest.fixture
def planned(people):
    """An approved plan on item 23: a milestone due in the quarter, an indicator both report."""
    return approved_plan(
        23, "mca", people=people,
        milestones=[milestone("完成县级摸底排查", "2024Q3", "mca")],
        indicators=[indicator("已完成摸底排查的县", "sum", ["mca", "acwf"])],
    )  # fmt: skip


def _report_body(quarter, planned, **extra):
    key_i, key_m = planned.indicators[0].key, planned.milestones[0].key
    return {
        "obligation_id": quarter.obligation(23, "mca").id, "status": "in_progress",
        "progress": "按计划推进", "indicator_values": {key_i: "1,200"},
        "milestone_statuses": {key_m: {"status": "partly", "note": "尚有 3 个县未完成"}},
        **extra,
    }  # fmt: skip


def test_a_report_carries_typed_values_and_statuses(api, people, quarter, planned, client, login):
    lead, coordinator = api(people["lead"]), api(people["coordinator"])
    key_i, key_m = planned.indicators[0].key, planned.milestones[0].key
    created = lead.post("/reports", json=_report_body(quarter, planned))
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    assert report["indicator_values"] == [
        {"key": key_i, "name": "已完成摸底排查的县", "unit": "个", "value": "1200"}
    ]
    assert report["milestone_statuses"][0]["status"] == "partly"
    assert report["plan"]["milestones"] == [
        {"key": key_m, "title": "完成县级摸底排查", "due_period": "2024Q3"}
    ]
    # a PATCH without them keeps them; with them replaces them
    kept = lead.patch(f"/reports/{report['id']}", json={"version": report["version"],
                                                        "problems": "暂无"}).get_json()  # fmt: skip
    assert kept["indicator_values"][0]["value"] == "1200"
    changed = lead.patch(
        f"/reports/{report['id']}",
        json={"version": kept["version"], "indicator_values": {key_i: 1300},
              "milestone_statuses": {key_m: {"status": "done"}}},
    ).get_json()  # fmt: skip
    assert changed["indicator_values"][0]["value"] == "1300"
    assert changed["milestone_statuses"][0]["status"] == "done"
    support = api(people["support"])  # the lead submits once its supporting input is in
    acwf = support.post("/reports", json={
        "obligation_id": quarter.obligation(23, "acwf").id, "status": "in_progress",
        "progress": "配合推进", "indicator_values": {key_i: 200},
    }).get_json()  # fmt: skip
    assert support.post(f"/reports/{acwf['id']}/submit").status_code == 200
    assert lead.post(f"/reports/{report['id']}/submit").status_code == 200
    delivery = coordinator.get(f"/tasks/{task(23).id}/delivery").get_json()
    (values,) = delivery["indicators"]
    assert values["quarters"][0]["period"] == quarter.period.key
    assert values["quarters"][0]["combined"] == "1500"  # summed over both departments
    assert {v["department"]["code"] for v in values["quarters"][0]["values"]} == {"mca", "acwf"}
    light = delivery["light"]
    assert (light["milestones_due"], light["milestones_done"]) == (1, 1)
    assert light["rag"] in ("green", "amber", "red") and light["indicators"][0]["key"] == key_i
    assert delivery["overdue_milestones"] == []
    # the current quarter's light is the item page's
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{task(23).id}").get_data(as_text=True)
    assert f'data-rag="{light["rag"]}">{light["label"]}</span>' in page
    assert api(people["other"]).get(f"/tasks/{task(23).id}/delivery").status_code == 403


@pytest.mark.parametrize(
    ("indicator_value", "status", "field", "words"),
    [
        (-5, None, "indicator_values.{i}", "不能为负数"),
        ("12a", None, "indicator_values.{i}", "不小于 0"),
        (True, None, "indicator_values.{i}", "不小于 0"),
        (1, {"status": "not_done"}, "milestone_statuses.{m}", "请用一句话说明"),
        (1, {"status": "partly", "note": f"联系 {ID_NUMBER}"}, "milestone_statuses.{m}", "身份证"),
        (1, {"status": "maybe", "note": "x"}, "milestone_statuses.{m}", "done / partly / not_done"),
    ],
)
def test_bad_values_and_statuses_are_refused_naming_the_field(
    api, people, quarter, planned, indicator_value, status, field, words
):
    key_i, key_m = planned.indicators[0].key, planned.milestones[0].key
    body = _report_body(quarter, planned, indicator_values={key_i: indicator_value})
    if status is not None:
        body["milestone_statuses"] = {key_m: status}
    response = api(people["lead"]).post("/reports", json=body)
    assert response.status_code == 400, response.get_json()
    fields = response.get_json()["fields"]
    name = field.format(i=key_i, m=key_m)
    assert name in fields and words in fields[name], fields
    assert (_count(IndicatorValue), _count(MilestoneStatus)) == (0, 0)
    assert quarter.obligation(23, "mca").report is None


def test_keys_the_plan_does_not_ask_for_are_refused(api, people, quarter, planned):
    body = _report_body(quarter, planned, indicator_values={"nosuchkey": 1})
    response = api(people["lead"]).post("/reports", json=body)
    assert response.status_code == 400
    assert "indicator_values.nosuchkey" in response.get_json()["fields"]
    # 全国妇联 reports the indicator but answers for no milestone
    support = _report_body(quarter, planned, obligation_id=quarter.obligation(23, "acwf").id)
    refused = api(people["support"]).post("/reports", json=support)
    assert list(refused.get_json()["fields"]) == [f"milestone_statuses.{planned.milestones[0].key}"]


def test_a_report_cannot_be_submitted_before_every_due_milestone_is_stated(
    api, people, quarter, planned
):
    lead = api(people["lead"])
    body = _report_body(quarter, planned)
    del body["milestone_statuses"]
    report = lead.post("/reports", json=body).get_json()
    refused = lead.post(f"/reports/{report['id']}/submit")
    assert refused.status_code == 409 and "完成县级摸底排查" in refused.get_json()["message"]
