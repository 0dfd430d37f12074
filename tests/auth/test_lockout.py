"""Sign-in lockout: repeated failures lock a username for a while, whether or not it exists."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, beijing
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth.models import LoginThrottle
from tracker.extensions import db

LOCKED = "登录失败次数过多"
WRONG = "用户名或密码不正确"


def attempt(client, username: str, password: str):
    """POST the sign-in form; (status, page text, signed in?)."""
    response = client.post("/login", data={"username": username, "password": password})
    signed_in = response.status_code == 302
    if signed_in:
        client.post("/logout")
    return response.status_code, response.get_data(as_text=True), signed_in


@pytest.fixture
def at_nine():
    with clock.frozen(beijing("2026-12-01 09:00")) as moment:
        yield moment


def move_clock(minutes: int):
    return clock.frozen(beijing("2026-12-01 09:00") + timedelta(minutes=minutes))


def test_five_failures_lock_even_the_right_password_out(client, make_user, at_nine):
    user = make_user("coordinator")
    for left in (4, 3, 2, 1):
        status, page, signed_in = attempt(client, user.username, "wrong-password")
        assert (status, signed_in) == (200, False)
        assert WRONG in page and f"再失败 {left} 次" in page
    page = attempt(client, user.username, "wrong-password")[1]
    assert LOCKED in page and "09:15（北京时间）" in page
    status, page, signed_in = attempt(client, user.username, PASSWORD)
    assert not signed_in and LOCKED in page


def test_the_lock_ends_after_its_period_and_a_success_forgets_the_failures(
    client, make_user, at_nine
):
    user = make_user("admin")
    for _ in range(5):
        attempt(client, user.username, "wrong-password")
    with move_clock(14):
        assert attempt(client, user.username, PASSWORD)[2] is False
    with move_clock(16):
        assert attempt(client, user.username, PASSWORD)[2] is True
        assert db.session.get(LoginThrottle, ("pair", f"127.0.0.1\n{user.username}")) is None
        for _ in range(4):  # four more failures after the success: still one chance left
            attempt(client, user.username, "wrong-password")
        assert attempt(client, user.username, PASSWORD)[2] is True


def test_failures_spread_over_more_than_the_period_do_not_add_up(client, make_user, at_nine):
    user = make_user("viewer")
    for minutes in (0, 5, 10, 20, 25, 30, 35):  # never five within 15 minutes of the first
        with move_clock(minutes):
            page = attempt(client, user.username, "wrong-password")[1]
            assert LOCKED not in page, minutes
    assert attempt(client, user.username, PASSWORD)[2] is True


def test_an_unknown_username_is_answered_exactly_like_a_real_one(client, make_user, at_nine):
    real = make_user("coordinator")
    pages = {}
    for name in (real.username, "nobody-has-this-name"):
        pages[name] = [attempt(client, name, "wrong-password")[1] for _ in range(6)]

    def messages(page):
        return re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', page, re.S)

    for real_page, unknown_page in zip(*pages.values(), strict=True):
        assert messages(real_page) == messages(unknown_page) and messages(real_page)


def test_a_lock_is_audited_and_an_admin_can_lift_it(client, runner, make_user, at_nine):
    user = make_user("admin")
    for _ in range(5):
        attempt(client, f"  {user.username} ", "wrong-password")  # the name as typed, stripped
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.lock"))
    assert event.object_type == "user" and event.object_id == user.id
    assert event.after["failures"] == 5
    listed = runner.invoke(args=["user", "list"])
    assert "登录锁定至 2026-12-01 09:15" in listed.output
    result = runner.invoke(args=["user", "unlock", user.username])
    assert result.exit_code == 0, result.output
    assert attempt(client, user.username, PASSWORD)[2] is True
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "user.unlock")) == 1
    )
    again = runner.invoke(args=["user", "unlock", user.username])
    assert again.exit_code == 0 and "没有被锁定，也没有失败的登录记录，无需解锁。" in again.output
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "user.unlock")) == 1
    )


def test_a_deactivated_account_counts_failures_too(client, make_user, at_nine):
    from tracker.auth.services import deactivate_user

    user = make_user("viewer")
    deactivate_user(user)
    db.session.commit()
    _, page, signed_in = attempt(client, user.username, PASSWORD)
    assert not signed_in and WRONG in page and "再失败 4 次" in page


def test_the_limits_are_configurable(app, client, make_user, monkeypatch, at_nine):
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_MAX_FAILURES", 2)
    monkeypatch.setitem(app.config, "TRACKER_LOGIN_LOCK_MINUTES", 60)
    user = make_user("viewer")
    attempt(client, user.username, "wrong-password")
    page = attempt(client, user.username, "wrong-password")[1]
    assert LOCKED in page and "10:00（北京时间）" in page


def test_failures_at_the_same_moment_are_all_counted(app, make_user, at_nine):
    """Each failure is one atomic upsert: concurrent attempts cannot lose a count."""
    from tracker.auth.services import SignInRefused, sign_in

    user = make_user("viewer")
    # Read before the threads start: ``user`` belongs to this test's session, and four
    # threads loading its expired attributes at once would share that session.
    username = user.username
    errors = []

    def fail_once():
        with app.app_context(), clock.frozen(at_nine):
            try:
                sign_in(username, "wrong-password")
            except SignInRefused:
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
                db.session.rollback()

    threads = [threading.Thread(target=fail_once) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.get(LoginThrottle, ("pair", f"-\n{username}")).failures == 4


def test_an_unknown_username_costs_one_password_check_like_a_real_one(
    client, make_user, monkeypatch, at_nine
):
    """So that the time an answer takes does not tell which usernames exist."""
    import werkzeug.security

    from tracker.auth import models, services

    checks = []
    real_check = werkzeug.security.check_password_hash

    def counted(pwhash, password):
        checks.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(models, "check_password_hash", counted)
    monkeypatch.setattr(services, "check_password_hash", counted)
    user = make_user("viewer")
    attempt(client, user.username, "wrong-password")
    attempt(client, "nobody-has-this-name", "wrong-password")
    assert len(checks) == 2 and checks[0] == checks[1] == "pbkdf2:sha256:1000"
