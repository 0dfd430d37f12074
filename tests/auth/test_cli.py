"""``flask user create / list / deactivate``."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.auth.models import User, UserRole
from tracker.extensions import db


def test_create_liaison_with_department_alias_and_one_time_password(runner, seeded):
    result = runner.invoke(
        args=["user", "create", "wang", "--role", "liaison", "--department", "人社部"]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("one-time password:")[1].split()[0]
    user = db.session.scalar(sa.select(User).where(User.username == "wang"))
    assert user.role == UserRole.LIAISON
    assert user.department.name == "人力资源社会保障部"
    assert user.must_change_password
    assert user.check_password(password)


def test_liaison_needs_a_department(runner, seeded):
    result = runner.invoke(args=["user", "create", "li", "--role", "liaison"])
    assert result.exit_code != 0
    assert "联络员必须属于一个部门" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_unknown_department_is_refused(runner, seeded):
    result = runner.invoke(
        args=["user", "create", "li", "--role", "viewer", "--department", "外交部"]
    )
    assert result.exit_code != 0 and "未知部门" in result.output


def test_password_from_stdin_and_duplicate_username(runner, seeded):
    result = runner.invoke(
        args=["user", "create", "boss", "--role", "viewer", "--password-stdin"],
        input="A-long-password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "boss"))
    assert user.check_password("A-long-password") and not user.must_change_password
    assert user.department is None  # a leader who reads everything
    again = runner.invoke(
        args=["user", "create", "boss", "--role", "viewer", "--password-stdin"],
        input="A-long-password\n",
    )
    assert again.exit_code != 0 and "已存在" in again.output


def test_short_password_is_refused(runner, seeded):
    result = runner.invoke(
        args=["user", "create", "x", "--role", "admin", "--password-stdin"], input="short\n"
    )
    assert result.exit_code != 0 and "至少 10 个字符" in result.output


def test_list_and_deactivate(runner, seeded, make_user):
    make_user("liaison", "mps", username="zhang")
    listing = runner.invoke(args=["user", "list"]).output
    assert "zhang\tliaison\t公安部\t启用" in listing
    assert runner.invoke(args=["user", "deactivate", "zhang"]).exit_code == 0
    assert "zhang\tliaison\t公安部\t停用" in runner.invoke(args=["user", "list"]).output
    missing = runner.invoke(args=["user", "deactivate", "nobody"])
    assert missing.exit_code != 0 and "没有这个用户" in missing.output


def test_reset_password_gives_a_one_time_password_ends_sessions_and_lifts_a_lock(
    app, runner, seeded, make_user
):
    from tests.conftest import PASSWORD
    from tracker.audit.models import AuditEvent
    from tracker.auth.models import LoginThrottle

    user = make_user("liaison", "mps", username="forgetful")
    signed_in = app.test_client()
    signed_in.post("/login", data={"username": "forgetful", "password": PASSWORD})
    assert signed_in.get("/tasks").status_code == 200
    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/login", data={"username": "forgetful", "password": "not-the-password"})
    assert db.session.get(LoginThrottle, ("pair", "127.0.0.1\nforgetful")).locked_until is not None

    result = runner.invoke(args=["user", "reset-password", "forgetful"])
    assert result.exit_code == 0, result.output
    password = result.output.split("one-time password:")[1].split()[0]
    db.session.refresh(user)
    assert user.check_password(password) and user.must_change_password
    assert not user.check_password(PASSWORD)
    assert signed_in.get("/tasks").status_code == 302  # the old session has ended
    assert db.session.get(LoginThrottle, ("pair", "127.0.0.1\nforgetful")) is None
    fresh = app.test_client()
    response = fresh.post("/login", data={"username": "forgetful", "password": password})
    assert response.status_code == 302
    assert fresh.get("/tasks").headers["Location"] == "/password"  # must change it first
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "user.reset_password")
        )
        == 1
    )
    missing = runner.invoke(args=["user", "reset-password", "nobody"])
    assert missing.exit_code != 0 and "没有这个用户" in missing.output


def test_a_deactivated_account_can_be_activated_again(runner, seeded, make_user, client):
    from tests.conftest import PASSWORD

    make_user("viewer", username="returning")
    runner.invoke(args=["user", "deactivate", "returning"])
    refused = client.post("/login", data={"username": "returning", "password": PASSWORD})
    assert refused.status_code == 200
    result = runner.invoke(args=["user", "activate", "returning"])
    assert result.exit_code == 0 and "已启用" in result.output
    assert "returning\tviewer\t-\t启用" in runner.invoke(args=["user", "list"]).output
    allowed = client.post("/login", data={"username": "returning", "password": PASSWORD})
    assert allowed.status_code == 302
