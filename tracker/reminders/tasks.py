"""Scheduler jobs: thin, idempotent, each run by :mod:`tracker.reminders.scheduler` in its own
application context and only by the process holding the scheduler lease.
"""

from __future__ import annotations

import logging

from tracker.extensions import db
from tracker.reminders import outbox, services

logger = logging.getLogger(__name__)


def reminder_job() -> None:
    """Daily: today's reminder pass, committed, then the e-mail it wrote."""
    result = services.run_reminder_pass()
    db.session.commit()
    logger.info(
        "reminder pass %s: %d notifications, %d e-mails%s",
        result.day,
        result.notifications,
        result.emails,
        "" if result.working_day else " (not a working day)",
    )
    mail_job()


def mail_job() -> None:
    """Every minute: deliver the outbox messages that are due."""
    report = outbox.deliver_pending()
    if report.attempted:
        logger.info(
            "mail: %d sent, %d to retry, %d failed, %d gave up",
            report.sent,
            report.retrying,
            report.failed,
            report.gave_up,
        )
