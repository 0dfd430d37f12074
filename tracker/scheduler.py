"""The one scheduler process: a lease in the database, APScheduler, and the jobs it is given.

``flask --app tracker scheduler`` runs :class:`SchedulerRunner` over the job table of
:mod:`tracker.jobs`; web workers never start one. Any number of scheduler processes may run:
only the holder of the lease (:mod:`tracker.lease`) runs jobs, and a standby takes over once the
holder stops renewing it. Even if two processes did run a job at once, the jobs themselves are
idempotent (unique keys on what they record, claimed outbox rows).

A :class:`Job` runs every N seconds or daily at a Beijing time. A process that gains the lease
runs, soon after, every job marked ``on_gain`` and every daily job whose time has already passed
today, so that neither a restart nor a holder that died just before 08:30 skips a day.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time
from types import FrameType
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from tracker import clock
from tracker.extensions import db
from tracker.lease import Lease, new_owner_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One scheduled job: a thin, idempotent function run in its own application context.

    Exactly one of ``every_seconds`` and ``daily_at`` is set; each is a callable of the app's
    config, so that the job table is written once and read when the scheduler is built.
    """

    id: str
    run: Callable[[], None]
    every_seconds: Callable[[dict[str, Any]], int] | None = None
    daily_at: Callable[[dict[str, Any]], time] | None = None
    on_gain: bool = False  # also run soon after this process gains the lease


class SchedulerRunner:
    """One scheduler process: its lease, its APScheduler, its jobs."""

    def __init__(self, app: Flask, jobs: Sequence[Job], owner: str | None = None):
        config = app.config
        self.app = app
        self.jobs = {job.id: job for job in jobs}
        self.lease = Lease(
            owner or new_owner_id(),
            seconds=int(config["TRACKER_SCHEDULER_LEASE_SECONDS"]),
            on_gain=self._catch_up,
        )
        self.heartbeat_seconds = int(config["TRACKER_SCHEDULER_HEARTBEAT_SECONDS"])
        self.scheduler: BaseScheduler | None = None
        # Taking the lease for a job and giving it up on stopping exclude each other, so a job
        # still queued when the process stops (the rest of an on-gain group) cannot take the
        # lease back after it was released.
        self._gate = threading.Lock()
        self._stopping = False

    # -- the jobs, each in its own application context --------------------------------------

    def run_job(self, job: Callable[[], None]) -> bool:
        """Run ``job`` if this process holds the lease; True when it ran to the end."""
        with self.app.app_context():
            try:
                with self._gate:
                    if self._stopping or not self.lease.acquire():
                        return False
                job()
                return True
            except Exception:
                logger.exception("scheduler job %s failed", getattr(job, "__name__", job))
                db.session.rollback()  # the job's own transaction; the next run starts clean
                return False
            finally:
                db.session.remove()

    def run(self, job_id: str) -> bool:
        """Run the job named ``job_id`` if this process holds the lease."""
        return self.run_job(self.jobs[job_id].run)

    def heartbeat(self) -> bool:
        """Renew the lease, or take it over once the holder stopped renewing it."""
        return self.run_job(lambda: None)

    def _missed_daily(self) -> list[Job]:
        """Daily jobs (not already run on gain) whose time has passed today."""
        now = clock.local_now().time()
        config = self.app.config
        return [
            job
            for job in self.jobs.values()
            if not job.on_gain and job.daily_at is not None and now >= job.daily_at(config)
        ]

    def _catch_up(self) -> None:
        """On gaining the lease: queue the ``on_gain`` jobs ("on-gain") and the daily jobs whose
        time has passed today ("catch-up"); all are idempotent, so running them again is safe."""
        if self.scheduler is None or not self.scheduler.running:
            return
        groups = {
            "on-gain": [job for job in self.jobs.values() if job.on_gain],
            "catch-up": self._missed_daily(),
        }
        for group_id, due in groups.items():
            if due:
                ids = [job.id for job in due]
                self.scheduler.add_job(
                    lambda ids=ids: [self.run(job_id) for job_id in ids],
                    id=group_id,
                    name=f"{group_id}: {', '.join(ids)}",
                    replace_existing=True,
                )

    # -- APScheduler ---------------------------------------------------------------------------

    def build(self, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
        """An APScheduler (Beijing time) with the heartbeat and every job of the table."""
        with self.app.app_context():
            zone = clock.zone()
        config = self.app.config
        scheduler = scheduler_class(
            timezone=zone, job_defaults={"coalesce": True, "max_instances": 1}
        )
        scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=self.heartbeat_seconds,
            id="lease",
            name="lease heartbeat",
            next_run_time=clock.utcnow(),
        )
        for job in self.jobs.values():
            run = _runner(self, job.id)
            if job.every_seconds is not None:
                seconds = job.every_seconds(config)
                scheduler.add_job(run, "interval", seconds=seconds, id=job.id, name=job.id)
            elif job.daily_at is not None:
                at = job.daily_at(config)
                trigger = CronTrigger(hour=at.hour, minute=at.minute, timezone=zone)
                scheduler.add_job(run, trigger, id=job.id, name=job.id, misfire_grace_time=3600)
        self.scheduler = scheduler
        return scheduler

    def run_forever(self) -> None:
        """Block running jobs until SIGTERM or SIGINT, then give the lease up."""
        scheduler = self.build(BlockingScheduler)

        def stop(signum: int, frame: FrameType | None) -> None:
            logger.info("scheduler %s stopping (signal %s)", self.lease.owner, signum)
            if scheduler.running:  # a second signal while stopping changes nothing
                scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        logger.info("scheduler %s starting", self.lease.owner)
        try:
            scheduler.start()
        finally:
            self.give_up()

    def give_up(self) -> None:
        """Stop taking the lease for jobs and release it, so a standby takes over at once."""
        with self._gate:
            self._stopping = True
            with self.app.app_context():
                self.lease.release()
                db.session.remove()


def _runner(runner: SchedulerRunner, job_id: str) -> Callable[[], bool]:
    """A named callable for APScheduler (its logs name the job)."""

    def run() -> bool:
        return runner.run(job_id)

    run.__name__ = f"job_{job_id}"
    return run


def parse_time(text: str) -> time:
    """``"08:30"`` → 08:30; a clear error for anything else."""
    try:
        hours, minutes = (int(part) for part in str(text).strip().split(":"))
        return time(hours, minutes)
    except ValueError:
        raise ValueError(f"TRACKER_REMIND_AT 应为 HH:MM，实际为 {text!r}") from None
