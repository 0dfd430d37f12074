"""``flask counties import --file counties.csv``: the instance's county list from a file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from tracker.counties.services import import_counties
from tracker.counties.sheets import FileRefused, read_county_file
from tracker.extensions import db

counties_cli = AppGroup("counties", help="县名单与县级台账 / counties and the county ledger.")


@counties_cli.command("import")
@click.option("--file", "path", required=True, type=click.Path(dir_okay=False, exists=True),
              help="县名单文件（.csv 或 .xlsx：区划代码、名称、地市）")  # fmt: skip
@with_appcontext
def import_command(path: str) -> None:
    """Add or update the counties of a file (by code); idempotent, all or nothing."""
    try:
        rows = read_county_file(path, Path(path).read_bytes())
        added, changed, unchanged = import_counties(rows, actor=None)
        db.session.commit()
    except FileRefused as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(f"错误：{problem}", err=True)
        raise click.ClickException("未导入任何县") from None
    click.echo(f"县名单已导入：新增 {added} 个，更新 {changed} 个，未变 {unchanged} 个。")
