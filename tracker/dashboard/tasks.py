"""Scheduler jobs of the dashboard domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.dashboard import services
from tracker.extensions import db

logger = logging.getLogger(__name__)


def freeze_snapshots_job() -> None:
    """Daily and at start-up: freeze every closed quarter that has no snapshot yet."""
    frozen = services.freeze_due_snapshots()
    db.session.commit()
    if frozen:
        logger.info("froze dashboard snapshots: %s", ", ".join(sorted(frozen)))
