"""Directory sign-on against a real OpenLDAP server: accounts made and kept up to date from the
directory, refusals in words, local break-glass accounts untouched, a directory that is down."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from tests import ldapserver
from tests.conftest import PASSWORD
from tracker.audit.models import AuditEvent
from tracker.auth.models import User, UserRole
from tracker.extensions import db

pytestmark = pytest.mark.skipif(
    not ldapserver.available() and not os.environ.get("CI"),
    reason="slapd is not installed here (.ci/run installs it; under CI this never skips)",
)


@pytest.fixture(scope="module")
def directory(tmp_path_factory):
    with ldapserver.Directory(tmp_path_factory.mktemp("ldap")) as running:
        yield running


@pytest.fixture
def ldap_on(app, directory, monkeypatch, seeded):
    for name, value in directory.config().items():
        monkeypatch.setitem(app.config, name, value)
    return directory


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def _user(username):
    return db.session.scalar(sa.select(User).where(User.username == username))


def test_a_directory_sign_in_makes_the_account_with_its_role_and_department(client, ldap_on):
    response = _login(client, "zhangsan", ldapserver.PASSWORDS["zhangsan"])
    assert response.status_code == 302, response.get_data(as_text=True)
    user = _user("zhangsan")
    assert user.directory_dn == ldapserver.person("zhangsan")
    assert user.role == UserRole.LIAISON and user.department.code == "mps"
    assert (user.display_name, user.email, user.phone) == ("张三", "zhangsan@mps.example",
                                                           "010-66261234")  # fmt: skip
    assert not user.check_password(ldapserver.PASSWORDS["zhangsan"])  # kept by the directory only
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user.directory_create")
    ).one()
    assert event.after["department"] == "mps" and event.after["role"] == "liaison"
    assert client.get("/reports").status_code == 200  # signed in as the liaison
    # Its password is changed in the directory, not here.
    assert client.get("/password").status_code == 409


def test_a_wrong_password_or_an_unknown_name_is_refused_like_any_other(client, ldap_on):
    for username, password in (("zhangsan", "wrong"), ("nobody", "x")):
        response = _login(client, username, password)
        assert response.status_code == 200
        assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert _login(client, "zhangsan", "").status_code == 200  # the form asks for a password
    assert _user("zhangsan") is None and _user("nobody") is None
    # An empty password is never tried on the directory (it would be an anonymous bind).
    from tracker.auth import directory

    with client.application.test_request_context():
        assert directory.authenticate("zhangsan", "") is None


def test_someone_the_directory_grants_nothing_is_told_why(client, ldap_on):
    response = _login(client, "wangwu", ldapserver.PASSWORDS["wangwu"])
    assert "不属于本系统的任何角色组" in response.get_data(as_text=True)
    assert _user("wangwu") is None


def test_each_sign_in_brings_the_account_up_to_date_and_ends_its_old_sessions(
    client, ldap_on, app, monkeypatch
):
    assert _login(client, "zhangsan", ldapserver.PASSWORDS["zhangsan"]).status_code == 302
    # The directory moves 张三 to the coordinators (same groups, new map).
    moved = ldap_on.config()["TRACKER_LDAP_GROUPS"].replace(
        '"role": "liaison"', '"role": "coordinator"'
    )
    monkeypatch.setitem(app.config, "TRACKER_LDAP_GROUPS", moved)
    other = app.test_client()
    assert _login(other, "zhangsan", ldapserver.PASSWORDS["zhangsan"]).status_code == 302
    db.session.expire_all()
    assert _user("zhangsan").role == UserRole.COORDINATOR
    sync = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user.directory_sync")
    ).one()
    assert sync.before["role"] == "liaison" and sync.after["role"] == "coordinator"
    assert client.get("/reports").status_code == 302  # the first browser's session ended


def test_a_local_account_signs_in_with_its_own_password_whatever_the_directory_says(
    client, ldap_on, make_user
):
    local = make_user("admin", username="admin")  # the break-glass administrator
    assert _login(client, "admin", ldapserver.PASSWORDS["admin"]).status_code == 200  # not it
    assert _login(client, "admin", PASSWORD).status_code == 302
    db.session.expire_all()
    assert _user("admin").directory_dn is None and _user("admin").id == local.id


def test_a_directory_that_is_down_is_said_so_and_local_accounts_still_work(
    client, app, monkeypatch, seeded, make_user
):
    monkeypatch.setitem(app.config, "TRACKER_LDAP_URL", "ldap://127.0.0.1:1")  # nothing there
    monkeypatch.setitem(app.config, "TRACKER_LDAP_TIMEOUT_SECONDS", 1)
    response = _login(client, "zhangsan", "whatever")
    assert "目录服务暂时无法连接" in response.get_data(as_text=True)
    local = make_user("admin")
    assert _login(client, local.username, PASSWORD).status_code == 302


def test_the_group_map_is_checked_when_the_app_starts(monkeypatch):
    from tracker.config import read_settings

    monkeypatch.setenv("TRACKER_LDAP_GROUPS", '{"cn=x": {"role": "admin"}}')
    with pytest.raises(Exception, match="三个管理员角色只用本地账号"):
        read_settings()
    monkeypatch.setenv("TRACKER_LDAP_GROUPS", "not json")
    with pytest.raises(Exception, match="须为 JSON 对象"):
        read_settings()
