"""``flask --app tracker user …``: create, list and deactivate accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from tracker.auth import second_factor
from tracker.auth.models import User, UserRole
from tracker.auth.queries import locked_usernames, user_by_username, users_ordered
from tracker.auth.services import (
    KEEP,
    Keep,
    UserError,
    activate_user,
    create_user,
    deactivate_user,
    edit_user,
    generate_password,
    reset_password,
    resolve_department,
    unlock_username,
)
from tracker.catalogue.models import Department
from tracker.db import to_local
from tracker.errors import Invalid
from tracker.extensions import db

user_cli = AppGroup("user", help="管理用户账号 / manage user accounts.")


@user_cli.command("create")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in UserRole]), help="账号角色"
)
@click.option("--department", help="部门名称或代码（联络员必填）")
@click.option("--display-name", help="显示名称")
@click.option("--email", help="接收提醒的邮箱")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码，否则生成一次性密码")
def create_command(
    username: str,
    role: str,
    department: str | None,
    display_name: str | None,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create an account. Without --password-stdin a one-time password is printed."""
    try:
        dept = resolve_department(department) if department else None
        if password_stdin:
            password, one_time = sys.stdin.readline().rstrip("\r\n"), False
        else:
            password, one_time = generate_password(), True
        user = create_user(
            username,
            role=role,
            password=password,
            department=dept,
            display_name=display_name,
            email=email,
            must_change_password=one_time,
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"已创建用户 {user.username}（{user.role.label}）")
    if one_time:
        click.echo(f"一次性密码 / one-time password: {password}")
        click.echo("首次登录后须修改密码。")


@user_cli.command("edit")
@click.argument("username")
@click.option("--display-name", help="姓名")
@click.option("--email", help="邮箱（写空字符串即删除）")
@click.option("--phone", help="联系电话（写空字符串即删除）")
@click.option("--role", type=click.Choice([r.value for r in UserRole]), help="账号角色")
@click.option("--department", help="部门名称或代码（写空字符串即不属于部门）")
def edit_command(
    username: str,
    display_name: str | None,
    email: str | None,
    phone: str | None,
    role: str | None,
    department: str | None,
) -> None:
    """Change an account's name, e-mail, phone, role or department; options not given stay."""
    user = _existing(username)
    try:
        dept: Department | Keep | None = KEEP
        if department is not None:
            dept = resolve_department(department) if department.strip() else None
        changed = edit_user(
            user,
            display_name=KEEP if display_name is None else display_name,
            email=KEEP if email is None else email,
            phone=KEEP if phone is None else phone,
            role=KEEP if role is None else role,
            department=dept,
        )
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if changed:
        click.echo(f"已修改用户 {user.username}")
    else:
        click.echo(f"用户 {user.username} 没有变化，未做修改。")


@user_cli.command("list")
def list_command() -> None:
    """List every account, and whether it is locked after failed sign-ins."""
    locked = locked_usernames()
    for user in db.session.scalars(users_ordered()):
        department = user.department.name if user.department else "-"
        state = "启用" if user.active else "停用"
        if user.username in locked:
            state += f"（登录锁定至 {to_local(locked[user.username]):%Y-%m-%d %H:%M}）"
        click.echo(f"{user.username}\t{user.role.value}\t{department}\t{state}")


@user_cli.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Lift the sign-in lock that repeated failed sign-ins put on a username.

    A username without a lock is already where the command would put it: said, not an error.
    """
    if not unlock_username(username):
        click.echo(f"{username} 没有被锁定，也没有失败的登录记录，无需解锁。")
        return
    db.session.commit()
    click.echo(f"已解除 {username.strip()} 的登录锁定")


@user_cli.command("deactivate")
@click.argument("username")
def deactivate_command(username: str) -> None:
    """Deactivate an account; its open sessions end on their next request."""
    user = _existing(username)
    try:
        deactivate_user(user)
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"已停用用户 {user.username}")


@user_cli.command("activate")
@click.argument("username")
def activate_command(username: str) -> None:
    """Let a deactivated account sign in again."""
    user = _existing(username)
    activate_user(user)
    db.session.commit()
    click.echo(f"已启用用户 {user.username}")


@user_cli.command("reset-password")
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Give an account a new one-time password (for a forgotten one); ends its sessions."""
    user = _existing(username)
    password = reset_password(user)
    db.session.commit()
    click.echo(f"已重置用户 {user.username} 的密码，原有登录会话已失效。")
    click.echo(f"一次性密码 / one-time password: {password}")
    click.echo("首次登录后须修改密码。")


@user_cli.command("reset-second-factor")
@click.argument("username")
def reset_second_factor_command(username: str) -> None:
    """Remove an account's second factor (a lost phone); ends its sessions. Its role may
    require it to enrol a new one at its next sign-in."""
    user = _existing(username)
    try:
        second_factor.reset(user, actor=None)
    except Invalid as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"已重置用户 {user.username} 的双因素认证，原有登录会话已失效。")


def _existing(username: str) -> User:
    user = user_by_username(username)
    if user is None:
        raise click.ClickException(f"没有这个用户：{username}")
    return user


@user_cli.command("ensure-admin")
@click.option("--username", default="admin", show_default=True, help="系统管理员的用户名")
@click.option("--security-username", default="secadmin", show_default=True, help="安全管理员")
@click.option("--auditor-username", default="auditor", show_default=True, help="审计管理员")
def ensure_admin_command(username: str, security_username: str, auditor_username: str) -> None:
    """Create each of the three separated administrators (三员分立) that has no active
    account, printing its one-time password; report the ones that exist."""
    for role, name in (
        (UserRole.ADMIN, username),
        (UserRole.SECURITY_ADMIN, security_username),
        (UserRole.AUDITOR, auditor_username),
    ):
        _ensure_administrator(role, name)


def _ensure_administrator(role: UserRole, username: str) -> None:
    from tracker.auth.queries import active_users

    if db.session.scalars(active_users(role=role)).first() is not None:
        noun = "管理员" if role == UserRole.ADMIN else role.label
        click.echo(f"已有{noun}账号，未新建。")
        return
    password = generate_password()
    try:
        create_user(
            username,
            role=role.value,
            password=password,
            display_name=role.label,
            must_change_password=True,
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    click.echo(f"首个{role.label}账号 / first {role.value}: {username}")
    click.echo(f"一次性密码 / one-time password: {password}")
    click.echo("请立即登录并修改密码 / sign in and change it now.")
