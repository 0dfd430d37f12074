"""What the issue calls done: a script holding tokens files, submits, accepts and reads back a
quarter's reports for all 23 items, and reads the dashboard figures, through the documented
API alone (every response checked against the OpenAPI document by the ``api`` client)."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from tracker.catalogue.models import Department
from tracker.extensions import db


@pytest.fixture
def tokens(quarter, make_user, token_for):
    """What an administrator hands out: a token per department's liaison, one coordinator's."""
    codes = db.session.scalars(sa.select(Department.code).order_by(Department.position)).all()
    liaisons = {code: token_for(make_user("liaison", code)) for code in codes}
    return {"liaisons": liaisons, "coordinator": token_for(make_user("coordinator", "mca"))}


def test_a_quarter_filed_reviewed_and_read_back_through_the_api(api, tokens, quarter):
    # The day after the supporting due date (Tue 2024-10-08), before the leads' (Thu 10-10).
    quarter.at("2024-10-09 10:00")
    coordinator = api(token=tokens["coordinator"])
    period = next(p for p in coordinator.get("/periods").get_json()["items"] if p["current"])
    everything = coordinator.get("/obligations", query_string={"period": period["key"]})
    obligations = everything.get_json()["items"]
    assert len(obligations) == 74
    assert len({o["task_number"] for o in obligations}) == 23

    # Each department files and submits its own; supporting input first, so that the leads
    # can consolidate it (a lead's submission is refused until its supporters have reported).
    liaisons = {code: api(token=token) for code, token in tokens["liaisons"].items()}
    order = sorted(obligations, key=lambda o: o["role"] != "support")
    for item in order:
        liaison = liaisons[item["department"]["code"]]
        created = liaison.post(
            "/reports",
            json={
                "obligation_id": item["id"],
                "status": "in_progress",
                "progress": f"第{item['task_number']}项：本季度已按分工推进。",
                "problems": "基层力量不足。",
                "practices": "建立季度会商机制。",
                "suggestions": "加大经费保障。",
                "next_steps": "下季度完成专项督查。",
                "figures": [{"name": "覆盖县（市、区）", "value": 12, "unit": "个"}],
            },
        )
        assert created.status_code == 201, created.get_json()
        report = created.get_json()
        submitted = liaison.post(
            f"/reports/{report['id']}/submit", json={"version": report["version"]}
        )
        assert submitted.status_code == 200, (item, submitted.get_json())

    # The coordinator works through the submitted reports and accepts each.
    listed = coordinator.get("/obligations", query_string={"period": period["key"]})
    submitted = [o for o in listed.get_json()["items"] if o["state"] == "submitted"]
    assert len(submitted) == 74
    for item in submitted:
        accepted = coordinator.post(
            f"/reports/{item['report_id']}/accept",
            json={"confirmed_status": "in_progress", "comment": "同意。"},
        )
        assert accepted.status_code == 200, accepted.get_json()

    # Read back: every report accepted, its content intact; each department sees its own.
    final = coordinator.get("/obligations", query_string={"period": period["key"]})
    items = final.get_json()["items"]
    assert Counter(o["state"] for o in items) == {"accepted": 74}
    for item in items:
        report = coordinator.get(f"/reports/{item['report_id']}").get_json()
        assert report["state"] == "accepted" and report["confirmed_status"] == "in_progress"
        assert report["progress"] == f"第{item['task_number']}项：本季度已按分工推进。"
        assert report["figures"] == [{"name": "覆盖县（市、区）", "value": "12", "unit": "个"}]
    own = liaisons["mohrss"].get("/obligations").get_json()["items"]
    assert {o["department"]["code"] for o in own} == {"mohrss"}
    assert all(o["state"] == "accepted" for o in own)

    # The dashboard's figures agree: everything accepted, every department's line complete.
    dashboard = coordinator.get("/dashboard", query_string={"period": period["key"]}).get_json()
    headline = dashboard["headline"]
    assert (headline["obligations"], headline["submitted"], headline["accepted"]) == (74, 74, 74)
    assert headline["overdue"] == headline["pending_review"] == headline["returned"] == 0
    assert Counter(c["rag"] for c in dashboard["cells"]) == {"green": 74}
    assert len({c["task_number"] for c in dashboard["cells"]}) == 23
    lines = {row["department"]: row for row in dashboard["scorecard"]}
    assert set(lines) == set(tokens["liaisons"])
    assert all(row["accepted"] == row["obligations"] for row in lines.values())
    assert sum(row["obligations"] for row in lines.values()) == 74
    # The supporting inputs were due on 2024-10-08 and came in on 10-09: late, and counted so.
    supporting = sum(1 for o in obligations if o["role"] == "support")
    assert headline["on_time"] == 74 - supporting and headline["judged"] == 74
