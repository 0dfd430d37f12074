"""Sign-in limits per username *and* client address, counted before the password is checked.

Five wrong passwords from one address lock that pair only: the owner signs in from elsewhere.
An address is limited over all usernames; a username under attack from many addresses is slowed
(one guess per address every few seconds), never locked. Concurrent bursts against a live
server get at most the allowed number of guesses evaluated.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, beijing
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth import models as auth_models
from tracker.extensions import db

LOCKED = "登录失败次数过多"
ADDRESS_LOCKED = "本机地址登录失败次数过多"
SLOWED = "秒后再试"


def _from(app, address: str):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


def attempt(c, username: str, password: str):
    response = c.post("/login", data={"username": username, "password": password})
    signed_in = response.status_code == 302
    if signed_in:
        c.post("/logout")
    return response.get_data(as_text=True), signed_in


@pytest.fixture
def at_nine():
    with clock.frozen(beijing("2026-12-01 09:00")) as moment:
        yield moment


@pytest.fixture
def checks(monkeypatch):
    """Every password check made (the hash checked), in this process."""
    seen: list[str] = []
    real = auth_models.check_password_hash

    def counted(pwhash, password):
        seen.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth_models, "check_password_hash", counted)
    return seen


def test_anonymous_failures_lock_the_pair_not_the_owner(app, make_user, at_nine):
    owner = make_user("admin")
    attacker = _from(app, "203.0.113.66")
    for _ in range(5):
        attempt(attacker, owner.username, "wrong-password")
    page, signed_in = attempt(attacker, owner.username, PASSWORD)
    assert not signed_in and LOCKED in page  # the attacker's address is locked for the name
    page, signed_in = attempt(_from(app, "192.0.2.10"), owner.username, PASSWORD)
    assert signed_in, page  # the owner, from their own address, is not
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.lock"))
    assert event.after["address"] == "203.0.113.66" and event.object_id == owner.id


def test_an_address_is_limited_over_every_username(app, make_user, monkeypatch, at_nine):
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_ADDRESS_MAX_FAILURES", 3)
    user = make_user("viewer")
    sprayer = _from(app, "203.0.113.7")
    for name in ("alice", "bob", "carol"):
        attempt(sprayer, name, "Summer-2026")
    page, signed_in = attempt(sprayer, user.username, PASSWORD)
    assert not signed_in and ADDRESS_LOCKED in page and "09:15（北京时间）" in page
    assert attempt(_from(app, "192.0.2.10"), user.username, PASSWORD)[1]
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "login.address_lock")
    )


def test_a_username_under_attack_is_slowed_never_locked(
    app, make_user, monkeypatch, at_nine, checks
):
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_USERNAME_SLOW_AFTER", 3)
    owner = make_user("coordinator")
    for n in range(3):  # three addresses, one wrong guess each
        attempt(_from(app, f"203.0.113.{n + 1}"), owner.username, "wrong-password")
    bot = _from(app, "203.0.113.50")
    assert SLOWED not in attempt(bot, owner.username, "wrong-password")[0]  # its first slot
    checks.clear()
    page, _ = attempt(bot, owner.username, "wrong-password")
    assert SLOWED in page and "5 秒" in page and checks == []  # refused without a check
    with clock.frozen(at_nine + timedelta(seconds=6)):
        assert SLOWED not in attempt(bot, owner.username, "wrong-password")[0]
        # the owner, from another address, gets their slot and signs in
        page, signed_in = attempt(_from(app, "192.0.2.10"), owner.username, PASSWORD)
        assert signed_in, page


def _csrf(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/login").text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_concurrent_burst_gets_at_most_the_allowed_guesses_evaluated(app, make_user, checks):
    """41 simultaneous wrong passwords from one address, through a real threaded server."""
    owner = make_user("admin")
    username = owner.username
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        sessions = [requests.Session() for _ in range(41)]
        tokens = [_csrf(s, base) for s in sessions]
        checks.clear()
        start = threading.Barrier(len(sessions))
        answers: list[int] = []

        def guess(session, token):
            start.wait()
            response = session.post(
                f"{base}/login",
                data={"username": username, "password": "wrong-password", "csrf_token": token},
                allow_redirects=False,
                timeout=60,
            )
            answers.append(response.status_code)

        workers = [
            threading.Thread(target=guess, args=pair) for pair in zip(sessions, tokens, strict=True)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert len(answers) == 41 and set(answers) == {200}, answers
    assert len(checks) == app.config["TRACKER_LOGIN_MAX_FAILURES"]


def test_the_client_address_comes_from_a_trusted_proxy_only(app, make_user, monkeypatch, at_nine):
    """Behind a trusted proxy the forwarded address is the one counted (and shown on the
    sessions page); from anyone else ``X-Forwarded-For`` is ignored."""
    from tracker.auth.models import LoginThrottle, UserSession
    from tracker.proxy import TrustedProxyFix, parse_networks

    monkeypatch.setattr(app, "wsgi_app", TrustedProxyFix(app.wsgi_app, parse_networks("10.0.0.1")))
    user = make_user("viewer")
    proxied = _from(app, "10.0.0.1")
    proxied.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.77"
    forged = _from(app, "198.51.100.5")
    forged.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.88"
    attempt(proxied, user.username, "wrong-password")
    attempt(forged, user.username, "wrong-password")
    keys = set(
        db.session.scalars(sa.select(LoginThrottle.key).where(LoginThrottle.scope == "pair"))
    )
    assert keys == {f"203.0.113.77\n{user.username}", f"198.51.100.5\n{user.username}"}
    proxied.post("/login", data={"username": user.username, "password": PASSWORD})
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.client_address == "203.0.113.77"
    login = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "user.login", AuditEvent.outcome == "success"
        )
    )
    assert login.after == {"address": "203.0.113.77"}
