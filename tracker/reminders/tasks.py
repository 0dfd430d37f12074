"""Scheduler jobs of the reminders domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.extensions import db
from tracker.notifications.tasks import mail_job
from tracker.reminders import services

logger = logging.getLogger(__name__)


def reminder_job() -> None:
    """Daily: today's reminder pass (committed in chunks as it goes), then the e-mail it wrote."""
    result = services.run_reminder_pass()
    db.session.commit()
    logger.info(
        "reminder pass %s: %d reminders in %d notifications, %d e-mails%s",
        result.day,
        result.reminders,
        result.notifications,
        result.emails,
        "" if result.working_day else " (not a working day)",
    )
    mail_job()
