"""A lead department reads its supporting departments' input only once it is submitted.

Regression for the outside review: a lead read a supporting department's unsubmitted draft
and its returned report on the page, its versions, its evidence and ``GET /api/v1/reports/<id>``.
Each route is asked for a draft, for a returned report and (as the check that can fail the
other way) for a submitted one.
"""

from __future__ import annotations

import pytest

from tracker.auth.permissions import can_read_report, can_view_obligation
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SECRET = "【配合部门未报送的内容】"


@pytest.fixture
def item11(quarter, make_user):
    """Item 11: 公安部 leads; 农业农村部 supports with a report (text and evidence) in a draft."""
    people = {code: make_user("liaison", code) for code in ("mps", "moa")}
    people["coordinator"] = make_user("coordinator", "mca")
    report = services.save_draft(
        quarter.obligation(11, "moa"),
        ReportInput(status=ProgressStatus.IN_PROGRESS, progress=SECRET),
        actor=people["moa"], expected_version=None,
    )  # fmt: skip
    evidence = services.add_evidence(report, "农业农村部_材料.pdf", PDF, actor=people["moa"])
    db.session.commit()
    return {"people": people, "report": report, "evidence": evidence}


def _to_state(item11, state: str) -> None:
    report, people = item11["report"], item11["people"]
    if state in ("submitted", "returned"):
        services.submit_report(report, actor=people["moa"])
    if state == "returned":
        services.return_report(report, actor=people["coordinator"], reason="请补充数据。")
    db.session.commit()
    assert report.state.value == state


REFUSED = ("draft", "returned")


@pytest.mark.parametrize("state", REFUSED)
def test_the_page_hides_an_unsubmitted_supporting_report(client, login, item11, state):
    _to_state(item11, state)
    login(item11["people"]["mps"])
    page = client.get(f"/obligations/{item11['report'].obligation_id}")
    assert page.status_code == 200  # the obligation itself: department, due date, not yet in
    text = page.get_data(as_text=True)
    assert SECRET not in text and "农业农村部_材料.pdf" not in text
    assert "请补充数据。" not in text


@pytest.mark.parametrize("state", REFUSED)
def test_versions_and_evidence_of_an_unsubmitted_supporting_report_are_refused(
    client, login, item11, state
):
    _to_state(item11, state)
    login(item11["people"]["mps"])
    obligation_id = item11["report"].obligation_id
    assert client.get(f"/obligations/{obligation_id}/versions/1").status_code == 404
    assert client.get(f"/evidence/{item11['evidence'].id}").status_code == 404


@pytest.mark.parametrize("state", REFUSED)
def test_the_api_refuses_an_unsubmitted_supporting_report(api, item11, state):
    _to_state(item11, state)
    response = api(item11["people"]["mps"]).get(f"/reports/{item11['report'].id}")
    assert response.status_code == 403
    assert SECRET not in response.get_data(as_text=True)


def test_once_submitted_the_lead_reads_it_everywhere_but_its_history(client, login, api, item11):
    _to_state(item11, "submitted")
    lead = item11["people"]["mps"]
    response = api(lead).get(f"/reports/{item11['report'].id}")
    assert response.status_code == 200 and response.get_json()["progress"] == SECRET
    login(lead)
    obligation_id = item11["report"].obligation_id
    assert SECRET in client.get(f"/obligations/{obligation_id}").get_data(as_text=True)
    assert client.get(f"/evidence/{item11['evidence'].id}").status_code == 200
    assert client.get(f"/obligations/{obligation_id}/versions/1").status_code == 404


def test_the_owning_department_reads_its_own_draft(client, login, api, item11):
    owner = item11["people"]["moa"]
    assert api(owner).get(f"/reports/{item11['report'].id}").status_code == 200
    login(owner)
    obligation_id = item11["report"].obligation_id
    assert SECRET in client.get(f"/obligations/{obligation_id}").get_data(as_text=True)
    assert client.get(f"/obligations/{obligation_id}/versions/1").status_code == 200
    assert client.get(f"/evidence/{item11['evidence'].id}").status_code == 200


def test_the_predicate_itself_weighs_the_state(item11):
    """The root: the lead clause of the report predicate requires a submitted report."""
    lead, report = item11["people"]["mps"], item11["report"]
    obligation = report.obligation
    leads = obligation.task.lead_department_ids
    assert can_view_obligation(lead, obligation.department_id, leads)
    assert not can_read_report(lead, obligation.department_id, leads, submitted=False)
    assert can_read_report(lead, obligation.department_id, leads, submitted=True)
    owner = item11["people"]["moa"]
    assert can_read_report(owner, obligation.department_id, leads, submitted=False)
