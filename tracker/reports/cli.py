"""``flask --app tracker open-periods``: create the obligations of every tracked period;
``flask --app tracker evidence check``: the upload folder against the evidence rows;
``evidence encrypt`` and ``evidence rotate-key``: the files' encryption at rest."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker import timetravel
from tracker.extensions import db
from tracker.reports import evidence, services, vault
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
    """佐证材料文件的检查和加密。"""


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


@evidence_cli.command("encrypt")
@with_appcontext
def encrypt_evidence_command() -> None:
    """Seal, under the current key, the files stored before encryption (idempotent)."""
    ring = vault.keyring()
    sealed = _reseal(ring, ring.current, only_plain=True)
    click.echo(f"已加密 {sealed} 个未加密的证明材料文件。")


@evidence_cli.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-encrypt every evidence file under a new key, then retire the old keys.

    With the key file: a new key is added first, every file is sealed again under it (each
    file replaced atomically: a crash leaves every file readable with the keys on file), and
    the old keys are removed at the end. With ``TRACKER_EVIDENCE_KEY``: put the new key first
    in the variable (the old ones after it), restart, run this, then drop the old ones.
    """
    ring = vault.keyring()
    if ring.from_environment:
        key = ring.current
        click.echo("密钥来自 TRACKER_EVIDENCE_KEY：全部文件改用其中的第一个密钥加密。")
    else:
        key = vault.new_key()
        path = vault.key_file()
        vault.write_key_file(path, [key, *ring.keys])
        ring = vault.keyring()
    sealed = _reseal(ring, key, only_plain=False)
    if not ring.from_environment:
        vault.write_key_file(vault.key_file(), [key])
        click.echo("旧密钥已从密钥文件中删除：请立即备份新的密钥文件（见 docs/operations.md）。")
    else:
        click.echo("现在可以从 TRACKER_EVIDENCE_KEY 中删除旧密钥。")
    click.echo(f"已用新密钥重新加密 {sealed} 个证明材料文件。")


def _reseal(ring: vault.Keyring, key: vault.Key, *, only_plain: bool) -> int:
    """Seal every stored evidence file under ``key``; how many were written."""
    sealed = 0
    for name in db.session.scalars(sa.select(Evidence.stored_name).order_by(Evidence.id)):
        path = evidence.path_of(name)
        if not path.is_file() or (only_plain and vault.is_sealed(path)):
            continue
        sealed += vault.reseal(path, ring, key)
    return sealed
