"""Server-side sessions: the signed cookie names a row of ``user_session``, checked on every
request; logging out, a new password, a reset, deactivation and a role change end it; it ends by
itself when idle or too old; a user sees their sessions and ends the others."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_login.utils import encode_cookie

from tests.conftest import PASSWORD
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth import services
from tracker.auth.models import UserSession
from tracker.extensions import db

pytestmark = pytest.mark.usefixtures("deployed_limits")

NEW_PASSWORD = "Another-pass-42"


def _client(app, user, **environ):
    c = app.test_client()
    if environ:
        c.environ_base.update(environ)
    response = c.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return c


def _signed_in(c) -> bool:
    return c.get("/tasks").status_code == 200


def _cookie(c) -> str:
    return c.get_cookie("session").value


def _replay(app, cookie: str):
    """A new browser holding nothing but a copy of an old session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def test_logging_out_ends_the_session_on_the_server(app, make_user):
    user = make_user("coordinator")
    c = _client(app, user)
    cookie = _cookie(c)
    assert _signed_in(_replay(app, cookie))  # the copy works while the session is open
    c.post("/logout")
    assert not _signed_in(c)
    assert not _signed_in(_replay(app, cookie))  # a replayed cookie signs nobody in
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row.ended_at is not None and row.end_reason == "logout"


def test_no_remember_cookie_is_issued_and_none_signs_in(app, client, make_user):
    user = make_user("coordinator")
    page = client.get("/login").get_data(as_text=True)
    assert "保持登录" not in page and 'name="remember"' not in page
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "remember": "y"}
    )
    assert "remember_token" not in " ".join(response.headers.getlist("Set-Cookie"))
    # The old cookie: user id and the last 12 characters of the password hash, signed.
    forged = app.test_client()
    forged.set_cookie("remember_token", encode_cookie(f"{user.id}:{user.password_hash[-12:]}"))
    assert not _signed_in(forged)
    # Nor a remember cookie naming a real session, once that session has ended.
    token_cookie = _cookie(client)
    client.post("/logout")
    stale = app.test_client()
    stale.set_cookie("session", token_cookie)
    assert not _signed_in(stale)


def test_the_session_id_changes_at_every_sign_in(app, make_user):
    user = make_user("viewer")
    first, second = _client(app, user), _client(app, user)
    assert _cookie(first) != _cookie(second)
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 2 and rows[0].token_hash != rows[1].token_hash
    # A cookie fixed before signing in (an anonymous session someone planted) is not kept.
    planted = app.test_client()
    planted.get("/login")
    before = _cookie(planted)
    planted.post("/login", data={"username": user.username, "password": PASSWORD})
    assert _cookie(planted) != before
    assert not _signed_in(_replay(app, before))


def test_an_idle_session_ends_and_activity_keeps_it(app, make_user):
    user = make_user("viewer")
    start = clock.utcnow()
    with clock.frozen(start):
        busy, idle = _client(app, user), _client(app, user)
    with clock.frozen(start + timedelta(minutes=20)):
        assert _signed_in(busy)
    with clock.frozen(start + timedelta(minutes=45)):  # 25 minutes after its last request
        assert _signed_in(busy)
        assert not _signed_in(idle)  # 45 minutes without a request: signed out


def test_the_idle_time_out_is_configurable(app, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_SESSION_IDLE_MINUTES", 5)
    start = clock.utcnow()
    with clock.frozen(start):
        c = _client(app, make_user("viewer"))
    with clock.frozen(start + timedelta(minutes=6)):
        assert not _signed_in(c)


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, make_user):
    user = make_user("viewer")
    start = clock.utcnow()
    with clock.frozen(start):
        c = _client(app, user)
    for minutes in range(20, 12 * 60, 20):
        with clock.frozen(start + timedelta(minutes=minutes)):
            assert _signed_in(c), minutes
    with clock.frozen(start + timedelta(hours=12, minutes=1)):
        assert not _signed_in(c)
        response = c.get("/tasks")
        assert response.headers["Location"].startswith("/login")


