"""The one scheduler process: a lease in the database, APScheduler, the jobs of ``tasks.py``.

``flask --app tracker scheduler`` runs :class:`SchedulerRunner`; web workers never start one.
Any number of scheduler processes may be started; they share one row of ``scheduler_lease``:

* the holder renews it every ``TRACKER_SCHEDULER_HEARTBEAT_SECONDS`` (and before every job);
* the lease expires ``TRACKER_SCHEDULER_LEASE_SECONDS`` after the last renewal, so a process
  that died or hung loses it, and a standby process takes it over on its next heartbeat;
* every job first renews the lease and is skipped by a process that does not hold it.

Taking the lease over is one conditional ``UPDATE`` (… ``WHERE owner = me OR expires_at < now``)
or, the very first time, an ``INSERT … ON CONFLICT DO NOTHING``: the database decides, on
SQLite and PostgreSQL alike. Even if two processes did run a job at once, the jobs themselves
are idempotent (unique keys on the reminder log, claimed outbox rows).

Jobs: the reminder pass daily at ``TRACKER_REMIND_AT`` (Beijing time), the mail sender every
``TRACKER_MAIL_INTERVAL_SECONDS``. A process that gains the lease after the day's pass time
runs the pass at once, so a day is not skipped because the holder died just before the pass.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import uuid
from collections.abc import Callable
from datetime import time, timedelta

import sqlalchemy as sa
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite

from tracker import clock
from tracker.extensions import db
from tracker.reminders import tasks
from tracker.reminders.models import SchedulerLease

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


def new_owner_id() -> str:
    """Who a process is, in the lease row: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """A renewable, expiring claim on one named row of ``scheduler_lease``.

    Every call commits: a lease must be visible to the other processes at once.
    """

    def __init__(
        self,
        owner: str,
        *,
        seconds: int = 90,
        name: str = LEASE_NAME,
        on_gain: Callable[[], None] | None = None,
    ):
        self.owner, self.name, self.seconds = owner, name, seconds
        self.on_gain = on_gain
        self.held = False

    def acquire(self) -> bool:
        """Take or renew the lease; True while we hold it. Logs when that changes."""
        now = clock.utcnow()
        expires = now + timedelta(seconds=self.seconds)
        lease = SchedulerLease.__table__
        result = db.session.execute(
            sa.update(lease)
            .where(
                lease.c.name == self.name,
                sa.or_(lease.c.owner == self.owner, lease.c.expires_at < now),
            )
            .values(
                owner=self.owner,
                heartbeat_at=now,
                expires_at=expires,
                acquired_at=sa.case((lease.c.owner == self.owner, lease.c.acquired_at), else_=now),
            )
        )
        held = result.rowcount == 1 or self._insert(now, expires)
        db.session.commit()
        gained, self.held = held and not self.held, held
        if gained:
            logger.info("scheduler %s holds the lease", self.owner)
            if self.on_gain is not None:
                self.on_gain()
        return held

    def _insert(self, now, expires) -> bool:
        dialect = db.session.get_bind().dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
        statement = (
            insert(SchedulerLease)
            .values(
                name=self.name,
                owner=self.owner,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=expires,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)
        )
        return db.session.scalar(statement) is not None

    def release(self) -> None:
        """Give the lease up (on a clean shutdown), so a standby takes over at once."""
        db.session.execute(
            sa.delete(SchedulerLease.__table__).where(
                SchedulerLease.name == self.name, SchedulerLease.owner == self.owner
            )
        )
        db.session.commit()
        self.held = False


def lease_holder(name: str = LEASE_NAME) -> SchedulerLease | None:
    """The lease row as it stands (for pages and tests)."""
    return db.session.get(SchedulerLease, name, populate_existing=True)


class SchedulerRunner:
    """One scheduler process: its lease, its APScheduler, its jobs."""

    def __init__(self, app: Flask, owner: str | None = None):
        config = app.config
        self.app = app
        self.lease = Lease(
            owner or new_owner_id(),
            seconds=int(config.get("TRACKER_SCHEDULER_LEASE_SECONDS", 90)),
            on_gain=self._catch_up,
        )
        self.heartbeat_seconds = int(config.get("TRACKER_SCHEDULER_HEARTBEAT_SECONDS", 20))
        self.mail_seconds = int(config.get("TRACKER_MAIL_INTERVAL_SECONDS", 60))
        self.remind_at = parse_time(config.get("TRACKER_REMIND_AT", "08:30"))
        self.scheduler: BaseScheduler | None = None

    # -- the jobs, each in its own application context --------------------------------------

    def run_job(self, job: Callable[[], None]) -> bool:
        """Run ``job`` if this process holds the lease; True when it ran to the end."""
        with self.app.app_context():
            try:
                if not self.lease.acquire():
                    return False
                job()
                return True
            except Exception:
                logger.exception("scheduler job %s failed", getattr(job, "__name__", job))
                db.session.rollback()
                return False
            finally:
                db.session.remove()

    def reminders(self) -> bool:
        """The daily reminder pass (then the mail it wrote), if this process holds the lease."""
        return self.run_job(tasks.reminder_job)

    def mail(self) -> bool:
        """The mail sender, if this process holds the lease."""
        return self.run_job(tasks.mail_job)

    def heartbeat(self) -> bool:
        """Renew the lease, or take it over once the holder stopped renewing it."""
        return self.run_job(lambda: None)

    def _catch_up(self) -> None:
        """On gaining the lease after today's pass time, run the (idempotent) pass soon."""
        if clock.local_now().time() < self.remind_at:
            return
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.add_job(self.reminders, id="catch-up", replace_existing=True)

    # -- APScheduler ---------------------------------------------------------------------------

    def build(self, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
        """An APScheduler (Beijing time) with the heartbeat, mail and daily-pass jobs."""
        with self.app.app_context():
            zone = clock.zone()
        scheduler = scheduler_class(
            timezone=zone, job_defaults={"coalesce": True, "max_instances": 1}
        )
        scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=self.heartbeat_seconds,
            id="lease",
            next_run_time=clock.utcnow(),
        )
        scheduler.add_job(self.mail, "interval", seconds=self.mail_seconds, id="mail")
        scheduler.add_job(
            self.reminders,
            CronTrigger(hour=self.remind_at.hour, minute=self.remind_at.minute, timezone=zone),
            id="reminders",
            misfire_grace_time=3600,
        )
        self.scheduler = scheduler
        return scheduler

    def run_forever(self) -> None:
        """Block running jobs until SIGTERM or SIGINT, then give the lease up."""
        scheduler = self.build(BlockingScheduler)

        def stop(signum, frame):
            logger.info("scheduler %s stopping (signal %s)", self.lease.owner, signum)
            if scheduler.running:  # a second signal while stopping changes nothing
                scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("scheduler %s starting", self.lease.owner)
        try:
            scheduler.start()
        finally:
            with self.app.app_context():
                self.lease.release()
                db.session.remove()


def parse_time(text: str) -> time:
    """``"08:30"`` → 08:30; a clear error for anything else."""
    try:
        hours, minutes = (int(part) for part in str(text).strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"TRACKER_REMIND_AT 应为 HH:MM，实际为 {text!r}") from None
