"""Sign-off through the API: the report's ``signoff`` block and each step's endpoint."""

from __future__ import annotations

from tests.reports.test_signoff import mps, on  # noqa: F401 - the same department and draft


def test_the_api_reports_the_sign_off_and_takes_each_step(api, quarter, mps):  # noqa: F811
    liaison, approver = api(mps["liaison"]), api(mps["approver"])
    url = f"/reports/{mps['report'].id}"
    body = liaison.get(url).get_json()
    assert body["signoff"]["required"] is True and body["signoff"]["awaiting"] is False
    assert liaison.post(f"{url}/submit").status_code == 409
    sent = liaison.post(f"{url}/request-approval").get_json()
    assert sent["signoff"]["awaiting"] and sent["signoff"]["requested_by"] == "张联络"
    assert liaison.post(f"{url}/approve").status_code == 403
    approved = approver.post(f"{url}/approve").get_json()
    assert approved["state"] == "submitted"
    assert approved["signoff"]["approved_by"] == "王处长" and approved["signoff"]["approved_at"]
