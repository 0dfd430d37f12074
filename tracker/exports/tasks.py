"""Scheduler jobs of the exports domain: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.exports import background

logger = logging.getLogger(__name__)


def export_jobs_job() -> None:
    """Every TRACKER_EXPORT_POLL_SECONDS: write the queued exports, expire old files."""
    result = background.run_pending()
    if result.written or result.failed or result.requeued or result.expired:
        logger.info(
            "exports: %d written, %d failed, %d requeued, %d files expired",
            result.written,
            result.failed,
            result.requeued,
            result.expired,
        )
