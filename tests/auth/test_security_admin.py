"""The security administrator's own work: signing a user out everywhere (web sessions and API
tokens), the read-only policy page, and a menu that shows each separated administrator only
what their role may open."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker.api.models import ApiToken
from tracker.api.services import create_token
from tracker.audit.models import AuditEvent
from tracker.auth.models import UserSession
from tracker.extensions import db


def _signed_in(app, user):
    """A second browser signed in as ``user``."""
    other = app.test_client()
    response = other.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return other


def _open_sessions(user) -> int:
    query = sa.select(sa.func.count()).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    return db.session.scalar(query.select_from(UserSession))


def test_the_security_admin_signs_a_user_out_everywhere_and_revokes_their_tokens(
    app, client, seeded, make_user, login
):
    security, liaison = make_user("security_admin"), make_user("liaison", "mps")
    laptop, phone = _signed_in(app, liaison), _signed_in(app, liaison)
    _, token = create_token(liaison, name="脚本", actor=liaison)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert laptop.get("/reports").status_code == 200
    assert client.get("/api/v1/me", headers=bearer).status_code == 200

    login(security)
    page = client.get("/admin/users").get_data(as_text=True)
    row = re.search(rf'<tr data-username="{liaison.username}">.*?</tr>', page, re.S).group(0)
    assert '<td class="nowrap" data-col="sessions">2</td>' in row and "强制下线" in row

    asked = client.post(f"/admin/users/{liaison.id}/end-access")
    assert asked.status_code == 200 and "确认强制" in asked.get_data(as_text=True)
    assert _open_sessions(liaison) == 2  # the confirmation page changes nothing

    done = client.post(
        f"/admin/users/{liaison.id}/end-access", data={"confirm": "1"}, follow_redirects=True
    )
    assert "已在所有设备上退出登录" in done.get_data(as_text=True)
    db.session.expire_all()
    assert _open_sessions(liaison) == 0
    for browser in (laptop, phone):
        assert browser.get("/reports").status_code == 302  # back to the sign-in page
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == liaison.id))
    assert all(row.revoked_at is not None for row in tokens)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.end_access"))
    assert event is not None and event.actor_id == security.id and event.object_id == liaison.id
    # The password stays: the user signs in again.
    assert _signed_in(app, liaison).get("/reports").status_code == 200


def test_nobody_forces_themselves_out_and_nobody_else_forces_anyone(
    app, client, seeded, make_user, login
):
    security, liaison = make_user("security_admin"), make_user("liaison", "mps")
    login(security)
    refused = client.post(
        f"/admin/users/{security.id}/end-access", data={"confirm": "1"}, follow_redirects=True
    )
    assert "不能对自己的账号强制下线" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert _open_sessions(security) == 1
    kept = _signed_in(app, liaison)
    for role in ("admin", "auditor", "coordinator"):
        login(make_user(role))
        response = client.post(f"/admin/users/{liaison.id}/end-access", data={"confirm": "1"})
        assert response.status_code == 403, role
    assert kept.get("/reports").status_code == 200


def test_the_policy_page_states_the_settings_in_force(
    app, client, seeded, make_user, login, monkeypatch
):
    login(make_user("security_admin"))
    for key, value in {
        "TRACKER_SESSION_IDLE_MINUTES": 17,
        "TRACKER_PASSWORD_MAX_AGE_DAYS": 0,
        "TRACKER_TOTP_REQUIRED_ROLES": "admin,coordinator",
        "TRACKER_RATELIMIT_API_PER_USER": "7 per minute",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    response = client.get("/admin/security-policy")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "17 分钟（TRACKER_SESSION_IDLE_MINUTES）" in page
    assert "不过期（TRACKER_PASSWORD_MAX_AGE_DAYS）" in page
    assert "系统管理员、督办协调员（TRACKER_TOTP_REQUIRED_ROLES）" in page
    assert "每分钟 7 次（TRACKER_RATELIMIT_API_PER_USER）" in page
    assert "至少 10 个字符" not in page and "10 个字符" in page


@pytest.mark.parametrize("role", ["admin", "auditor", "coordinator", "viewer"])
def test_the_policy_page_is_the_security_admins(client, seeded, make_user, login, role):
    login(make_user(role))
    assert client.get("/admin/security-policy").status_code == 403


def _menu(client) -> list[str]:
    page = client.get("/help/", follow_redirects=True).get_data(as_text=True)
    nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
    return re.findall(r">([^<>]+)</a>", nav)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("security_admin", {"用户管理", "安全策略"}, {"看板", "考核排名", "趋势", "季度填报"}),
        ("auditor", set(), {"看板", "考核排名", "趋势", "季度填报", "用户管理", "安全策略"}),
        ("admin", {"用户管理", "看板"}, {"安全策略"}),
        ("coordinator", {"看板", "审核"}, {"用户管理", "安全策略", "季度填报"}),
    ],
)
def test_each_administrator_sees_the_menu_of_their_role(
    client, seeded, make_user, login, role, shown, hidden
):
    login(make_user(role))
    menu = set(_menu(client))
    assert shown <= menu, menu
    assert not hidden & menu, menu


@pytest.mark.parametrize("role", ["security_admin", "auditor"])
def test_progress_pages_send_the_two_administrators_home(client, seeded, make_user, login, role):
    login(make_user(role))
    home = client.get("/").headers["Location"]
    for url in ("/reports", "/dashboard", "/dashboard/scorecard", "/dashboard/trends"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert client.get(response.headers["Location"]).status_code in (200, 302), url
        assert response.headers["Location"] in ("/", home), url
