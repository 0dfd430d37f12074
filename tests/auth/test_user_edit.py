"""Editing an account: name, e-mail, phone, role, department; on the web and with the CLI."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.auth import services
from tracker.auth.models import User, UserRole
from tracker.auth.services import UserError, edit_user, resolve_department
from tracker.extensions import db


def edits_of(user: User) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "user.edit", AuditEvent.object_id == user.id
            )
        )
    )


def reloaded(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# -- the service ------------------------------------------------------------------------------


def test_edit_changes_the_account_and_audits_before_and_after(seeded, make_user):
    admin = make_user("admin")
    user = make_user("viewer", display_name="旧名")
    changed = edit_user(
        user, display_name=" 王五 ", email="wang@example.org", phone="010-58123456",
        role="liaison", department=resolve_department("mps"), actor=admin,
    )  # fmt: skip
    db.session.commit()
    assert changed
    user = reloaded(user)
    assert (user.display_name, user.email, user.phone) == ("王五", "wang@example.org",
                                                           "010-58123456")  # fmt: skip
    assert user.role == UserRole.LIAISON and user.department.code == "mps"
    [event] = edits_of(user)
    assert event.actor_id == admin.id
    assert event.before["display_name"] == "旧名" and event.before["role"] == "viewer"
    assert event.before["department"] is None and event.before["phone"] is None
    assert event.after["phone"] == "010-58123456" and event.after["department"] == "mps"


def test_an_edit_that_changes_nothing_records_nothing(seeded, make_user):
    user = make_user("viewer", display_name="张三")
    assert not edit_user(user, display_name="张三")
    db.session.commit()
    assert edits_of(user) == []


@pytest.mark.parametrize(
    "phone",
    ["12", "abc-123456", "010--58123456", "-0105812345", "+86 10 58123456",
     "1" * 21, "010-5812345６"],
)  # fmt: skip
def test_a_malformed_phone_is_refused_beside_its_field(seeded, make_user, phone):
    user = make_user("viewer")
    with pytest.raises(UserError) as refused:
        edit_user(user, phone=phone)
    assert refused.value.field == "phone" and "联系电话" in refused.value.message


@pytest.mark.parametrize("phone", ["010-58123456", "+86-10-58123456", "13800000000"])
def test_work_phones_as_people_write_them_are_kept(seeded, make_user, phone):
    user = make_user("viewer")
    edit_user(user, phone=phone)
    assert user.phone == phone


def test_a_liaison_keeps_a_department(seeded, make_user):
    liaison = make_user("liaison", "mps")
    with pytest.raises(UserError, match="联络员必须属于一个部门"):
        edit_user(liaison, department=None)
    viewer = make_user("viewer")
    with pytest.raises(UserError, match="联络员必须属于一个部门"):
        edit_user(viewer, role="liaison")


def test_no_admin_demotes_themself_or_the_last_admin(seeded, make_user):
    only = make_user("admin")
    with pytest.raises(UserError, match="最后一个启用的系统管理员"):
        edit_user(only, role="coordinator")
    other = make_user("admin")
    with pytest.raises(UserError, match="不能更改自己的角色"):
        edit_user(other, role="viewer", actor=other)
    edit_user(other, role="viewer", actor=only)  # another admin may, while one stays
    assert other.role == UserRole.VIEWER


def test_an_unknown_role_is_refused(seeded, make_user):
    user = make_user("viewer")
    with pytest.raises(UserError, match="未知角色"):
        edit_user(user, role="boss")


# -- the page ---------------------------------------------------------------------------------


def test_the_admin_edits_an_account_on_the_web(client, seeded, make_user, login):
    admin = make_user("admin")
    user = make_user("viewer", display_name="旧名")
    login(admin)
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "旧名" in page and "联系电话" in page
    response = client.post(
        f"/admin/users/{user.id}/edit",
        data={"display_name": "李四", "email": "li@example.org", "phone": "010-66012345",
              "role": "liaison", "department": "mps"},
    )  # fmt: skip
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    user = reloaded(user)
    assert (user.display_name, user.phone, user.department.code) == ("李四", "010-66012345",
                                                                     "mps")  # fmt: skip
    [event] = edits_of(user)
    assert event.actor_id == admin.id
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "010-66012345" in listing


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"display_name": "", "role": "viewer"}, "请填写姓名"),
        ({"display_name": "李四", "role": "viewer", "phone": "电话"}, "联系电话只能含数字"),
        ({"display_name": "李四", "role": "viewer", "email": "nope"}, "邮箱格式不正确"),
        ({"display_name": "李四", "role": "liaison", "department": ""}, "联络员必须属于一个部门"),
        ({"display_name": "李四", "role": "boss"}, "请从列表中选择角色"),
        ({"display_name": "李四", "role": "viewer", "department": "nowhere"}, "请从列表中选择部门"),
    ],
)
def test_refused_input_is_shown_beside_its_field_and_changes_nothing(
    client, seeded, make_user, login, data, message
):
    login(make_user("admin"))
    user = make_user("viewer", display_name="原名")
    response = client.post(f"/admin/users/{user.id}/edit", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "autofocus" in page
    user = reloaded(user)
    assert user.display_name == "原名" and user.role == UserRole.VIEWER and user.phone is None
    assert edits_of(user) == []


def test_the_last_admin_is_refused_on_the_web_and_stays_admin(client, seeded, make_user, login):
    admin = make_user("admin")
    login(admin)
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data={"display_name": "管理员", "role": "viewer", "department": ""},
    )
    assert response.status_code == 422
    assert "不能更改自己的角色" in response.get_data(as_text=True)
    assert reloaded(admin).role == UserRole.ADMIN
    assert edits_of(admin) == []


@pytest.mark.parametrize("who", [("liaison", "mps"), ("coordinator", "mca"), ("viewer", None)])
def test_only_administrators_edit_accounts(client, seeded, make_user, login, who):
    target = make_user("viewer", display_name="原名")
    login(make_user(*who))
    assert client.get(f"/admin/users/{target.id}/edit").status_code == 403
    response = client.post(
        f"/admin/users/{target.id}/edit", data={"display_name": "改名", "role": "viewer"}
    )
    assert response.status_code == 403
    assert reloaded(target).display_name == "原名"


# -- the command ------------------------------------------------------------------------------


def test_user_edit_command_changes_only_what_it_names(runner, seeded, make_user):
    user = make_user("liaison", "mps", display_name="张三", email="zhang@example.org")
    result = runner.invoke(
        args=["user", "edit", user.username, "--phone", "010-58123456", "--department", "人社部"]
    )
    assert result.exit_code == 0, result.output
    assert "已修改" in result.output
    user = reloaded(user)
    assert user.phone == "010-58123456" and user.department.code == "mohrss"
    assert user.display_name == "张三" and user.email == "zhang@example.org"
    [event] = edits_of(user)
    assert event.actor_id is None and event.before["department"] == "mps"


def test_user_edit_command_refuses_and_changes_nothing(runner, seeded, make_user):
    user = make_user("liaison", "mps")
    for args, message in [
        (["--department", ""], "联络员必须属于一个部门"),
        (["--phone", "phone"], "联系电话"),
        (["--department", "外交部"], "未知部门"),
    ]:
        result = runner.invoke(args=["user", "edit", user.username, *args])
        assert result.exit_code != 0 and message in result.output, result.output
    user = reloaded(user)
    assert user.department.code == "mps" and user.phone is None
    assert edits_of(user) == []
    result = runner.invoke(args=["user", "edit", "nobody", "--phone", "010-1234567"])
    assert result.exit_code != 0 and "没有这个用户" in result.output


def test_the_snapshot_names_contact_details(seeded, make_user):
    user = make_user("viewer", email="a@example.org")
    assert services.user_snapshot(user)["email"] == "a@example.org"
