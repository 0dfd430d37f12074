"""The administrators' accounts page: create, reset, lock, deactivate, all on the server."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker.audit.models import AuditEvent
from tracker.auth.models import LoginThrottle, User, UserRole
from tracker.extensions import db


def one_time_password(page: str) -> str:
    found = re.search(r'data-testid="one-time-password">([^<]+)<', page)
    assert found, "no one-time password on the page"
    return found.group(1)


def user_named(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_an_admin_creates_a_liaison_who_must_change_the_password(
    app, client, seeded, make_user, login
):
    login(make_user("admin"))
    response = client.post(
        "/admin/users",
        data={"username": "zhangsan", "display_name": "张三", "email": "zhang@example.org",
              "role": "liaison", "department": "mps"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # the password is on the page
    page = response.get_data(as_text=True)
    password = one_time_password(page)
    user = user_named("zhangsan")
    assert user.role == UserRole.LIAISON and user.department.code == "mps"
    assert user.display_name == "张三" and user.must_change_password
    assert user.check_password(password)
    event = db.session.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "user.create", AuditEvent.object_id == user.id
        )
    )
    assert event.actor_id is not None  # the admin who created it
    fresh = app.test_client()
    fresh.post("/login", data={"username": "zhangsan", "password": password})
    assert fresh.get("/tasks").headers["Location"] == "/password"


def test_bad_input_is_refused_with_messages_and_creates_nothing(client, seeded, make_user, login):
    login(make_user("admin", username="root"))
    cases = [
        ({"username": "", "role": "viewer"}, "请填写用户名"),
        ({"username": "li si", "role": "viewer"}, "不能含空格"),
        ({"username": "lisi", "role": "liaison", "department": ""}, "联络员必须属于一个部门"),
        ({"username": "lisi", "role": "viewer", "email": "not-an-address"}, "邮箱格式不正确"),
        ({"username": "lisi", "role": "boss"}, "请从列表中选择角色"),
        ({"username": "lisi", "role": "viewer", "department": "nowhere"}, "请从列表中选择部门"),
        ({"username": "root", "role": "viewer"}, "用户名已存在"),
        ({"username": "<script>x</script>", "role": "viewer", "display_name": "x" * 65},
         "不超过 64 个字符"),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post("/admin/users", data=data)
        assert response.status_code == 422, data
        page = response.get_data(as_text=True)
        assert message in page, data
        assert "<script>x</script>" not in page  # what was typed comes back escaped
        assert 'data-testid="one-time-password"' not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_reset_unlock_deactivate_and_activate_from_the_page(app, client, seeded, make_user, login):
    """The security administrator unlocks and resets; the system administrator deactivates
    and activates (三员分立)."""
    admin = make_user("admin")
    login(make_user("security_admin"))
    user = make_user("liaison", "mps", username="forgetful")
    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/login", data={"username": "forgetful", "password": "wrong-password"})
    page = client.get("/admin/users").get_data(as_text=True)
    assert "登录锁定至" in page and "解除锁定" in page

    response = client.post(f"/admin/users/{user.id}/unlock")
    assert response.status_code == 302
    assert db.session.get(LoginThrottle, ("pair", "127.0.0.1\nforgetful")) is None
    assert "登录锁定至" not in client.get("/admin/users").get_data(as_text=True)

    response = client.post(f"/admin/users/{user.id}/reset-password", data={"confirm": "1"})
    password = one_time_password(response.get_data(as_text=True))
    db.session.refresh(user)
    assert user.check_password(password) and not user.check_password(PASSWORD)

    login(admin)
    client.post(f"/admin/users/{user.id}/deactivate", data={"confirm": "1"})
    db.session.refresh(user)
    assert not user.active
    client.post(f"/admin/users/{user.id}/activate")
    db.session.refresh(user)
    assert user.active
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"user.unlock", "user.reset_password", "user.deactivate", "user.activate"} <= actions


def test_an_admin_can_neither_deactivate_themselves_nor_the_last_admin(
    client, seeded, make_user, login
):
    admin = make_user("admin")
    login(admin)
    response = client.post(
        f"/admin/users/{admin.id}/deactivate", data={"confirm": "1"}, follow_redirects=True
    )
    assert "不能停用自己的账号" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active
    from tracker.auth.services import UserError, deactivate_user

    try:
        deactivate_user(admin)  # from the command line: no actor, still the last admin
    except UserError as exc:
        assert "最后一个" in str(exc)
    else:
        raise AssertionError("the last admin was deactivated")
    db.session.rollback()
    other = make_user("admin")
    response = client.post(f"/admin/users/{other.id}/deactivate", data={"confirm": "1"})
    db.session.refresh(other)
    assert not other.active  # another admin remains: this one may go


def test_the_page_is_for_admins_and_unknown_accounts_are_404(client, seeded, make_user, login):
    login(make_user("coordinator", "mca"))
    assert client.get("/admin/users").status_code == 403
    login(make_user("admin"))
    assert "用户管理" in client.get("/tasks").get_data(as_text=True)  # in the navigation
    for action in ("reset-password", "unlock", "deactivate", "activate"):
        assert client.post(f"/admin/users/999999/{action}").status_code == 404, action


def test_deactivate_and_reset_ask_first_and_the_first_post_writes_nothing(
    client, seeded, make_user, login
):
    admin, security = make_user("admin"), make_user("security_admin")
    user = make_user("liaison", "mps", display_name="张三")

    def events() -> int:  # what the buttons write about the account (signing in has its own)
        writes = sa.select(sa.func.count()).where(AuditEvent.object_id == user.id)
        return db.session.scalar(writes.select_from(AuditEvent))

    before = events()
    for actor, action, says, button in [
        (admin, "deactivate", "其已登录的会话随即失效", "确认停用"),
        (security, "reset-password", "生成新的一次性密码", "确认重置密码"),
    ]:
        login(actor)
        response = client.post(f"/admin/users/{user.id}/{action}")
        assert response.status_code == 200, action
        page = response.get_data(as_text=True)
        assert says in page and button in page and "张三" in page
        assert 'name="confirm" value="1"' in page and 'href="/admin/users"' in page
        assert 'data-testid="one-time-password"' not in page
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.active and user.check_password(PASSWORD) and not user.must_change_password
    assert events() == before
