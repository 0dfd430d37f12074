"""Scheduler jobs of the notifications domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.extensions import db
from tracker.notifications import outbox, services

logger = logging.getLogger(__name__)


def mail_job() -> None:
    """Every minute: deliver the outbox messages that are due (each claimed, then committed)."""
    report = outbox.deliver_pending()
    if report.attempted:
        logger.info(
            "mail: %d sent, %d to retry, %d failed, %d gave up",
            report.sent,
            report.retrying,
            report.failed,
            report.gave_up,
        )


def digest_job() -> None:
    """Daily at TRACKER_DIGEST_AT, and on gaining the lease: the digests due, then the mail."""
    result = services.send_digests()
    db.session.commit()
    if result.digests:
        logger.info(
            "digest %s: %d mails, %d notifications",
            result.day,
            result.digests,
            result.notifications,
        )
    mail_job()
