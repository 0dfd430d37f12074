"""Authorization as a table over ``app.url_map``: every route is classified, then checked.

A new route that is missing from ``ACCESS`` fails ``test_every_route_is_classified``, so no
page can be added without deciding who may see it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.catalogue.models import Department, Task
from tracker.extensions import db

PUBLIC = "public"  # no login
SIGNED_IN = "signed-in"  # any active user
DEPARTMENT = "department"  # the department in the URL: its liaisons/viewers, coordinators, admins
COORDINATOR = "coordinator"  # coordinators and admins
ADMIN = "admin"

ACCESS = {
    "static": PUBLIC,
    "health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.password": SIGNED_IN,
    "catalogue.home": SIGNED_IN,
    "catalogue.tasks": SIGNED_IN,
    "catalogue.task": SIGNED_IN,
    "catalogue.departments": SIGNED_IN,
    "catalogue.department": DEPARTMENT,
}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def test_every_route_is_classified(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ACCESS))
    assert missing == [], f"classify these endpoints in ACCESS: {missing}"


@pytest.fixture
def world(seeded, make_user):
    """Two departments with a liaison each; URL values point at the *other* department."""
    mps = db.session.scalar(sa.select(Department).where(Department.code == "mps"))
    task = db.session.scalar(sa.select(Task).where(Task.number == 11))
    return {
        "values": {"task_id": task.id, "code": mps.code},
        "missing": {"task_id": 999_999, "code": "no-such-dept"},
        "own_liaison": make_user("liaison", "mps"),
        "other_liaison": make_user("liaison", "mohrss"),
        "other_viewer": make_user("viewer", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "admin": make_user("admin"),
    }


def _url(app, rule, values):
    unknown = set(rule.arguments) - set(values)
    assert not unknown, f"{rule.endpoint}: add URL values for {unknown} to the access table"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"


def _status(client, rule, url):
    return client.open(url, method=_method(rule)).status_code


def test_anonymous_is_sent_to_login_everywhere(app, client, world):
    for rule in _rules(app):
        url = _url(app, rule, world["values"])
        status = _status(client, rule, url)
        if ACCESS[rule.endpoint] == PUBLIC:
            assert status in (200, 302), rule.endpoint
        else:
            response = client.open(url, method=_method(rule))
            assert response.status_code == 302, rule.endpoint
            assert response.headers["Location"].startswith("/login"), rule.endpoint


def _signed_in(app, user):
    from tests.conftest import PASSWORD

    c = app.test_client()
    assert (
        c.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    )
    return c


@pytest.mark.parametrize("who", ["other_liaison", "other_viewer"])
def test_other_department_gets_403(app, world, who):
    c = _signed_in(app, world[who])
    for rule in _rules(app):
        if ACCESS[rule.endpoint] in (DEPARTMENT, COORDINATOR, ADMIN):
            assert _status(c, rule, _url(app, rule, world["values"])) == 403, rule.endpoint


@pytest.mark.parametrize("who", ["own_liaison", "coordinator", "leader", "admin"])
def test_entitled_users_get_through(app, world, who):
    c = _signed_in(app, world[who])
    for rule in _rules(app):
        level = ACCESS[rule.endpoint]
        if level == COORDINATOR and who in ("own_liaison", "leader"):
            continue
        if level == ADMIN and who != "admin":
            continue
        if _method(rule) != "GET" or rule.endpoint == "auth.logout":
            continue
        assert _status(c, rule, _url(app, rule, world["values"])) in (200, 302), rule.endpoint


def test_missing_objects_are_404(app, world):
    c = _signed_in(app, world["coordinator"])
    for rule in _rules(app):
        if not rule.arguments or _method(rule) != "GET":
            continue
        assert _status(c, rule, _url(app, rule, world["missing"])) == 404, rule.endpoint


def test_every_post_route_needs_a_csrf_token(app, world):
    c = _signed_in(app, world["admin"])
    for rule in _rules(app):
        if "POST" not in rule.methods:
            continue
        response = c.post(_url(app, rule, world["values"]), data={}, csrf=False)
        assert response.status_code == 400, rule.endpoint
