"""Sending the push outbox up to the level above, after the transaction that wrote it.

Imitates the e-mail outbox (tracker.notifications.outbox): each roll-up is *claimed*
(``sending`` with a lease) and committed before the request, and the outcome committed right
after, so that a second sender or a crash never makes the database forget what the centre
was told. A crash between the centre's answer and our commit sends the roll-up again once
its claim lapses; the centre answers the same body with its original receipt
(``duplicate: true``), so delivery is exactly once where it counts: at the centre.

Outcomes: 200/201 → ``delivered`` with the receipt; a refused or dropped connection, a
time-out, 5xx, 429 or 401 (a clock out of the replay window, a token not yet registered) →
``pending`` again after an exponential back-off (``TRACKER_MAIL_RETRY_SECONDS`` ×
2^(attempts-1), at most ``TRACKER_MAIL_RETRY_MAX_SECONDS``) until
``TRACKER_MAIL_MAX_ATTEMPTS`` → ``gave_up``; any other 4xx (400, 403, 409) → ``refused``:
sending the same bytes again cannot succeed.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock, instance
from tracker.db import rows_changed
from tracker.extensions import db
from tracker.federation import queries, wire
from tracker.federation.models import PushMessage, PushStatus
from tracker.notifications.outbox import backoff

logger = logging.getLogger(__name__)

ROLLUPS_PATH = "/api/v1/federation/rollups"
TIMEOUT_SECONDS = 30
RETRY_STATUSES = frozenset({401, 408, 425, 429})


@dataclass
class PushReport:
    """What one run of the sender did."""

    configured: bool = True
    delivered: int = 0
    retrying: int = 0
    refused: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.refused + self.gave_up


class Temporary(Exception):
    """Try again later."""


class Permanent(Exception):
    """The centre refused this roll-up for good."""


def deliver_pending(limit: int = 50) -> PushReport:
    """Send the roll-ups that are due now; commits per roll-up. Call it with no
    uncommitted work in the session: the claims commit."""
    config = current_app.config
    url, token = instance.current().upstream_url, config["TRACKER_UPSTREAM_TOKEN"]
    if not url or not token:
        return PushReport(configured=False)
    report = PushReport()
    for push_id in queries.due_push_ids(clock.utcnow(), limit):
        push = _claim(push_id)
        if push is None:
            continue
        try:
            receipt = send(url, token, push.body.encode("utf-8"))
        except (Temporary, Permanent) as exc:
            _record(push, exc, None, report)
            if isinstance(exc, Temporary):
                # the centre is unreachable: the rest keep their turn for the next run
                break
        else:
            _record(push, None, receipt, report)
    return report


def send(url: str, token: str, body: bytes) -> dict[str, Any]:
    """POST one signed roll-up; the receipt, or ``Temporary`` / ``Permanent``."""
    headers = wire.signed_headers(token, instance.current().code, body, time.time())
    request = urllib.request.Request(  # noqa: S310 - the configured upstream, http(s) only
        url + ROLLUPS_PATH, data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")[:500]
        if exc.code >= 500 or exc.code in RETRY_STATUSES:
            raise Temporary(f"HTTP {exc.code}: {text}") from exc
        raise Permanent(f"HTTP {exc.code}: {text}") from exc
    except (OSError, ValueError) as exc:
        raise Temporary(f"{type(exc).__name__}: {exc}") from exc
    return dict(wire.Receipt.model_validate(answer).model_dump(mode="json"))


def _claim(push_id: int) -> PushMessage | None:
    now = clock.utcnow()
    lease = int(current_app.config["TRACKER_SCHEDULER_LEASE_SECONDS"])
    result = db.session.execute(
        sa.update(PushMessage)
        .where(
            PushMessage.id == push_id,
            sa.or_(
                sa.and_(
                    PushMessage.status == PushStatus.PENDING, PushMessage.next_attempt_at <= now
                ),
                sa.and_(PushMessage.status == PushStatus.SENDING, PushMessage.locked_until < now),
            ),
        )
        .values(
            status=PushStatus.SENDING,
            locked_until=now + timedelta(seconds=max(lease, 3 * TIMEOUT_SECONDS)),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if rows_changed(result) != 1:
        return None
    return db.session.get(PushMessage, push_id, populate_existing=True)


def _record(
    push: PushMessage,
    failure: Exception | None,
    receipt: dict[str, Any] | None,
    report: PushReport,
) -> None:
    now = clock.utcnow()
    push.attempts += 1
    push.locked_until = None
    if failure is None:
        push.status, push.delivered_at, push.receipt = PushStatus.DELIVERED, now, receipt
        push.last_error = None
        report.delivered += 1
    else:
        push.last_error = str(failure)[:2000]
        report.errors.append(f"#{push.id} {push.period} r{push.revision}: {failure}")
        logger.warning("push #%s: %s", push.id, failure)
        if isinstance(failure, Permanent):
            push.status = PushStatus.REFUSED
            report.refused += 1
        elif push.attempts >= int(current_app.config["TRACKER_MAIL_MAX_ATTEMPTS"]):
            push.status = PushStatus.GAVE_UP
            report.gave_up += 1
        else:
            push.status = PushStatus.PENDING
            push.next_attempt_at = now + backoff(push.attempts)
            report.retrying += 1
    db.session.commit()


def pull_export(number: str) -> bytes:
    """The level above's export of document ``number``, fetched with the instance token."""
    import urllib.parse

    url, token = instance.current().upstream_url, current_app.config["TRACKER_UPSTREAM_TOKEN"]
    if not url or not token:
        raise Temporary("未配置 TRACKER_UPSTREAM_URL 或 TRACKER_UPSTREAM_TOKEN。")
    target = f"{url}/api/v1/federation/documents/{urllib.parse.quote(number, safe='')}"
    request = urllib.request.Request(  # noqa: S310 - the configured upstream, http(s) only
        target,
        headers={"Authorization": f"Bearer {token}", "X-Tracker-Instance": instance.current().code},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        raise Temporary(
            f"上级实例答复 HTTP {exc.code}：{exc.read().decode('utf-8', 'replace')[:300]}"
        ) from exc
    except OSError as exc:
        raise Temporary(f"无法连接上级实例：{exc}") from exc
