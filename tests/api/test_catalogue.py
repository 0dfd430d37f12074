"""Reading through the API: who the token is, departments, tasks, periods, obligations."""

from __future__ import annotations

from collections import Counter

import pytest


def test_me_is_the_tokens_owner(api, seeded, make_user):
    for role, department in (("liaison", "mps"), ("viewer", None), ("admin", None)):
        user = make_user(role, department)
        me = api(user).get("/me").get_json()
        assert (me["username"], me["role"]) == (user.username, role)
        assert (me["department"] or {}).get("code") == department


def test_departments_in_the_documents_order(api, seeded, make_user):
    items = api(make_user("liaison", "mps")).get("/departments").get_json()["items"]
    assert len(items) == 13
    assert items[0]["name"] == "民政部"
    assert {"mca", "mps", "mohrss", "acwf"} <= {d["code"] for d in items}


def test_tasks_carry_their_assignments(api, seeded, make_user):
    caller = api(make_user("viewer", "mohrss"))
    items = caller.get("/tasks").get_json()["items"]
    assert [t["number"] for t in items] == list(range(1, 24))
    item3 = items[2]
    roles = {a["department"]["code"]: a["role"] for a in item3["assignments"]}
    assert roles == {"mohrss": "lead", "moa": "support", "mct": "support", "acwf": "support"}
    assert sum(len(t["assignments"]) for t in items) == 74
    same = caller.get("/tasks", query_string={"document": "民发〔2019〕86号"}).get_json()
    assert same["items"] == items


def test_an_unknown_document_is_a_field_error(api, seeded, make_user):
    response = api(make_user("viewer")).get("/tasks", query_string={"document": "国发〔2000〕1号"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid" and "document" in body["fields"]


def test_periods_with_their_due_dates(api, quarter, make_user):
    items = api(make_user("viewer")).get("/periods").get_json()["items"]
    assert items == [
        {
            "key": "2024Q3",
            "label": "2024年第三季度",
            "start": "2024-07-01",
            "end": "2024-09-30",
            "due_date": "2024-10-10",
            "support_due_date": "2024-10-08",
            "current": True,
        }
    ]


def test_a_liaison_sees_only_its_departments_obligations(api, quarter, make_user):
    response = api(make_user("liaison", "mohrss")).get("/obligations?period=2024Q3")
    body = response.get_json()
    assert body["period"] == "2024Q3"
    assert {o["department"]["code"] for o in body["items"]} == {"mohrss"}
    item3 = next(o for o in body["items"] if o["task_number"] == 3)
    assert item3 == {
        "id": quarter.obligation(3, "mohrss").id,
        "task_id": quarter.obligation(3, "mohrss").task_id,
        "task_number": 3,
        "document": "民发〔2019〕86号",
        "department": item3["department"],
        "role": "lead",
        "period": "2024Q3",
        "due_date": "2024-10-10",
        "state": "not_filed",
        "report_id": None,
    }


def test_coordinators_and_leaders_see_every_obligation(api, quarter, make_user):
    for user in (make_user("coordinator", "mca"), make_user("viewer"), make_user("admin")):
        items = api(user).get("/obligations").get_json()["items"]  # the current period
        assert len(items) == 74
        assert Counter(o["role"] for o in items)["support"] > 0


def test_the_department_filter_obeys_the_same_permissions(api, quarter, make_user):
    coordinator = api(make_user("coordinator", "mca"))
    for key in ("mohrss", "人力资源社会保障部", "人社部"):
        items = coordinator.get("/obligations", query_string={"department": key}).get_json()
        assert {o["department"]["code"] for o in items["items"]} == {"mohrss"}, key
    liaison = api(make_user("liaison", "mps"))
    assert liaison.get("/obligations", query_string={"department": "mps"}).status_code == 200
    refused = liaison.get("/obligations", query_string={"department": "mohrss"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "2024q3"}, "period"),
        ({"period": "2024Q5"}, "period"),
        ({"period": "2031Q1"}, "period"),  # well-formed, but not tracked
        ({"department": "没有这个部门"}, "department"),
        ({"period": "2024Q3\x00"}, "period"),
        ({"perod": "2024Q3"}, "perod"),  # misspelt: refused, not ignored
    ],
)
def test_bad_filters_are_field_errors(api, quarter, make_user, query, field):
    response = api(make_user("coordinator", "mca")).get("/obligations", query_string=query)
    assert response.status_code == 400
    assert list(response.get_json()["fields"]) == [field]


def test_lists_take_the_same_queries_whatever_their_length(api, quarter, make_user, count_queries):
    """A liaison's few obligations and notifications, and a coordinator's 74 obligations and
    no notifications, cost the same round trips."""
    from tracker.extensions import db
    from tracker.followups.services import urge_obligation

    liaison, coordinator = make_user("liaison", "acwf"), make_user("coordinator", "mca")
    for number in (1, 2, 3):
        urge_obligation(quarter.obligation(number, "acwf"), actor=coordinator, message="请报送")
    db.session.commit()
    callers = [api(liaison), api(coordinator)]
    for path in ("/obligations", "/tasks", "/notifications"):
        counts = []
        for caller in callers:
            caller.get(path)  # once to open the period and note the token's use
            with count_queries() as counter:
                assert caller.get(path).status_code == 200
            counts.append(counter.count)
        assert counts[0] == counts[1], (path, counts)
        assert counts[0] <= 6, (path, counts)


def test_departments_say_whether_they_are_active(api, seeded, make_user):
    import sqlalchemy as sa

    from tracker.catalogue.models import Department
    from tracker.catalogue.services import deactivate_department
    from tracker.extensions import db

    deactivate_department(db.session.scalar(sa.select(Department).where(Department.code == "cdpf")))
    db.session.commit()
    items = api(make_user("viewer")).get("/departments").get_json()["items"]
    active = {d["code"]: d["active"] for d in items}
    assert active["cdpf"] is False and active["mps"] is True and len(active) == 13
