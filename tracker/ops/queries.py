"""Readiness checks and the database's figures for metrics. Reads only.

Each readiness check answers ``ok`` and, when not, a short reason safe to show anyone: no
URLs, host names, error texts or revision names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from prometheus_client.core import GaugeMetricFamily, Metric

from tracker import clock
from tracker.extensions import db
from tracker.lease import lease_holder
from tracker.notifications import queries as notification_queries
from tracker.notifications.models import OutboxStatus


@dataclass(frozen=True)
class Check:
    """One readiness check's answer."""

    ok: bool
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail} if self.detail else {"ok": self.ok}


def readiness() -> dict[str, Check]:
    """Database reachable, migrations at head, scheduler lease fresh, outbox not stuck."""
    database = database_check()
    if not database.ok:
        skipped = Check(False, "数据库不可用，未检查")
        return {"database": database, "migrations": skipped, "scheduler": skipped,
                "outbox": skipped}  # fmt: skip
    return {
        "database": database,
        "migrations": migrations_check(),
        "scheduler": scheduler_check(),
        "outbox": outbox_check(),
    }


def database_check() -> Check:
    """``SELECT 1`` on a connection of its own, so a failure cannot spoil the request's."""
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return Check(False, "数据库无法连接")
    return Check(True)


def migrations_check() -> Check:
    """The database's Alembic revision is the head of the shipped migrations."""
    directory = current_app.extensions["migrate"].directory
    heads = set(ScriptDirectory(directory).get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError:
        return Check(False, "无法读取数据库结构版本")
    if current == heads:
        return Check(True)
    if not current:
        return Check(False, "数据库尚未迁移（flask db upgrade）")
    return Check(False, "数据库结构不是最新版本（flask db upgrade）")


def scheduler_check() -> Check:
    """Some scheduler process holds an unexpired lease (it renews it every heartbeat)."""
    lease = lease_holder()
    if lease is None:
        return Check(False, "调度进程未运行（无租约）")
    if lease.expires_at < clock.utcnow():
        return Check(False, "调度租约已过期：调度进程停止或挂起")
    return Check(True)


def outbox_check() -> Check:
    """No e-mail has waited past its due time for ``TRACKER_OUTBOX_STUCK_SECONDS``."""
    if not (current_app.config["TRACKER_SMTP_HOST"] or "").strip():
        return Check(True, "未配置发信服务器，邮件保留在发件箱")
    seconds = int(current_app.config["TRACKER_OUTBOX_STUCK_SECONDS"])
    stuck = notification_queries.overdue_outbox_count(clock.utcnow() - timedelta(seconds=seconds))
    if stuck:
        return Check(False, f"{stuck} 封邮件逾期未发送")
    return Check(True)


def outbox_metrics() -> Iterable[Metric]:
    """Outbox depth by state (sent ones excluded) and the age of the oldest unsent message."""
    depth = GaugeMetricFamily(
        "tracker_outbox_messages", "E-mails in the outbox by state (sent excluded).",
        labels=["status"],
    )  # fmt: skip
    for status, count in notification_queries.outbox_counts().items():
        if status != OutboxStatus.SENT:
            depth.add_metric([status.value], count)
    oldest = notification_queries.oldest_unsent_at()
    age = (clock.utcnow() - oldest).total_seconds() if oldest else 0.0
    yield depth
    yield GaugeMetricFamily(
        "tracker_outbox_oldest_unsent_age_seconds",
        "Age of the oldest e-mail not yet sent (pending or sending); 0 when none.",
        value=max(age, 0.0),
    )
