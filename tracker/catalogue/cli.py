"""``flask --app tracker seed``: load the task division from ``tasks_seed.yaml``;
``flask department …``: list, create, edit, deactivate and reactivate departments."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tracker import resources
from tracker.auth.services import active_department_accounts, deactivate_department_accounts
from tracker.catalogue.models import Department
from tracker.catalogue.queries import department_by_code, departments
from tracker.catalogue.seedfile import SeedFileError, read_seed_file
from tracker.catalogue.services import (
    CatalogueError,
    DepartmentInput,
    activate_department,
    apply_seed,
    check_deactivation,
    create_department,
    deactivate_department,
    edit_department,
)
from tracker.errors import DomainError
from tracker.extensions import db


def default_seed_path() -> Path:
    """``TRACKER_SEED_FILE`` when set, else the seed file shipped with the product."""
    configured = current_app.config["TRACKER_SEED_FILE"]
    if configured:
        return Path(configured)
    return resources.seed_file()


@click.command("seed")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="种子文件路径")
@with_appcontext
def seed_command(path: str | None) -> None:
    """Load departments, the document and its tasks from the seed file (idempotent)."""
    seed_path = Path(path) if path else default_seed_path()
    try:
        catalogue = read_seed_file(seed_path)
        summary = apply_seed(catalogue)
        db.session.commit()
    except (SeedFileError, CatalogueError) as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(f"错误：{problem}", err=True)
        count = len(exc.problems)
        raise click.ClickException(f"{seed_path}：未写入任何数据（{count} 个问题）") from None
    if not summary.changed:
        click.echo(f"{seed_path}：数据库已是最新，无需更改。")
        return
    for bucket, label in (("created", "新增"), ("updated", "更新"), ("deleted", "删除")):
        counts = getattr(summary, bucket)
        if counts:
            click.echo(label + "：" + "，".join(f"{k} {v}" for k, v in sorted(counts.items())))


department_cli = AppGroup("department", help="管理部门 / manage departments.")


def _department(code: str) -> Department:
    department = department_by_code(code.strip())
    if department is None:
        raise click.ClickException(f"没有代码为「{code}」的部门（flask department list 可查看）")
    return department


def _fail(exc: DomainError) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(exc.message) from None


@department_cli.command("list")
def list_command() -> None:
    """Every department in list order: code, name, short name, aliases, state."""
    for d in departments():
        state = "启用" if d.active else "已停用"
        aliases = "、".join(d.aliases or []) or "-"
        click.echo(f"{d.code}\t{d.name}\t{d.short_name}\t{aliases}\t{d.position}\t{state}")


@department_cli.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--short-name", default="", help="简称（默认与全称相同）")
@click.option("--alias", "aliases", multiple=True, help="别称，可重复给出")
@click.option("--position", type=int, help="排序号（默认排在最后）")
def create_command(
    code: str, name: str, short_name: str, aliases: tuple[str, ...], position: int | None
) -> None:
    """Create an active department (audited)."""
    data = DepartmentInput(name, short_name, list(aliases), position)
    try:
        department = create_department(code, data)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"已新建部门 {department.code}：{department.name}（简称 {department.short_name}）")


@department_cli.command("edit")
@click.argument("code")
@click.option("--name", help="新的全称（旧全称自动保留为别称）")
@click.option("--short-name", help="简称")
@click.option("--alias", "aliases", multiple=True, help="别称，可重复给出；给出即替换全部别称")
@click.option("--no-aliases", is_flag=True, help="删除全部别称（改名时旧全称仍会保留）")
@click.option("--position", type=int, help="排序号")
def edit_command(
    code: str,
    name: str | None,
    short_name: str | None,
    aliases: tuple[str, ...],
    no_aliases: bool,
    position: int | None,
) -> None:
    """Rename a department or change its short name, aliases or place; options not given stay."""
    department = _department(code)
    kept = [] if no_aliases else list(aliases) if aliases else list(department.aliases or [])
    data = DepartmentInput(
        name if name is not None else department.name,
        short_name if short_name is not None else department.short_name,
        kept,
        position,
    )
    try:
        changed = edit_department(department, data)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    if changed:
        short = department.short_name
        click.echo(f"已修改部门 {department.code}：{department.name}（简称 {short}）")
    else:
        click.echo(f"部门 {department.code} 没有变化，未做修改。")


@department_cli.command("deactivate")
@click.argument("code")
@click.option("--yes", is_flag=True, help="不再询问，直接停用")
def deactivate_command(code: str, yes: bool) -> None:
    """Deactivate a department without open obligations, and its active accounts with it."""
    department = _department(code)
    try:
        check_deactivation(department)
    except DomainError as exc:
        _fail(exc)
    accounts = active_department_accounts(department)
    if accounts:
        names = "、".join(u.username for u in accounts)
        click.echo(f"将同时停用它的 {len(accounts)} 个启用中的账号：{names}")
    if not yes:
        click.confirm(f"确认停用部门「{department.name}」？", abort=True)
    try:
        deactivate_department(department)
        count = deactivate_department_accounts(department)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"已停用部门 {department.code}：{department.name}（停用账号 {count} 个）")


@department_cli.command("activate")
@click.argument("code")
def activate_command(code: str) -> None:
    """Reactivate a department (its accounts stay as they are)."""
    department = _department(code)
    try:
        activate_department(department)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"已重新启用部门 {department.code}：{department.name}")
