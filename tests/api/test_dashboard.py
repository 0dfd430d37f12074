"""The dashboard figures, one's notifications and the quarterly workbook through the API."""

from __future__ import annotations

import io
from collections import Counter

import openpyxl
import pytest

from tracker.dashboard import queries as dashboard_queries
from tracker.extensions import db
from tracker.followups import services as reminders
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


@pytest.fixture
def filed(quarter, make_user):
    """Item 5 (民政部 alone) accepted; item 3's lead (人社部) still a draft; mca liaisons."""
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    data = ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展培训。")
    report = services.save_draft(
        quarter.obligation(5, "mca"), data, actor=liaison, expected_version=None
    )
    services.submit_report(report, actor=liaison)
    services.accept_report(report, actor=coordinator, confirmed_status=ProgressStatus.ONGOING)
    lead = make_user("liaison", "mohrss")
    services.save_draft(quarter.obligation(3, "mohrss"), data, actor=lead, expected_version=None)
    db.session.commit()
    return {"liaison": liaison, "coordinator": coordinator, "lead": lead}


def test_the_dashboard_shows_everything_to_a_coordinator(api, quarter, filed):
    body = api(filed["coordinator"]).get("/dashboard", query_string={"period": "2024Q3"})
    data = body.get_json()
    assert data == _plain(dashboard_queries.dashboard_data(quarter.period))
    assert data["headline"]["obligations"] == 74 and data["headline"]["accepted"] == 1
    assert len(data["scorecard"]) == 13 and len(data["cells"]) == 74
    cell = next(c for c in data["cells"] if (c["task_number"], c["department"]) == (5, "mca"))
    assert (cell["state"], cell["rag"]) == ("accepted", "green")


def test_a_liaison_sees_its_own_department_as_on_the_page(api, quarter, filed):
    caller = api(filed["lead"])
    data = caller.get("/dashboard").get_json()
    assert {c["department"] for c in data["cells"]} == {"mohrss"}
    assert [row["department"] for row in data["scorecard"]] == ["mohrss"]
    assert (
        data["headline"]["obligations"] == Counter(c["department"] for c in data["cells"])["mohrss"]
    )
    refused = caller.get("/dashboard", query_string={"department": "mca"})
    assert refused.status_code == 403


def test_a_coordinator_narrows_to_one_department_or_document(api, quarter, filed):
    caller = api(filed["coordinator"])
    data = caller.get("/dashboard", query_string={"department": "人社部"}).get_json()
    assert {c["department"] for c in data["cells"]} == {"mohrss"}
    same = caller.get("/dashboard", query_string={"document": "民发〔2019〕86号"}).get_json()
    assert len(same["cells"]) == 74
    assert caller.get("/dashboard", query_string={"document": "无此文号"}).status_code == 400


def _plain(data: dict) -> dict:
    """What JSON makes of the query's dict (tuples become lists, and so on)."""
    import json

    return json.loads(json.dumps(data))


def test_notifications_are_ones_own_newest_first(api, quarter, filed):
    item5, item1 = quarter.obligation(5, "mca"), quarter.obligation(1, "mca")
    # An urge notifies the department's liaisons; item 5 is accepted, so urge item 1 only.
    reminders.urge_obligation(item1, actor=filed["coordinator"], message="请尽快报送。")
    db.session.commit()
    caller = api(filed["liaison"])
    items = caller.get("/notifications").get_json()["items"]
    assert len(items) == 1
    (note,) = items
    assert note["kind"] == "urge" and note["read"] is False and note["read_at"] is None
    assert note["obligation"]["id"] == item1.id and note["obligation"]["task_number"] == 1
    assert note["obligation"]["department"]["code"] == "mca"
    assert item5.id not in {n["obligation"]["id"] for n in items}
    assert api(filed["lead"]).get("/notifications").get_json()["items"] == []  # not theirs

    from tracker.notifications import queries as reminder_queries
    from tracker.notifications import services as notifications

    notifications.mark_read(reminder_queries.notification_of(note["id"], filed["liaison"].id))
    db.session.commit()
    assert caller.get("/notifications", query_string={"unread": "1"}).get_json()["items"] == []
    (read,) = caller.get("/notifications", query_string={"unread": "0"}).get_json()["items"]
    assert read["read"] is True and read["read_at"]
    assert caller.get("/notifications", query_string={"limit": "0"}).status_code == 400


def _cells(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


@pytest.mark.parametrize("who", ["coordinator", "lead"])
def test_the_quarterly_workbook_is_the_one_the_web_gives(api, filed, client, login, who):
    response = api(filed[who]).get("/exports/quarterly.xlsx", query_string={"period": "2024Q3"})
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    login(filed[who])
    web = client.get("/exports/quarterly.xlsx?period=2024Q3")
    assert web.status_code == 200
    assert _cells(response.data) == _cells(web.data)
