"""``flask --app tracker open-periods``: create the obligations of every tracked period."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from tracker import timetravel
from tracker.extensions import db
from tracker.reports import services


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
