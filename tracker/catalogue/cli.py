"""``flask --app tracker seed``: load the task division from ``tasks_seed.yaml``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import resources
from tracker.catalogue.seedfile import SeedFileError, read_seed_file
from tracker.catalogue.services import CatalogueError, apply_seed
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
