"""The API under the same access table as the web pages, each user calling with a token.

``tests/auth/test_access_table.py`` classifies every endpoint, API ones included, and checks
that a session never opens the API; here each of its users holds a token, and every API
endpoint must answer exactly as its level says: 403 outside one's department or role, 404 for
missing objects, 401 without a valid token.
"""

from __future__ import annotations

import pytest
from flask import url_for

from tests.auth import test_access_table as table

world = table.world  # the same users, and the Ministry of Public Security's draft on item 11

# Bodies that get past validation, so that only the permission decides the answer.
BODIES = {
    "api.create_report": lambda values: {"obligation_id": values["obligation_id"]},
    "api.update_report": lambda values: {"version": 1, "problems": "暂无"},
    "api.submit_report": lambda values: {},
    "api.accept_report": lambda values: {"confirmed_status": "completed"},
    "api.return_report": lambda values: {"reason": "请补充数据。"},
    "api.reopen_report": lambda values: {"reason": "核定状态有误，重新审核。"},
    "api.withdraw_report": lambda values: {},
    "api.request_approval": lambda values: {},
    "api.cancel_approval": lambda values: {},
    "api.approve_report": lambda values: {},
    "api.return_to_liaison": lambda values: {"reason": "请补充数据。"},
    "api.set_department_liaisons": lambda values: {},
    "api.propose_plan": lambda values: {
        "milestones": [
            {"title": "完成排查", "due_period": "2026Q4", "department_id": values["department_id"]}
        ]
    },
    "api.approve_plan": lambda values: {},
    "api.return_plan": lambda values: {"reason": "请补充指标。"},
    "api.judge_delivery": lambda values: {
        "period": values["period"],
        "step": "severe",
        "reason": "节点均未启动。",
    },
}


def _api_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")),
        key=lambda r: r.endpoint,
    )


def _call(app, client, rule, values):
    with app.test_request_context():
        url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
    method = table._method(rule)
    body = BODIES[rule.endpoint](values) if rule.endpoint in BODIES else None
    return client.request(method, url, json=body)


def test_every_api_endpoint_is_in_the_access_table(app):
    for rule in _api_rules(app):
        assert rule.endpoint in table.ACCESS, rule.endpoint


@pytest.mark.parametrize("who", table.USERS)
def test_each_token_gets_exactly_what_the_table_says(app, api, world, who):
    client = api(world[who])
    for rule in _api_rules(app):
        level = table.ACCESS[rule.endpoint]
        status = _call(app, client, rule, world["values"]).status_code
        if level in (table.PUBLIC, table.SIGNED_IN):
            assert status == 200, f"{who} {rule.endpoint} → {status}"
        elif who not in table.ENTITLED[level]:
            assert status == 403, f"{who} {rule.endpoint} → {status}"
        elif table._method(rule) == "GET":
            assert status == 200, f"{who} {rule.endpoint} → {status}"
        else:  # allowed; the state machine may still refuse (409), but never the permission
            assert status in (200, 201, 409), f"{who} {rule.endpoint} → {status}"


def test_missing_objects_are_404_for_those_entitled(app, api, world):
    for who in ("coordinator", "own_liaison"):
        client = api(world[who])
        for rule in _api_rules(app):
            if not rule.arguments or who not in table.ENTITLED[table.ACCESS[rule.endpoint]]:
                continue
            response = _call(app, client, rule, world["missing"])
            assert response.status_code == 404, f"{who} {rule.endpoint}"
            assert response.get_json()["error"] == "not_found"


def test_without_a_valid_token_everything_but_the_document_is_401(app, api, world):
    for token in (None, "trk_00000000_not-a-real-token", "not even the right shape"):
        client = api(token=token)
        for rule in _api_rules(app):
            response = _call(app, client, rule, world["values"])
            if table.ACCESS[rule.endpoint] == table.PUBLIC:
                assert response.status_code == 200, rule.endpoint
            else:
                assert response.status_code == 401, f"{token} {rule.endpoint}"
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
