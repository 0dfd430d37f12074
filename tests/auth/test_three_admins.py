"""Three separated administrators (三员分立): system, security and audit administrators.

No account holds two of them, nobody changes their own role, the last active holder of each
stays, the auditor changes nothing, and ``flask user ensure-admin`` makes all three.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.auth import test_access_table as table
from tracker.audit.models import AuditEvent
from tracker.auth import permissions
from tracker.auth.cli import user_cli
from tracker.auth.models import DEPARTMENT_ROLES, User, UserRole
from tracker.auth.services import UserError, create_user, deactivate_user, edit_user
from tracker.extensions import db

PASSWORD = "Xx-12345678"
world = table.world  # the access table's users and objects, the auditor among them


def _count(role: UserRole) -> int:
    query = sa.select(sa.func.count()).where(User.role == role, User.active.is_(True))
    return db.session.scalar(query.select_from(User))


@pytest.mark.parametrize("role", list(UserRole), ids=lambda r: r.value)
def test_each_power_belongs_to_exactly_one_administrator(seeded, make_user, role):
    user = make_user(role.value, "mps" if role in DEPARTMENT_ROLES else None)
    assert permissions.can_manage_users(user) == (role == UserRole.ADMIN)
    assert permissions.can_manage_security(user) == (role == UserRole.SECURITY_ADMIN)
    assert permissions.can_reset_second_factor(user) == (role == UserRole.SECURITY_ADMIN)
    assert permissions.can_read_audit_trail(user) == (role == UserRole.AUDITOR)


def test_the_system_admin_makes_a_security_admin_only_while_there_is_none(
    client, seeded, make_user, login
):
    login(make_user("admin"))
    first = {"username": "sec1", "display_name": "安全一", "role": "security_admin",
             "department": ""}  # fmt: skip
    assert client.post("/admin/users", data=first).status_code == 200
    second = {**first, "username": "sec2"}
    response = client.post("/admin/users", data=second)
    assert response.status_code == 422
    assert "已有启用的安全管理员" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.username == "sec2")) is None
    # The command line on the server (no actor) may always make one, to replace a person.
    create_user("sec3", role="security_admin", password=PASSWORD)
    assert _count(UserRole.SECURITY_ADMIN) == 2


@pytest.mark.parametrize("role", ["admin", "security_admin", "auditor"])
def test_administrators_belong_to_no_department(seeded, role):
    from tracker.auth.services import resolve_department

    with pytest.raises(UserError, match="不属于任何部门"):
        create_user("x1", role=role, password=PASSWORD, department=resolve_department("mps"))


def test_nobody_changes_their_own_role_nor_moves_into_or_out_of_the_separate_roles(
    seeded, make_user
):
    admin, security, auditor = make_user("admin"), make_user("security_admin"), make_user("auditor")
    viewer, admin2 = make_user("viewer"), make_user("admin")
    for user in (admin, security, auditor):
        with pytest.raises(UserError, match="不能更改自己的角色"):
            edit_user(user, role="coordinator", actor=user)
    with pytest.raises(UserError, match="不能更改自己的角色"):
        edit_user(security, role="admin", actor=security)  # no self-grant
    for target, role in ((viewer, "auditor"), (viewer, "security_admin"), (auditor, "admin"),
                         (security, "viewer"), (admin2, "auditor")):  # fmt: skip
        with pytest.raises(UserError, match="建号时确定"):
            edit_user(target, role=role, actor=admin)
    db.session.rollback()
    assert [u.role for u in (admin, security, auditor, viewer)] == [
        UserRole.ADMIN, UserRole.SECURITY_ADMIN, UserRole.AUDITOR, UserRole.VIEWER
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["admin", "security_admin", "auditor"])
def test_the_last_active_holder_of_each_role_stays(seeded, make_user, role):
    admin = make_user("admin") if role != "admin" else None
    last = make_user(role)
    with pytest.raises(UserError, match="最后一个启用的"):
        deactivate_user(last, actor=admin)
    db.session.rollback()
    other = create_user(f"{role}-2", role=role, password=PASSWORD)
    deactivate_user(last, actor=admin)  # another remains: this one may go
    assert not last.active and other.active


def test_ensure_admin_creates_the_three_and_then_reports_them(app, seeded):
    runner = app.test_cli_runner()
    result = runner.invoke(user_cli, ["ensure-admin"])
    assert result.exit_code == 0, result.output
    assert result.output.count("一次性密码") == 3
    users = {u.username: u.role for u in db.session.scalars(sa.select(User))}
    assert users == {"admin": UserRole.ADMIN, "secadmin": UserRole.SECURITY_ADMIN,
                     "auditor": UserRole.AUDITOR}  # fmt: skip
    again = runner.invoke(user_cli, ["ensure-admin"])
    assert again.exit_code == 0 and "一次性密码" not in again.output
    assert "已有安全管理员账号" in again.output and "已有审计管理员账号" in again.output


def test_the_auditor_changes_nothing_every_post_route_is_refused(app, world):
    auditor = world["auditor"]
    c = table._signed_in(app, auditor)
    tried = 0
    for rule in table._rules(app):
        if "POST" not in rule.methods or table._token_only(rule):
            continue
        if table.ACCESS[rule.endpoint] in (table.PUBLIC, table.SIGNED_IN):
            continue  # one's own password, sessions, tokens and notifications
        response = c.post(table._url(app, rule, world["values"]), data={"confirm": "1"})
        assert response.status_code == 403, rule.endpoint
        tried += 1
    assert tried > 30
    db.session.expire_all()
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.actor_id == auditor.id)
    ).all()
    # Signing in, and (once recorded) the refusals themselves, are the only events.
    assert [a for a in actions if a != "user.login" and "refus" not in a and "403" not in a] == []


def test_the_system_admin_cannot_unlock_or_reset_and_the_security_admin_cannot_create(
    client, seeded, make_user, login
):
    target = make_user("viewer")
    login(make_user("admin"))
    assert (
        client.post(f"/admin/users/{target.id}/reset-password", data={"confirm": "1"}).status_code
        == 403
    )
    assert client.post(f"/admin/users/{target.id}/unlock").status_code == 403
    login(make_user("security_admin"))
    page = client.get("/admin/users")
    assert page.status_code == 200 and "新建账号" not in page.get_data(as_text=True)
    data = {"username": "new1", "display_name": "新人", "role": "viewer", "department": ""}
    assert client.post("/admin/users", data=data).status_code == 403
    assert client.get(f"/admin/users/{target.id}/edit").status_code == 403
    assert db.session.scalar(sa.select(User).where(User.username == "new1")) is None
