"""Scheduler jobs of the auth domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.auth import sessions
from tracker.extensions import db

logger = logging.getLogger(__name__)


def purge_sessions_job() -> None:
    """Daily: delete sessions closed longer than ``TRACKER_SESSION_KEEP_DAYS`` ago."""
    deleted = sessions.purge_closed()
    db.session.commit()
    if deleted:
        logger.info("deleted %d closed sign-in sessions", deleted)
