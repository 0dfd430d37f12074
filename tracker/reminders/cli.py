"""``flask --app tracker remind``: one reminder pass (for cron, and for tests), then the mail.

The pass commits as it goes, in chunks (see :mod:`tracker.reminders.services`); the sender
commits per message (see :mod:`tracker.notifications.outbox`). The long-running ``scheduler``
is in :mod:`tracker.jobs`.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from tracker import timetravel
from tracker.extensions import db
from tracker.notifications import outbox
from tracker.notifications.cli import echo_delivery
from tracker.reminders import services


@click.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="按指定日期（北京时间 09:00）补跑，如 2024-10-11；默认今天，不得晚于今天",
)
@click.option("--no-mail", is_flag=True, help="只写入通知和发件箱，不发送邮件")
@with_appcontext
def remind_command(today: datetime | None, no_mail: bool) -> None:
    """Run one reminder pass: the ladder's reminders due today, each sent once, ever."""
    with timetravel.as_of(today):  # a future --today is refused outside test mode
        result = services.run_reminder_pass()
        db.session.commit()
        if not result.working_day:
            click.echo(f"{result.day} 不是工作日，未发送提醒。")
        else:
            click.echo(
                f"{result.day}：新提醒 {result.reminders} 条，"
                f"合为通知 {result.notifications} 条，邮件 {result.emails} 封。"
            )
        if not no_mail:
            echo_delivery(outbox.deliver_pending())
