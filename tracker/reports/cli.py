"""``flask --app tracker open-periods``: create the obligations of every tracked period;
``flask --app tracker evidence check``: the upload folder against the evidence rows."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker import timetravel
from tracker.extensions import db
from tracker.reports import evidence, services
from tracker.reports.models import Evidence


@click.command("open-periods")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="按此日期判断（默认今天）")
@with_appcontext
def open_periods_command(today: datetime | None) -> None:
    """Open every tracked quarter up to today: one obligation per assignment (idempotent).

    The scheduler does this daily and when it starts; run it after ``seed`` or an import so
    that the reporting pages show the new items at once.
    """
    with timetravel.as_of(today):  # a future --today is refused outside test mode
        created = services.open_tracked_periods()
        db.session.commit()
    click.echo(f"已开放各报告期，新建填报任务 {created} 项。")


@click.group("evidence")
def evidence_cli() -> None:
    """佐证材料文件的检查。"""


@evidence_cli.command("check")
@click.option("--dry-run", is_flag=True, help="只报告，不删除孤立文件")
@click.option(
    "--grace-minutes", default=60, show_default=True, type=click.IntRange(min=0),
    help="比这更新的临时文件可能属于正在进行的上传，不算孤立",
)  # fmt: skip
@with_appcontext
def check_evidence_command(dry_run: bool, grace_minutes: int) -> None:
    """Find files no evidence row refers to (and delete them), and rows whose file is missing.

    Removed evidence (tombstones) keeps its file: it is referred to. Exits with status 1 when
    a file is missing, so that a monitoring job notices.
    """
    names = db.session.scalars(sa.select(Evidence.stored_name))
    result = evidence.check_files(names, remove=not dry_run, grace_seconds=grace_minutes * 60)
    for name in result.completed:
        click.echo(f"已补完改名（提交后进程中断）：{name}")
    for name in result.orphans:
        click.echo(f"{'已删除' if name in result.removed else '孤立文件'}：{name}")
    for name in result.young:
        click.echo(f"正在上传中的临时文件（未处理）：{name}")
    for name in result.missing:
        click.echo(f"缺少文件：{name}", err=True)
    click.echo(
        f"检查完毕：孤立文件 {len(result.orphans)} 个（已删除 {len(result.removed)} 个），"
        f"缺少文件 {len(result.missing)} 个。"
    )
    if result.missing:
        raise SystemExit(1)
