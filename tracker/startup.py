"""``flask --app tracker prepare``: everything a start needs, in one process.

``scripts/run.sh`` used to run ``db upgrade``, ``seed``, ``open-periods`` and
``user ensure-admin`` one after the other; each was a Python process of its own, and on a
busy two-core server each start costs seconds. This runs the same commands, with the same
output and the same refusals, in one process. Each step is idempotent, so a restart with
nothing to do changes nothing.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade

from tracker.auth.cli import ensure_admin_command
from tracker.catalogue.cli import seed_command
from tracker.reports.cli import open_periods_command


@click.command("prepare")
@click.option("--admin", default="admin", show_default=True, help="首个管理员的用户名")
@click.pass_context
@with_appcontext
def prepare_command(ctx: click.Context, admin: str) -> None:
    """Migrate the database, load the seed file, open the periods, ensure the three
    administrators (system, security, audit)."""
    upgrade()
    ctx.invoke(seed_command)
    ctx.invoke(open_periods_command)
    ctx.invoke(ensure_admin_command, username=admin)
