"""The scheduler's job table and ``flask --app tracker scheduler``.

This module sits at the top of the package graph, beside :func:`tracker.create_app`: it is the
one place that knows every domain's jobs, so that the scheduler itself (:mod:`tracker.scheduler`,
core) imports no domain. Every job is thin and idempotent and commits its own work.

Pages never do this work: a GET request only reads (periods are opened and quarters frozen here
and by the ``open-periods`` / ``freeze-snapshots`` commands).
"""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.auth.tasks import purge_sessions_job
from tracker.dashboard.tasks import freeze_snapshots_job
from tracker.exports.tasks import export_jobs_job
from tracker.federation.tasks import push_job
from tracker.notifications.tasks import digest_job, mail_job
from tracker.reminders.tasks import reminder_job
from tracker.reports.tasks import open_periods_job
from tracker.scheduler import Job, SchedulerRunner, parse_time

JOBS: tuple[Job, ...] = (
    # Periods first: the reminder pass and the snapshots read the obligations they create.
    Job("open-periods", open_periods_job, daily_at=lambda c: parse_time("00:05"), on_gain=True),
    Job("snapshots", freeze_snapshots_job, daily_at=lambda c: parse_time("00:10"), on_gain=True),
    Job("mail", mail_job, every_seconds=lambda c: int(c["TRACKER_MAIL_INTERVAL_SECONDS"])),
    Job("reminders", reminder_job, daily_at=lambda c: parse_time(c["TRACKER_REMIND_AT"])),
    # On gain too: the digest itself knows whether yesterday's is still owed (after downtime).
    Job(
        "digest",
        digest_job,
        daily_at=lambda c: parse_time(c["TRACKER_DIGEST_AT"]),
        on_gain=True,
    ),
    Job("sessions", purge_sessions_job, daily_at=lambda c: parse_time("23:30")),
    # Big workbooks queued by pages (tracker.exports.background); on gain too, so that a job a
    # scheduler lost is picked up by the one that takes over.
    Job(
        "exports",
        export_jobs_job,
        every_seconds=lambda c: int(c["TRACKER_EXPORT_POLL_SECONDS"]),
        on_gain=True,
    ),
    # Roll-ups on their way to the level above (tracker.federation.outbox): as often as mail.
    Job("push", push_job, every_seconds=lambda c: int(c["TRACKER_MAIL_INTERVAL_SECONDS"])),
)


def runner(app: Flask, owner: str | None = None) -> SchedulerRunner:
    """A scheduler runner over the whole job table."""
    return SchedulerRunner(app, JOBS, owner=owner)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the scheduler (periods, snapshots, reminders, digests, mail each minute) until stopped.

    Start as many as you like: one holds the lease in the database and runs the jobs; the
    others wait and take over when it stops renewing the lease.
    """
    logging.getLogger().setLevel(logging.INFO)  # JSON lines on stderr (tracker.logs)
    # current_app is a proxy: Flask types it as the app it stands for, not as the proxy.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner(app).run_forever()
