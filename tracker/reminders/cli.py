"""``flask --app tracker remind | send-mail | scheduler``.

``remind`` runs one reminder pass (for cron, and for tests) and then the mail sender;
``send-mail`` only delivers the outbox; ``scheduler`` is the long-running process that does both
on a schedule (see :mod:`tracker.reminders.scheduler`). ``remind`` commits once, after the pass;
the sender commits per message (see :mod:`tracker.reminders.outbox`).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import datetime, time

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker import clock
from tracker.extensions import db
from tracker.reminders import outbox, services
from tracker.reminders.scheduler import SchedulerRunner


@click.command("remind")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="按指定日期（北京时间 09:00）运行，如 2024-10-11；默认今天",
)
@click.option("--no-mail", is_flag=True, help="只写入通知和发件箱，不发送邮件")
@with_appcontext
def remind_command(today: datetime | None, no_mail: bool):
    """Run one reminder pass: the ladder's reminders due today, each sent once, ever."""
    moment = datetime.combine(today.date(), time(9), tzinfo=clock.zone()) if today else None
    with clock.frozen(moment) if moment else nullcontext():
        result = services.run_reminder_pass()
        db.session.commit()
        if not result.working_day:
            click.echo(f"{result.day} 不是工作日，未发送提醒。")
        else:
            click.echo(f"{result.day}：新提醒 {result.notifications} 条，邮件 {result.emails} 封。")
        if not no_mail:
            _echo_delivery(outbox.deliver_pending())


@click.command("send-mail")
@with_appcontext
def send_mail_command():
    """Deliver the outbox messages that are due (a scheduler job every minute)."""
    _echo_delivery(outbox.deliver_pending())


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler (daily reminder pass, mail every minute) until stopped.

    Start as many as you like: one holds the lease in the database and runs the jobs; the
    others wait and take over when it stops renewing the lease.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    SchedulerRunner(current_app._get_current_object()).run_forever()


def _echo_delivery(report: outbox.DeliveryReport) -> None:
    if not report.configured:
        click.echo("未配置邮件服务器（TRACKER_SMTP_HOST），邮件保留在发件箱中。")
        return
    click.echo(
        f"邮件：发送 {report.sent} 封，待重试 {report.retrying} 封，"
        f"失败 {report.failed} 封，放弃 {report.gave_up} 封。"
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)
