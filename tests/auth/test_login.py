"""Signing in and out, one-time passwords, safe redirects, deactivation, cookies."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tracker.auth.services import deactivate_user
from tracker.extensions import db


def test_anonymous_is_sent_to_login_with_next(client, seeded):
    response = client.get("/tasks?section=二")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_login_and_logout(client, seeded, make_user):
    user = make_user("coordinator", "mca")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 200
    client.post("/logout")
    assert client.get("/tasks").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user("coordinator")
    response = client.post("/login", data={"username": user.username, "password": "wrong-pass"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302


def test_login_form_without_csrf_token_is_refused(client, make_user):
    user = make_user("coordinator")
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD}, csrf=False
    )
    assert response.status_code == 400
    assert client.get("/tasks").status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/departments", "/departments"),
        ("https://evil.example/x", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_only_follows_local_paths(client, make_user, target, expected):
    user = make_user("coordinator")
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": user.username, "password": PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_deactivated_user_is_logged_out_on_next_request(client, seeded, make_user, login):
    user = make_user("liaison", "mca")
    login(user)
    assert client.get("/tasks").status_code == 200
    deactivate_user(user)
    db.session.commit()
    assert client.get("/tasks").status_code == 302
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200  # cannot sign in again


def test_one_time_password_must_be_changed_first(client, seeded, make_user, login):
    user = make_user("admin", must_change_password=True)
    login(user)
    response = client.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"] == "/password"
    response = client.post(
        "/password",
        data={
            "current_password": PASSWORD,
            "new_password": "A-new-password-1",
            "confirm": "A-new-password-1",
        },
    )
    assert response.status_code == 302
    assert client.get("/tasks").status_code == 200


def test_password_change_validation(client, make_user, login):
    user = make_user("admin")
    login(user)
    page = client.post(
        "/password",
        data={"current_password": "not-it-at-all", "new_password": "short", "confirm": "other"},
    ).get_data(as_text=True)
    assert "当前密码不正确" not in page  # form-level errors come first
    assert "至少 10 个字符" in page and "不一致" in page
    page = client.post(
        "/password",
        data={
            "current_password": "not-it-at-all",
            "new_password": "Long-enough-1",
            "confirm": "Long-enough-1",
        },
    ).get_data(as_text=True)
    assert "当前密码不正确" in page


def test_password_change_ends_other_sessions(app, seeded, make_user):
    user = make_user("coordinator")
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    first.post(
        "/password",
        data={
            "current_password": PASSWORD,
            "new_password": "Brand-new-pass1",
            "confirm": "Brand-new-pass1",
        },
    )
    assert first.get("/tasks").status_code == 200
    assert second.get("/tasks").status_code == 302


def test_session_cookie_flags(client, make_user):
    user = make_user("coordinator")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers_on_pages(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
