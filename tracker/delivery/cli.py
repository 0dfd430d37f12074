"""``flask delivery seed``: the worked example of a delivery plan from the seed file."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from tracker import resources
from tracker.delivery.seed import DeliverySeedError, apply_delivery_seed
from tracker.extensions import db

delivery_cli = AppGroup("delivery", help="落实计划 / delivery plans.")


@delivery_cli.command("seed")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="种子文件路径")
@with_appcontext
def seed_plans_command(path: str | None) -> None:
    """Write the seed file's example plans (item 23's ledger indicators), if missing."""
    seed_path = Path(path) if path else resources.seed_file()
    try:
        written = apply_delivery_seed(seed_path)
        db.session.commit()
    except DeliverySeedError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(f"错误：{problem}", err=True)
        raise click.ClickException("未写入任何计划") from None
    click.echo(f"写入示例落实计划 {written} 份。" if written else "示例落实计划已存在，无需更改。")
