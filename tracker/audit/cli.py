"""``flask audit verify``, ``flask audit archive --before DATE --output FILE`` and
``flask audit verify-archive FILE``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask.cli import AppGroup

from tracker.audit import archive as archiving
from tracker.audit import chain
from tracker.extensions import db

audit_cli = AppGroup(
    "audit", help="审计记录：校验审计链、归档 / verify and archive the audit trail."
)


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the audit chain; exit 1 naming the first altered or missing row."""
    result = chain.verify(db.session())
    db.session.rollback()
    if result.first_break is not None:
        found = result.first_break
        click.echo(f"审计链校验未通过：{archiving.describe(found)}。", err=True)
        click.echo(
            f"FAILED at row id {found.row_id} (position {found.seq}): {found.reason}", err=True
        )
        raise SystemExit(1)
    click.echo(f"审计链完整：{result.rows} 条记录校验通过。 / OK: {result.rows} rows")


@audit_cli.command("archive")
@click.option(
    "--before", "before", required=True, help="归档早于该日（北京时间）的记录，如 2026-01-01"
)
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False), help="归档文件（不得已存在）"
)
def archive_command(before: str, output: str) -> None:
    """Move the rows older than --before (and older than the retention) to a signed file."""
    try:
        day = date.fromisoformat(before)
    except ValueError:
        raise click.BadParameter(
            f"应为 YYYY-MM-DD，实际为 {before!r}", param_hint="--before"
        ) from None
    try:
        done = archiving.archive(db.session(), day, Path(output))
    except archiving.ArchiveError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"已归档 {done.rows} 条记录（第 {done.first_seq}–{done.last_seq} 条）到 {output}。")


@audit_cli.command("verify-archive")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_archive_command(path: str) -> None:
    """Check an archive file's signature and chain; exit 1 saying what is wrong."""
    try:
        done = archiving.verify_archive(Path(path), chain.keyring())
    except archiving.ArchiveInvalid as exc:
        click.echo(f"归档文件校验未通过：{exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"归档文件完整：{done.rows} 条记录（第 {done.first_seq}–{done.last_seq} 条）。")
