"""Scheduler jobs of the cascade: thin and idempotent (see :mod:`tracker.jobs`)."""

from __future__ import annotations

import logging

from tracker.federation import outbox

logger = logging.getLogger(__name__)


def push_job() -> None:
    """Every so often: send the roll-ups that are due up to the level above."""
    report = outbox.deliver_pending()
    if report.attempted:
        logger.info(
            "push: %d delivered, %d to retry, %d refused, %d gave up",
            report.delivered, report.retrying, report.refused, report.gave_up,
        )  # fmt: skip
