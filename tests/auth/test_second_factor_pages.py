"""The second factor on the web: the code step after the password, forced enrolment, one's
own factor page, and the security administrator's reset. Real codes computed with pyotp."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth import second_factor
from tracker.auth.models import LoginThrottle, SecondFactor
from tracker.config import Settings
from tracker.extensions import db


def _code(secret: str, delta_seconds: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.utcnow() + timedelta(seconds=delta_seconds))


def _enrolled(user) -> tuple[str, list[str]]:
    secret = second_factor.new_secret()
    codes = second_factor.enrol(user, secret, _code(secret))
    db.session.commit()
    return secret, codes


def _password(client, user):
    return client.post("/login", data={"username": user.username, "password": PASSWORD})


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_enrolled_user_is_signed_in_only_after_the_code(client, seeded, make_user, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    secret, _ = _enrolled(user)
    at("2026-12-05 10:01")  # a later time step than the one enrolment used
    response = _password(client, user)
    assert response.headers["Location"] == "/login/second-factor"
    assert client.get("/reports").status_code == 302  # not signed in yet
    assert "/login" in client.get("/reports").headers["Location"]
    page = client.get("/login/second-factor")
    assert page.status_code == 200 and "输入动态口令" in page.get_data(as_text=True)

    wrong = client.post("/login/second-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    assert client.get("/reports").status_code == 302
    done = client.post("/login/second-factor", data={"code": _code(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/reports").status_code == 200
    db.session.expire_all()
    assert user.last_login_at is not None


def test_a_wrong_code_counts_like_a_wrong_password(client, seeded, make_user, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    _enrolled(user)
    at("2026-12-05 10:01")
    _password(client, user)
    for _ in range(2):
        response = client.post("/login/second-factor", data={"code": "123456"})
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert "动态口令或恢复码不正确" in text and "用户名或密码不正确" not in text
    failures = db.session.scalar(
        sa.select(sa.func.max(LoginThrottle.failures)).where(
            LoginThrottle.key.contains(user.username)
        )
    )
    assert failures and failures >= 2
    assert "second_factor.failed" in _actions() or "login.failed" in " ".join(_actions())


def test_a_code_is_accepted_once_and_a_recovery_code_once(app, seeded, make_user, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    secret, codes = _enrolled(user)
    at("2026-12-05 10:01")
    first = app.test_client()
    _password(first, user)
    code = _code(secret)
    assert first.post("/login/second-factor", data={"code": code}).status_code == 302
    replay = app.test_client()
    _password(replay, user)
    assert replay.post("/login/second-factor", data={"code": code}).status_code == 422

    for attempt, status in ((codes[0], 302), (codes[0], 422)):
        other = app.test_client()
        _password(other, user)
        assert other.post("/login/second-factor", data={"code": attempt}).status_code == status


def test_the_code_step_expires_after_five_minutes(client, seeded, make_user, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    secret, _ = _enrolled(user)
    at("2026-12-05 10:01")
    _password(client, user)
    at("2026-12-05 10:07")
    response = client.post("/login/second-factor", data={"code": _code(secret)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "登录已超时" in client.get("/login").get_data(as_text=True)
    assert client.get("/reports").status_code == 302
    # Without a password first, the code page sends you to sign in.
    assert client.get("/login/second-factor").headers["Location"] == "/login"


def test_a_required_role_enrols_before_anything_else(
    app, client, seeded, make_user, at, monkeypatch
):
    monkeypatch.setitem(app.config, "TRACKER_TOTP_REQUIRED_ROLES", Settings().totp_required_roles)
    at("2026-12-05 10:00")
    coordinator = make_user("coordinator", "mca")
    assert _password(client, coordinator).status_code == 302
    for path in ("/dashboard", "/reports/review", "/tasks"):
        assert client.get(path).headers["Location"] == "/account/second-factor", path
    page = client.get("/account/second-factor")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "<svg" in text and 'id="must-enrol"' in text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', text).group(1)

    wrong = client.post("/account/second-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    assert f'data-secret="{secret}"' in wrong.get_data(as_text=True)  # the same QR again
    assert not second_factor.is_enrolled(coordinator)

    done = client.post("/account/second-factor", data={"code": _code(secret)})
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    shown = re.findall(r'data-testid="recovery-code">([^<]+)<', done.get_data(as_text=True))
    assert len(shown) == 10
    assert db.session.get(SecondFactor, coordinator.id).secret == secret
    assert client.get("/dashboard").status_code == 200
    # Removing a required factor is refused.
    client.post("/account/second-factor/remove", data={"remove_code": _code(secret, 30)})
    assert second_factor.is_enrolled(coordinator)


def test_regenerate_and_remove_an_optional_factor(client, seeded, make_user, login, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    login(user)
    secret, old_codes = _enrolled(user)
    at("2026-12-05 10:01")
    bad = client.post("/account/second-factor/recovery-codes", data={"regenerate_code": "1"})
    assert bad.status_code == 422
    new = client.post("/account/second-factor/recovery-codes",
                      data={"regenerate_code": _code(secret)})  # fmt: skip
    fresh = re.findall(r'data-testid="recovery-code">([^<]+)<', new.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(old_codes)

    at("2026-12-05 10:02")
    code = _code(secret)
    ask = client.post("/account/second-factor/remove", data={"remove_code": code})
    assert "确认停用双因素认证" in ask.get_data(as_text=True)
    assert second_factor.is_enrolled(user)  # nothing removed before confirming
    client.post("/account/second-factor/remove", data={"remove_code": code, "confirm": "1"})
    assert not second_factor.is_enrolled(user)
    assert "second_factor.remove" in _actions()


def test_the_security_administrator_resets_a_lost_factor(app, client, seeded, make_user, login, at):
    at("2026-12-05 10:00")
    user = make_user("liaison", "mohrss")
    _enrolled(user)
    for role in ("admin", "auditor", "liaison"):
        login(make_user(role, "mohrss" if role == "liaison" else None))
        response = client.post(f"/admin/users/{user.id}/reset-second-factor")
        assert response.status_code == 403, role
    security = make_user("security_admin")
    login(security)
    users = client.get("/admin/users").get_data(as_text=True)
    assert "重置双因素" in users
    ask = client.post(f"/admin/users/{user.id}/reset-second-factor")
    assert "确认重置" in ask.get_data(as_text=True)
    assert second_factor.is_enrolled(user)
    done = client.post(f"/admin/users/{user.id}/reset-second-factor", data={"confirm": "1"})
    assert done.status_code == 302
    assert not second_factor.is_enrolled(user)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "second_factor.reset")
    )
    assert event is not None and event.actor_id == security.id
    # The user signs in with the password alone now.
    fresh = app.test_client()
    assert _password(fresh, user).headers["Location"] == "/"
