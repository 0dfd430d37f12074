"""A report filed and submitted through the API shows on the (cached) API dashboard at once."""

from __future__ import annotations

from tracker.dashboard.queries.cache import answer_cache

FILLED = {"status": "in_progress", "progress": "已开展培训 3 期。"}
Q3 = {"period": "2024Q3"}


def test_an_api_submission_shows_at_once(quarter, make_user, api):
    coordinator = api(make_user("coordinator", "mca"))
    liaison = api(make_user("liaison", "mca"))
    before = coordinator.get("/dashboard", query_string=Q3).get_json()
    hits = answer_cache().hits
    assert coordinator.get("/dashboard", query_string=Q3).get_json() == before
    assert answer_cache().hits > hits  # the second read came from the cache
    filed = liaison.post(
        "/reports", json={"obligation_id": quarter.obligation(5, "mca").id, **FILLED}
    ).get_json()
    assert liaison.post(f"/reports/{filed['id']}/submit").status_code == 200
    after = coordinator.get("/dashboard", query_string=Q3).get_json()
    assert after["headline"]["submitted"] == before["headline"]["submitted"] + 1
    cell = next(c for c in after["cells"] if c["obligation_id"] == filed["obligation_id"])
    assert cell["state"] == "submitted"
    answer_cache().clear()
    assert coordinator.get("/dashboard", query_string=Q3).get_json() == after
