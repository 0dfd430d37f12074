"""``flask --app tracker demo-data``, ``freeze-snapshots`` and ``snapshots unfreeze``."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from tracker import timetravel
from tracker.auth.queries import user_by_username
from tracker.dashboard import demo, services
from tracker.extensions import db
from tracker.periods import Period


@click.command("demo-data")
@click.option("--documents", default=200, show_default=True, help="合成文件数")
@click.option("--quarters", default=20, show_default=True, help="季度数（截至当前季度）")
@click.option("--items", default=30, show_default=True, help="每件文件的任务项数")
@click.option("--seed", default=2019, show_default=True, help="随机数种子（结果可重现）")
@click.option("--remove", is_flag=True, help="删除全部演示数据（只删演示数据，不动真实数据）")
@click.pass_context
@with_appcontext
def demo_data_command(
    ctx: click.Context, documents: int, quarters: int, items: int, seed: int, remove: bool
) -> None:
    """Fill the database with clearly marked synthetic documents, assignments and reports.

    Refuses a database that holds real reports. Closed quarters are frozen at the end.
    With --remove, deletes exactly the demo rows instead.
    """
    if remove:
        _refuse_options_with_remove(ctx)
        _remove_demo_data()
        return
    try:
        summary = demo.generate(documents, quarters, items=items, seed=seed, progress=click.echo)
        frozen = services.freeze_due_snapshots()
        db.session.commit()
    except demo.DemoDataError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    _analyse()  # before the summary, which stays the command's last line
    click.echo(
        f"已写入演示数据：{summary.documents} 件文件，{summary.tasks} 项任务，"
        f"{summary.obligations} 项季度义务，{summary.reports} 份报告，{summary.versions} 个版本；"
        f"落实计划 {summary.plans} 个（{summary.milestones} 个节点，{summary.indicators} 个指标；"
        f"报告中指标值 {summary.indicator_values} 个，节点状态 {summary.milestone_statuses} 个）；"
        f"季度 {_span(summary.periods)}，已封存快照 {len(frozen)} 个。"
    )


def _analyse() -> None:
    """``VACUUM ANALYZE`` on PostgreSQL after the bulk load, as autovacuum would in time:
    until then the planner guesses the new tables' sizes (at portfolio scale it scanned
    every quarter's obligations for a page's few items) and no index-only scan can skip the
    heap (the review queue's count read 12,000 rows of it); docs/performance.md. SQLite's
    planner needs no statistics for these queries (its plans were the same with them).
    VACUUM runs outside a transaction, on a connection of its own."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    click.echo("已整理数据库并更新统计信息（VACUUM ANALYZE）。")


def _refuse_options_with_remove(ctx: click.Context) -> None:
    given = [
        f"--{name}"
        for name in ("documents", "quarters", "items", "seed")
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    ]
    if given:
        raise click.UsageError(f"--remove 不能与 {'、'.join(given)} 同时使用：删除时不生成数据。")


def _remove_demo_data() -> None:
    summary = demo.remove()
    db.session.commit()
    if not summary.documents:
        click.echo("数据库中没有演示数据，无需删除。")
        return
    click.echo(
        f"已删除演示数据：{summary.documents} 件文件，{summary.tasks} 项任务，"
        f"{summary.obligations} 项季度义务，{summary.reports} 份报告（连同其版本和提醒）。"
    )
    if summary.snapshots:
        refrozen = "、".join(summary.refrozen or []) or "无"
        click.echo(
            f"删除了含演示数据的季度快照 {'、'.join(summary.snapshots)}；"
            f"按真实数据重新封存：{refrozen}。"
        )


@click.command("freeze-snapshots")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="按此日期判断（默认今天）")
@with_appcontext
def freeze_snapshots_command(today: datetime | None) -> None:
    """Freeze the snapshot of every closed quarter that has none yet (idempotent).

    ``--today`` after the real date is refused outside test mode, and no quarter whose grace
    period has not passed by the clock is frozen, whatever ``--today`` says.
    """
    with timetravel.clock_follows(today) as day:
        frozen = services.freeze_due_snapshots(day)
        db.session.commit()
    keys = ", ".join(sorted(frozen)) or "无"
    click.echo(f"已封存快照的季度：{keys}")


snapshots_cli = AppGroup("snapshots", help="季度快照：解除错误的封存。")


@snapshots_cli.command("unfreeze")
@click.argument("period")
@click.option(
    "--admin", "admin_name", required=True, help="执行操作的系统管理员用户名（记入审计日志）"
)
def unfreeze_command(period: str, admin_name: str) -> None:
    """Undo a wrong freeze of PERIOD (e.g. 2026Q4): its snapshot is deleted, audited.

    The scheduler freezes the quarter again once its grace period has passed.
    """
    try:
        key = Period.parse(period)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    admin = user_by_username(admin_name)
    if admin is None:
        raise click.ClickException(f"用户 {admin_name} 不存在。未做任何修改。")
    try:
        services.unfreeze_snapshot(key, actor=admin)
    except services.UnfreezeRefused as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.message}未做任何修改。") from None
    db.session.commit()
    click.echo(
        f"已解除 {key.key} 的封存（审计记录 dashboard.unfreeze）；宽限期过后调度进程将重新封存。"
    )


def _span(periods: list[str] | None) -> str:
    """``2022Q1–2026Q4``, the quarters a run wrote (none when it wrote nothing)."""
    return f"{periods[0]}–{periods[-1]}" if periods else "无"
