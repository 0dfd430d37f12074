"""The coordinator's delivery judgement and the indicator trajectory through the API: the same
service and rules as the item page's form, the same figures as the dashboard and the
trajectory page. Every response is checked against the OpenAPI document by the ``api``
client."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from tests.delivery.conftest import approved_plan, indicator, milestone, task
from tracker.audit.models import AuditEvent
from tracker.dashboard import services as dashboard_services
from tracker.dashboard.queries.delivery import item_deliveries
from tracker.delivery.models import DeliveryJudgement, DeliveryStep
from tracker.extensions import db
from tracker.periods import Period

Q3 = Period(2024, 3)


@pytest.fixture
def people(quarter, make_user):
    return {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "other": make_user("liaison", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
    }


@pytest.fixture
def behind(people):
    """Item 23's plan: a 民政部 milestone overdue since 2024Q2 (suggested 明显滞后 in 2024Q2 and
    2024Q3) and an indicator both 民政部 and 全国妇联 report."""
    return approved_plan(
        23, "mca", people=people,
        milestones=[milestone("完成县级摸底排查", "2024Q2", "mca")],
        indicators=[indicator("已完成摸底排查的县", "sum", ["mca", "acwf"])],
    )  # fmt: skip


def _judgements() -> list[DeliveryJudgement]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(DeliveryJudgement)))


def _events() -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == "delivery.judge")
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_the_delivery_read_shows_the_suggestion_until_a_coordinator_judges(api, people, behind):
    coordinator, lead = api(people["coordinator"]), api(people["lead"])
    url = f"/tasks/{task(23).id}"
    before = lead.get(f"{url}/delivery", query_string={"period": "2024Q3"}).get_json()
    assert before["judgement"] is None
    assert before["shown"] == {"step": "behind", "label": "明显滞后", "source": "suggested"}
    assert before["change"] == "same"  # 明显滞后 in 2024Q2 as well
    assert before["light"]["rag"] == "red"
    # the same step as the suggestion needs no reason
    judged = coordinator.post(f"{url}/judgement", json={"period": "2024Q3", "step": "behind"})
    assert judged.status_code == 200, judged.get_json()
    assert judged.get_json()["judgement"]["reason"] is None
    # judged again, departing from the suggestion, with a reason and the revision read
    body = {"period": "2024Q3", "step": "severe", "reason": "两个季度未见进展", "revision": 1}
    response = coordinator.post(f"{url}/judgement", json=body)
    assert response.status_code == 200, response.get_json()
    after = lead.get(f"{url}/delivery", query_string={"period": "2024Q3"}).get_json()
    assert after == response.get_json()
    judgement = after["judgement"]
    assert judgement["step"] == "severe" and judgement["label"] == "严重滞后"
    assert judgement["reason"] == "两个季度未见进展" and judgement["suggested"] == "behind"
    assert judgement["judged_by"] == people["coordinator"].display_name
    assert judgement["revision"] == 2 and judgement["judged_at"]
    assert after["shown"] == {"step": "severe", "label": "严重滞后", "source": "judged"}
    assert after["change"] == "worse"  # 明显滞后 → 严重滞后, as the pages say 退步
    assert after["light"]["rag"] == "red"  # the suggestion stays what it was
    # the dashboard's own reading agrees
    shown = item_deliveries([task(23).id], [Q3])[(task(23).id, Q3.key)]
    assert (shown.shown, shown.change.value) == (DeliveryStep.SEVERE, "worse")
    [row] = _judgements()
    assert (row.step, row.suggested, row.revision) == (DeliveryStep.SEVERE, DeliveryStep.BEHIND, 2)
    events = _events()
    assert len(events) == 2
    assert events[1].before["step"] == "behind" and events[1].after["step"] == "severe"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"step": "mostly", "reason": "  "}, "reason", "请填写理由"),
        ({"step": "mostly", "reason": "联系人13812345678"}, "reason", "手机号"),
        ({"step": "mostly", "reason": "x" * 2001}, "reason", "2000"),
        ({"step": "sideways"}, "step", "on_pace"),
        ({"step": "behind", "period": "2019Q1"}, "period", "不在跟踪范围内"),
        ({"step": "behind", "period": "2024Q9"}, "period", ""),
        ({"period": "2024Q3"}, "step", ""),
    ],
)
def test_a_bad_judgement_is_refused_naming_the_field(api, people, behind, body, field, words):
    response = api(people["coordinator"]).post(
        f"/tasks/{task(23).id}/judgement", json={"period": "2024Q3", **body}
    )
    assert response.status_code == 400, response.get_json()
    fields = response.get_json()["fields"]
    assert field in fields and words in fields[field], fields
    assert _judgements() == [] and _events() == []


def test_only_coordinators_judge(api, people, behind, make_user):
    body = {"period": "2024Q3", "step": "behind"}
    url = f"/tasks/{task(23).id}/judgement"
    for who in ("lead", "support", "leader", "other"):
        assert api(people[who]).post(url, json=body).status_code == 403, who
    assert api(make_user("admin")).post(url, json=body).status_code == 403
    assert api(people["coordinator"]).post("/tasks/99999/judgement", json=body).status_code == 404
    assert _judgements() == [] and _events() == []


def test_a_stale_revision_and_a_frozen_quarter_are_409(api, people, behind, quarter):
    coordinator = api(people["coordinator"])
    url = f"/tasks/{task(23).id}/judgement"
    assert coordinator.post(url, json={"period": "2024Q3", "step": "behind"}).status_code == 200
    stale = coordinator.post(
        url, json={"period": "2024Q3", "step": "severe", "reason": "严重", "revision": 7}
    )
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale_version"
    quarter.at("2024-10-17 09:00")  # 2024Q3 closed on 10-16
    dashboard_services.freeze_due_snapshots()
    db.session.commit()
    frozen = coordinator.post(url, json={"period": "2024Q3", "step": "severe", "reason": "严重"})
    assert frozen.status_code == 409 and "已封存" in frozen.get_json()["message"]
    assert [j.step for j in _judgements()] == [DeliveryStep.BEHIND]
    assert len(_events()) == 1
    # the frozen quarter reads what its snapshot kept, the judgement's details beside it
    read = coordinator.get(
        f"/tasks/{task(23).id}/delivery", query_string={"period": "2024Q3"}
    ).get_json()
    assert read["shown"]["step"] == "behind" and read["shown"]["source"] == "judged"
    assert read["judgement"]["step"] == "behind"


def _submit(api, people, quarter, plan, code: str, value) -> None:
    key = plan.indicators[0].key
    body = {
        "obligation_id": quarter.obligation(23, code).id, "status": "in_progress",
        "progress": "按计划推进", "indicator_values": {key: value},
    }  # fmt: skip
    if code == "mca":
        body["milestone_statuses"] = {plan.milestones[0].key: {"status": "done"}}
    client = api(people["lead" if code == "mca" else "support"])
    report = client.post("/reports", json=body)
    assert report.status_code == 201, report.get_json()
    assert client.post(f"/reports/{report.get_json()['id']}/submit").status_code == 200


def test_the_trajectory_has_the_pages_figures(api, people, behind, quarter, client, login):
    _submit(api, people, quarter, behind, "acwf", 20)
    _submit(api, people, quarter, behind, "mca", "12.5")
    key = behind.indicators[0].key
    url = f"/tasks/{task(23).id}/indicators/{key}/trajectory"
    response = api(people["support"]).get(url)
    assert response.status_code == 200, response.get_json()
    t = response.get_json()
    assert (t["key"], t["name"], t["unit"]) == (key, "已完成摸底排查的县", "个")
    assert (t["combine"], t["plan_state"]) == ("sum", "approved")
    assert (t["baseline_value"], t["target_value"]) == ("0", "100")
    assert (t["baseline_date"], t["target_date"]) == ("2019-05-01", "2027-12-31")
    assert [d["code"] for d in t["departments"]] == ["mca", "acwf"]
    periods = [q["period"] for q in t["quarters"]]
    assert periods == sorted(periods) and periods[-1] == Q3.key
    last = t["quarters"][-1]
    assert last["combined"] == "32.5"
    assert {v["department"]["code"]: v["value"] for v in last["values"]} == {
        "mca": "12.5", "acwf": "20"
    }  # fmt: skip
    assert all(q["combined"] is None and q["values"] == [] for q in t["quarters"][:-1])
    # the planned line quarter by quarter: exact in the API, rounded to the unit on the page
    # (a count of counties: whole numbers)
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}").get_data(as_text=True)
    for q in t["quarters"]:
        assert len(q["planned"].split(".")[-1]) == 4, q  # the API keeps four decimals
        whole = Decimal(q["planned"]).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert f'<td class="num">{whole:,f}</td>' in page or f">{whole:,f}<" in page, q
    assert last["on_pace"] is (float(last["combined"]) >= float(last["planned"]))
    # access as the page's: not on the item 403, no such indicator or item 404
    assert api(people["other"]).get(url).status_code == 403
    assert api(people["leader"]).get(url).status_code == 200  # an approved plan
    missing = api(people["lead"]).get(f"/tasks/{task(23).id}/indicators/nosuch/trajectory")
    assert missing.status_code == 404
    assert api(people["lead"]).get(f"/tasks/99999/indicators/{key}/trajectory").status_code == 404