def test_a_new_password_ends_every_other_session_and_rotates_this_one(app, make_user):
    user = make_user("coordinator")
    mine, other = _client(app, user), _client(app, user)
    old_cookie = _cookie(mine)
    response = mine.post(
        "/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _signed_in(mine) and _cookie(mine) != old_cookie
    assert not _signed_in(other)
    assert not _signed_in(_replay(app, old_cookie))


@pytest.mark.parametrize("change", ["reset", "deactivate", "role", "department"])
def test_an_administrators_change_ends_the_users_sessions(app, seeded, make_user, change):
    admin = make_user("admin")
    user = make_user("liaison", "mps")
    victim = _client(app, user)
    cookie = _cookie(victim)
    if change == "reset":
        services.reset_password(user, actor=admin)
    elif change == "deactivate":
        services.deactivate_user(user, actor=admin)
    elif change == "role":
        services.edit_user(user, role="viewer", actor=admin)
    else:
        services.edit_user(user, department=services.resolve_department("moj"), actor=admin)
    db.session.commit()
    assert not _signed_in(victim)
    if change == "deactivate":
        services.activate_user(user, actor=admin)
        db.session.commit()
        assert not _signed_in(_replay(app, cookie))  # reactivating revives no session
    ended = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.end_all"))
    assert ended.object_id == user.id and ended.actor_id == admin.id


def test_an_edit_that_changes_no_privilege_keeps_the_sessions(app, seeded, make_user):
    admin, user = make_user("admin"), make_user("liaison", "mps")
    c = _client(app, user)
    services.edit_user(user, display_name="新名字", actor=admin)
    db.session.commit()
    assert _signed_in(c)


def test_an_administrator_gives_themself_no_department_and_keeps_the_session(
    app, seeded, make_user
):
    """Administrators have no department, and nobody changes their own role (三员分立): no
    edit of one's own account changes a privilege, so the session stays."""
    admin = make_user("admin")
    c = _client(app, admin)
    before = _cookie(c)
    response = c.post(
        f"/admin/users/{admin.id}/edit",
        data={"display_name": admin.display_name, "role": "admin", "department": "moj"},
    )
    assert response.status_code == 422
    assert "不属于任何部门" in response.get_data(as_text=True)
    assert _signed_in(c) and _signed_in(_replay(app, before))


def test_the_sessions_page_lists_them_and_ends_another(app, make_user):
    user = make_user("viewer")
    laptop = _client(app, user, REMOTE_ADDR="192.0.2.10", HTTP_USER_AGENT="Laptop Browser/1.0")
    phone = _client(app, user, REMOTE_ADDR="198.51.100.20", HTTP_USER_AGENT="Phone Browser/2.0")
    page = laptop.get("/account/sessions")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "192.0.2.10" in text and "198.51.100.20" in text and "Phone Browser/2.0" in text
    assert text.count("当前会话") == 1
    other = db.session.scalar(
        sa.select(UserSession).where(UserSession.client_address == "198.51.100.20")
    )
    # The first POST only asks to confirm; nothing ends yet.
    confirm = laptop.post(f"/account/sessions/{other.id}/end")
    assert confirm.status_code == 200 and "确认结束这个会话" in confirm.get_data(as_text=True)
    assert _signed_in(phone)
    done = laptop.post(f"/account/sessions/{other.id}/end", data={"confirm": "1"})
    assert done.status_code == 302
    assert not _signed_in(phone) and _signed_in(laptop)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.end"))
    assert event.actor_id == user.id and event.after["reason"] == "ended_by_user"


def test_ending_every_other_session(app, make_user):
    user = make_user("viewer")
    here, *elsewhere = (_client(app, user) for _ in range(3))
    assert "结束其他全部会话" in here.get("/account/sessions").get_data(as_text=True)
    assert here.post("/account/sessions/end-others").status_code == 200  # the confirmation
    assert all(_signed_in(c) for c in elsewhere)
    here.post("/account/sessions/end-others", data={"confirm": "1"})
    assert _signed_in(here) and not any(_signed_in(c) for c in elsewhere)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "session.end_all"))
    assert event.after["sessions"] == 2


def test_another_users_session_is_404_and_stays_open(app, make_user):
    mine, theirs = make_user("viewer"), make_user("viewer")
    c, victim = _client(app, mine), _client(app, theirs)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == theirs.id))
    assert c.post(f"/account/sessions/{row.id}/end", data={"confirm": "1"}).status_code == 404
    assert _signed_in(victim)
    page = c.get("/account/sessions").get_data(as_text=True)
    assert f'data-session="{row.id}"' not in page


def test_the_current_session_is_ended_by_signing_out_not_from_the_list(app, make_user):
    user = make_user("viewer")
    c = _client(app, user)
    row = db.session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    c.post(f"/account/sessions/{row.id}/end", data={"confirm": "1"})
    assert _signed_in(c)


def test_the_deployed_defaults(monkeypatch):
    from tracker.config import Settings

    for name in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "PASSWORD_MAX_AGE_DAYS"):
        monkeypatch.delenv(f"TRACKER_{name}", raising=False)
    settings = Settings()
    assert settings.session_idle_minutes == 30 and settings.session_max_hours == 12
    assert settings.password_max_age_days == 90


def test_closed_sessions_are_purged_after_the_keep_period_and_open_ones_never(app, make_user):
    from tracker.auth.sessions import purge_closed
    from tracker.jobs import JOBS

    with app.app_context():
        user = make_user("viewer")
        now = clock.utcnow()
        old, kept = now - timedelta(days=31), now - timedelta(days=29)

        def row(token: str, **fields) -> None:
            values = {"created_at": now, "last_seen_at": now, **fields}
            db.session.add(UserSession(token_hash=token * 64, user_id=user.id, **values))

        row("a", created_at=old, last_seen_at=old, ended_at=old, end_reason="logout")
        row("b", created_at=kept, last_seen_at=kept, ended_at=kept, end_reason="logout")
        row("c", created_at=old, last_seen_at=old)  # never ended, idle for a month
        row("d", created_at=kept, last_seen_at=kept)  # idle, but inside the keep period
        row("e")  # open now
        db.session.commit()

        assert purge_closed(now) == 2
        db.session.commit()
        left = db.session.scalars(sa.select(UserSession.token_hash)).all()
        assert sorted(token[0] for token in left) == ["b", "d", "e"]
        assert purge_closed(now) == 0

        job = next(job for job in JOBS if job.id == "sessions")
        job.run()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 3
