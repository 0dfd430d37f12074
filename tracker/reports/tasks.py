"""Scheduler jobs of the reports domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.extensions import db
from tracker.reports import services

logger = logging.getLogger(__name__)


def open_periods_job() -> None:
    """Daily and at start-up: give every tracked period its obligations (a no-op when done)."""
    created = services.open_tracked_periods()
    db.session.commit()
    if created:
        logger.info("opened reporting periods: %d obligations created", created)
