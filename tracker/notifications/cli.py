"""``flask --app tracker send-mail``: deliver the outbox messages that are due."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.notifications import outbox


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Deliver the outbox messages that are due (a scheduler job every minute)."""
    echo_delivery(outbox.deliver_pending())


def echo_delivery(report: outbox.DeliveryReport) -> None:
    """Print what a delivery run did, in Chinese, for the operator."""
    if not report.configured:
        click.echo("未配置邮件服务器（TRACKER_SMTP_HOST），邮件保留在发件箱中。")
        return
    click.echo(
        f"邮件：发送 {report.sent} 封，待重试 {report.retrying} 封，"
        f"失败 {report.failed} 封，放弃 {report.gave_up} 封。"
    )
    for error in report.errors:
        click.echo(f"  {error}", err=True)
