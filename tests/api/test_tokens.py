"""Tokens: issued on the command line or the profile page, stored hashed, revocable; the API
accepts ``Authorization: Bearer`` only and never the session cookie."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tracker import clock
from tracker.api.models import ApiToken
from tracker.api.services import hash_token
from tracker.audit.models import AuditEvent
from tracker.auth.services import deactivate_user
from tracker.extensions import db

TOKEN = re.compile(r"trk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def _tokens() -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)))


def test_cli_creates_a_token_shown_once_and_stored_hashed(runner, seeded, make_user, api):
    user = make_user("liaison", "mohrss", username="zhangsan")
    result = runner.invoke(args=["token", "create", "zhangsan", "--name", "人社部业务系统"])
    assert result.exit_code == 0, result.output
    raw = TOKEN.search(result.output).group(0)
    (stored,) = _tokens()
    assert stored.name == "人社部业务系统" and stored.user_id == user.id
    assert stored.token_hash == hash_token(raw) and raw not in (stored.token_hash, stored.prefix)
    me = api(token=raw).get("/me").get_json()
    assert me["username"] == "zhangsan" and me["role"] == "liaison"
    assert me["department"]["code"] == "mohrss"
    listing = runner.invoke(args=["token", "list"])
    assert "zhangsan" in listing.output and stored.prefix in listing.output
    assert raw not in listing.output


def test_cli_refuses_unknown_users_and_revokes_by_number(runner, make_user, api):
    assert runner.invoke(args=["token", "create", "nobody"]).exit_code != 0
    make_user("coordinator", username="lisi")
    raw = TOKEN.search(runner.invoke(args=["token", "create", "lisi"]).output).group(0)
    (stored,) = _tokens()
    result = runner.invoke(args=["token", "revoke", str(stored.id)])
    assert result.exit_code == 0, result.output
    response = api(token=raw).get("/me")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


@pytest.mark.parametrize("shown", ["hint", "bare", "whole"])
def test_cli_revokes_by_the_prefix_token_list_prints(runner, make_user, api, shown):
    make_user("coordinator", username="lisi")
    raw = TOKEN.search(runner.invoke(args=["token", "create", "lisi"]).output).group(0)
    (stored,) = _tokens()
    listed = runner.invoke(args=["token", "list"]).output.split("\t")[3]
    assert listed == f"trk_{stored.prefix}_…"
    key = {"hint": listed, "bare": stored.prefix, "whole": raw}[shown]
    result = runner.invoke(args=["token", "revoke", key])
    assert result.exit_code == 0, result.output
    assert "已撤销令牌" in result.output
    assert api(token=raw).get("/me").status_code == 401


def test_cli_refuses_a_prefix_nobody_has(runner, make_user):
    make_user("coordinator", username="lisi")
    runner.invoke(args=["token", "create", "lisi"])
    result = runner.invoke(args=["token", "revoke", "trk_00000000_…"])
    assert result.exit_code != 0 and "没有这个令牌：trk_00000000_…" in result.output


def test_a_revoked_token_is_refused(api, make_user, client, login):
    user = make_user("viewer")
    caller = api(user)
    assert caller.get("/departments").status_code == 200
    login(user)
    page = client.get("/profile/tokens").get_data(as_text=True)
    assert "测试系统" in page and caller.token not in page  # listed, never shown again
    (stored,) = _tokens()
    response = client.post(f"/profile/tokens/{stored.id}/revoke", data={"confirm": "1"})
    assert response.status_code == 302
    assert caller.get("/departments").status_code == 401
    db.session.expire_all()
    assert _tokens()[0].revoked_at is not None


def test_a_deactivated_users_tokens_stop_working(api, seeded, make_user):
    user = make_user("liaison", "mca")
    caller = api(user)
    deactivate_user(user)
    db.session.commit()
    assert caller.get("/me").status_code == 401


def test_the_session_cookie_is_refused_by_the_api(seeded, make_user, client, login):
    user = make_user("coordinator")
    login(user)
    assert client.get("/profile/tokens").status_code == 200  # the session works on the web
    for path in ("/api/v1/me", "/api/v1/departments", "/api/v1/obligations"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "unauthorized"
    response = client.post("/api/v1/reports", json={"obligation_id": 1}, csrf=False)
    assert response.status_code == 401


def test_with_both_the_token_decides_and_the_session_is_ignored(
    seeded, make_user, client, login, token_for
):
    coordinator, liaison = make_user("coordinator"), make_user("liaison", "mca")
    login(coordinator)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token_for(liaison)}"})
    assert response.get_json()["username"] == liaison.username
    assert "Set-Cookie" not in response.headers  # the API never touches the session


def test_malformed_authorization_headers_are_refused(api, make_user, token_for):
    raw = token_for(make_user("viewer"))
    caller = api()
    for header in (raw, f"Basic {raw}", f"Bearer {raw} extra", f"Bearer {raw[:-1]}x", "Bearer"):
        response = caller.get("/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    assert caller.get("/me", headers={"Authorization": f"bearer {raw}"}).status_code == 200


def test_last_use_is_noted_at_most_once_a_minute(api, make_user, quarter):
    caller = api(make_user("viewer"))
    caller.get("/me")
    first = _tokens()[0].last_used_at
    assert first == clock.utcnow()
    quarter.at("2024-10-05 10:00:30")
    caller.get("/me")
    db.session.expire_all()
    assert _tokens()[0].last_used_at == first
    quarter.at("2024-10-05 10:05")
    caller.get("/me")
    db.session.expire_all()
    assert _tokens()[0].last_used_at == clock.utcnow()


def test_the_profile_page_issues_a_token_once_and_audits_it(seeded, make_user, client, login, api):
    user = make_user("liaison", "mca")
    login(user)
    response = client.post("/profile/tokens", data={"name": "民政部业务系统"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    raw = TOKEN.search(response.get_data(as_text=True)).group(0)
    assert api(token=raw).get("/me").get_json()["username"] == user.username
    assert TOKEN.search(client.get("/profile/tokens").get_data(as_text=True)) is None
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.like("token.%"))
    ).all()
    assert [e.action for e in events] == ["token.create"]
    assert events[0].actor_id == user.id and raw not in str(events[0].after)


def test_the_profile_page_refuses_an_empty_name(make_user, client, login):
    login(make_user("viewer"))
    response = client.post("/profile/tokens", data={"name": "  "})
    assert response.status_code == 422
    assert "请填写令牌名称" in response.get_data(as_text=True)
    assert _tokens() == []


def test_one_cannot_revoke_another_users_token(seeded, make_user, client, login, token_for, api):
    owner, other = make_user("liaison", "mca"), make_user("liaison", "mca")
    raw = token_for(owner)
    login(other)
    (stored,) = _tokens()
    assert client.post(f"/profile/tokens/{stored.id}/revoke").status_code == 404
    assert api(token=raw).get("/me").status_code == 200


def test_no_csrf_token_is_needed_by_the_api(api, quarter, make_user):
    caller = api(make_user("liaison", "mca"))
    obligation = quarter.obligation(5, "mca")
    response = caller.post("/reports", json={"obligation_id": obligation.id, "progress": "x"})
    assert response.status_code == 201


def test_revoking_asks_first_and_the_first_post_changes_nothing(
    api, client, seeded, make_user, login
):
    user = make_user("viewer")
    caller = api(user)
    login(user)
    (stored,) = _tokens()
    response = client.post(f"/profile/tokens/{stored.id}/revoke")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "确认撤销" in page and stored.hint in page and 'href="/profile/tokens"' in page
    assert caller.get("/departments").status_code == 200
    db.session.expire_all()
    assert _tokens()[0].revoked_at is None
