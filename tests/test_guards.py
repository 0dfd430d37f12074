"""Input no view can handle is refused with a 4xx on every route: huge ids, NUL, deep JSON.

The sweeps walk ``app.url_map``, so a route added later is covered without being named here.
"""

from __future__ import annotations

import json
import re

import pytest

from tracker.extensions import db
from tracker.guards import MAX_ID, MAX_JSON_DEPTH, MAX_PAGE, json_depth

HUGE = str(2**63)
HUGE_FORM = {name: HUGE for name in ("id", "ids", "page", "version", "number", "department")}
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _url(rule, int_value: str, text_value: str) -> str:
    def value(match: re.Match[str]) -> str:
        return int_value if match.group(1) == "int" else text_value

    return _ARGUMENT.sub(value, rule.rule)


def _methods(rule) -> list[str]:
    if rule.endpoint == "auth.logout":  # it would end the sweep's session
        return []
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


@pytest.fixture
def signed_in(seeded, make_user, login, client):
    """An administrator's session for the pages, a liaison's bearer token for the API."""
    from tracker.api.services import create_token

    admin = make_user("admin")
    liaison = make_user("liaison", "mps")
    _, token = create_token(liaison, name="sweep", actor=liaison)
    db.session.commit()
    login(admin)
    return {"Authorization": f"Bearer {token}"}


def _send(client, rule, method, url, headers, **kwargs):
    api = rule.rule.startswith("/api/")
    return client.open(url, method=method, headers=headers if api else None, csrf=not api, **kwargs)


def test_a_huge_id_is_never_a_server_error(app, client, signed_in):
    answers = {}
    for rule in app.url_map.iter_rules():
        for method in _methods(rule):
            url = _url(rule, HUGE, "x")
            query = f"{url}?page={HUGE}&id={HUGE}&department={HUGE}&document={HUGE}"
            for target, data in ((url, None), (query, None), (url, HUGE_FORM)):
                if data is not None and method == "GET":
                    continue
                response = _send(client, rule, method, target, signed_in, data=data)
                answers[(method, target, bool(data))] = response.status_code
    # (/readyz answers 503 here: the test database carries no Alembic revision.)
    errors = {key: status for key, status in answers.items() if status == 500}
    assert errors == {}
    assert len(answers) > 100  # the sweep reached the url map
    assert answers[("GET", "/reports", False)] == 200  # still signed in at the end


def test_a_page_number_whose_offset_would_overflow_is_refused(app, client, signed_in):
    answers = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "auth.logout":
            continue
        url = _url(rule, "1", "x") + f"?page={10**18 - 1}&per_page={10**18 - 1}"
        answers[url] = _send(client, rule, "GET", url, signed_in).status_code
    assert {url: status for url, status in answers.items() if status == 500} == {}
    response = client.get(f"/notifications?page={10**18 - 1}")
    assert response.status_code == 400 and "页码超出范围" in response.get_data(as_text=True)
    assert client.get(f"/notifications?page={MAX_PAGE}").status_code == 200


def test_large_numbers_within_range_reach_the_views_without_a_server_error(app, client, signed_in):
    """Ids at the id columns' maximum, and 16-digit numbers in every usual argument."""
    big = str(10**15)
    names = ("id", "ids", "page", "department", "document", "number", "task", "period",
             "status", "kind", "user", "q", "version")  # fmt: skip
    answers = {}
    for rule in app.url_map.iter_rules():
        for method in _methods(rule):
            url = _url(rule, str(MAX_ID), "x") + "?" + "&".join(f"{n}={big}" for n in names)
            data = {name: big for name in names} if method != "GET" else None
            answers[(method, url)] = _send(client, rule, method, url, signed_in, data=data)
    assert {key: r.status_code for key, r in answers.items() if r.status_code == 500} == {}
    assert len(answers) > 50


def test_an_id_beyond_the_id_columns_matches_no_route(client, signed_in, quarter):
    obligation = quarter.obligation(11, "mps")
    assert client.get(f"/obligations/{obligation.id}").status_code == 200
    assert client.get(f"/obligations/{MAX_ID + 1}").status_code == 404
    assert client.get(f"/obligations/{HUGE}").status_code == 404
    assert client.get(f"/api/v1/reports/{HUGE}", headers=signed_in).status_code == 404


def test_a_nul_byte_is_refused_on_every_route(app, client, signed_in):
    answers = {}
    for rule in app.url_map.iter_rules():
        for method in _methods(rule):
            url = _url(rule, "1", "a%00b")
            plain = _url(rule, "1", "x")
            requests = [(url, None), (f"{plain}?q=a%00b", None)]
            if method != "GET":
                requests.append((plain, {"username": "admin\x00", "password": "x"}))
            for target, data in requests:
                if "%00" not in target and data is None:
                    continue
                response = _send(client, rule, method, target, signed_in, data=data)
                answers[(method, target, bool(data))] = response.status_code
    refused = {key: status for key, status in answers.items() if status != 400}
    # A path whose arguments are all numbers has no text to hold the NUL: it is a 404 there.
    # A view whose form checks its own text fields answers the form (tests/reports).
    own = {
        rule.rule.replace("<int:obligation_id>", "1")
        .replace("<int:task_id>", "1")
        .replace("<int:plan_id>", "1")
        .replace("<int:county_id>", "1")
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "_tracker_checks_own_text", False)
    }
    # the report form, the delivery plan form and a plan's return reason (tests/delivery), a
    # county's counts (tests/counties), a coordinator's delivery judgement (its reason)
    assert own == {"/obligations/1/edit", "/delivery/tasks/1/plan", "/delivery/plans/1/return",
                   "/counties/1/values", "/dashboard/items/1/judgement"}  # fmt: skip
    for (_method, target, form), status in refused.items():
        if form and target in own:
            assert status < 500
        else:
            assert "%00" in target and "?" not in target and status == 404, (target, status)
    assert len(answers) > 100


def test_sign_in_with_a_nul_byte_says_why_and_writes_nothing(client, seeded, make_user):
    user = make_user("liaison", "mps")
    response = client.post("/login", data={"username": user.username + "\x00", "password": "x"})
    assert response.status_code == 400
    assert "空字符" in response.get_data(as_text=True)
    response = client.get("/login?next=%00")
    assert response.status_code == 400


def test_a_huge_number_in_a_form_is_refused_with_a_message(client, signed_in):
    response = client.post("/reports/review/accept", data={"ids": HUGE})
    assert response.status_code == 400
    assert "超出允许的范围" in response.get_data(as_text=True)
    # Numbers a form checks itself still reach it.
    assert client.get(f"/notifications?page={2**40}").status_code < 500


def test_json_nested_too_deep_is_refused_before_parsing(client, signed_in):
    deep = "[" * 2000 + "]" * 2000
    response = client.post(
        "/api/v1/reports", data=deep, content_type="application/json", headers=signed_in,
        csrf=False,
    )  # fmt: skip
    assert response.status_code == 400
    assert f"{MAX_JSON_DEPTH} 层" in response.get_json()["message"]
    # Strings do not count, brackets inside them neither.
    assert json_depth(json.dumps({"a": ["[[[[" * 100]}).encode()) == 2
