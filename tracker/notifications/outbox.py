"""Delivering the e-mail outbox over SMTP, after the transaction that wrote it has committed.

This module owns its transactions, like a CLI command: each message is *claimed* (status
``sending`` with a short lease) and committed before the SMTP conversation, and its outcome is
committed right after it, so that neither a second sender nor a crash can make the database
forget what the mail server was told. A crash between the server's "250 OK" and our commit
means the message is sent again once its claim lapses: delivery is at least once, and the
``Message-ID`` is stable so that mail clients can drop the duplicate.

A claim lasts as long as the scheduler lease (``TRACKER_SCHEDULER_LEASE_SECONDS``), but never
less than three SMTP time-outs (one message's conversation: the envelope, the data and its
reply): a scheduler that died mid-send leaves its claims to the scheduler that takes the lease
over, when that one takes it, rather than minutes later.

Outcomes:

* accepted → ``sent``;
* a 4xx reply, a refused or dropped connection, a time-out, a failed TLS or login → temporary:
  ``pending`` again, next attempt after an exponential back-off
  (``TRACKER_MAIL_RETRY_SECONDS`` × 2^(attempts-1), at most ``TRACKER_MAIL_RETRY_MAX_SECONDS``),
  until ``TRACKER_MAIL_MAX_ATTEMPTS`` attempts → ``gave_up``;
* a 5xx reply to the message itself (sender, recipient, data) → permanent: ``failed``.

The error text is kept in ``last_error`` in every case; admins see it and may retry. Without
``TRACKER_SMTP_HOST`` nothing is sent and messages wait, visible, in the outbox.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.db import rows_changed
from tracker.extensions import db
from tracker.notifications import queries
from tracker.notifications.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

SENDER_NAME = "任务分工落实跟踪系统"


def claim_seconds() -> int:
    """How long a claimed message stays ours: see the module's docstring."""
    config = current_app.config
    return max(
        int(config["TRACKER_SCHEDULER_LEASE_SECONDS"]), 3 * int(config["TRACKER_SMTP_TIMEOUT"])
    )


class TemporaryFailure(Exception):
    """Try again later. ``connection`` when the server itself could not be used."""

    def __init__(self, text: str, *, connection: bool = False):
        super().__init__(text)
        self.connection = connection


class PermanentFailure(Exception):
    """The server refused this message for good."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send, from ``TRACKER_SMTP_*`` and ``TRACKER_MAIL_FROM``."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    use_ssl: bool = False
    timeout: int = 30
    sender: str = "tracker@localhost"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings | None:
        host = (config["TRACKER_SMTP_HOST"] or "").strip()
        if not host:
            return None
        return cls(
            host=host,
            port=int(config["TRACKER_SMTP_PORT"]),
            user=config["TRACKER_SMTP_USER"] or None,
            password=config["TRACKER_SMTP_PASSWORD"] or None,
            starttls=bool(config["TRACKER_SMTP_STARTTLS"]),
            use_ssl=bool(config["TRACKER_SMTP_SSL"]),
            timeout=int(config["TRACKER_SMTP_TIMEOUT"]),
            sender=config["TRACKER_MAIL_FROM"],
        )


@dataclass
class DeliveryReport:
    """What one run of the sender did."""

    configured: bool = True
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed + self.gave_up


def deliver_pending(limit: int = 100) -> DeliveryReport:
    """Send the messages that are due now; commits per message (see the module doc).

    Call it with no uncommitted work in the session: the claims commit.
    """
    settings = SmtpSettings.from_config(current_app.config)
    if settings is None:
        return DeliveryReport(configured=False)
    report = DeliveryReport()
    ids = queries.due_outbox_ids(clock.utcnow(), limit)
    if not ids:
        return report
    try:
        connection = _connect(settings)
    except TemporaryFailure as exc:
        # The server is unreachable: every due message has been attempted and waits again.
        for message_id in ids:
            message = _claim(message_id)
            if message is not None:
                _record(message, exc, report)
        return report
    try:
        for message_id in ids:
            message = _claim(message_id)
            if message is None:
                continue  # another sender has it
            try:
                connection.send_message(
                    _email(message, settings),
                    from_addr=settings.sender,
                    to_addrs=[message.to_address],
                )
            except Exception as exc:
                failure = classify(exc)
                _record(message, failure, report)
                if isinstance(failure, TemporaryFailure) and failure.connection:
                    break  # the rest stay pending, untouched, for the next run
            else:
                _record(message, None, report)
    finally:
        _quit(connection)
    return report


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    connection: smtplib.SMTP
    try:
        if settings.use_ssl:
            connection = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        connection.ehlo()
        if settings.starttls:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if settings.user:
            connection.login(settings.user, settings.password or "")
        return connection
    except Exception as exc:
        # Failing to connect, greet, secure or log in is the server's (or the configuration's)
        # problem, never the message's: always temporary.
        failure = classify(exc)
        raise TemporaryFailure(str(failure), connection=True) from exc


def classify(exc: Exception) -> TemporaryFailure | PermanentFailure:
    """Sort an SMTP or network error into temporary (retry) and permanent (stop)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return _by_code(code, text)
    if isinstance(exc, smtplib.SMTPResponseException):
        failure = _by_code(exc.smtp_code, exc.smtp_error)
        if isinstance(failure, TemporaryFailure) and isinstance(
            exc, smtplib.SMTPConnectError | smtplib.SMTPHeloError
        ):
            failure.connection = True
        return failure
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return TemporaryFailure(f"{type(exc).__name__}: {exc}", connection=True)
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")


def _by_code(code: int, text: str | bytes) -> TemporaryFailure | PermanentFailure:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    detail = f"{code} {text}".strip()
    if 500 <= code < 600:
        return PermanentFailure(detail)
    return TemporaryFailure(detail, connection=code == 421)


def _claim(message_id: int) -> OutboxMessage | None:
    """Mark a due message as being sent by us (committed); None if someone else has it."""
    now = clock.utcnow()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            sa.or_(
                sa.and_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                ),
                sa.and_(
                    OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.locked_until < now
                ),
            ),
        )
        .values(status=OutboxStatus.SENDING, locked_until=now + timedelta(seconds=claim_seconds()))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if rows_changed(result) != 1:
        return None
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def _record(
    message: OutboxMessage,
    failure: TemporaryFailure | PermanentFailure | None,
    report: DeliveryReport,
) -> None:
    """Keep the outcome of one attempt (None: accepted) and commit it."""
    config = current_app.config
    now = clock.utcnow()
    message.attempts += 1
    message.locked_until = None
    if failure is None:
        message.status, message.sent_at = OutboxStatus.SENT, now
        report.sent += 1
    else:
        message.last_error = str(failure)[:2000]
        report.errors.append(f"#{message.id} {message.to_address}: {failure}")
        logger.warning("mail #%s to %s: %s", message.id, message.to_address, failure)
        if isinstance(failure, PermanentFailure):
            message.status = OutboxStatus.FAILED
            report.failed += 1
        elif message.attempts >= int(config["TRACKER_MAIL_MAX_ATTEMPTS"]):
            message.status = OutboxStatus.GAVE_UP
            report.gave_up += 1
        else:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now + backoff(message.attempts)
            report.retrying += 1
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    config = current_app.config
    base = int(config["TRACKER_MAIL_RETRY_SECONDS"])
    ceiling = int(config["TRACKER_MAIL_RETRY_MAX_SECONDS"])
    return timedelta(seconds=min(ceiling, base * 2 ** max(0, attempts - 1)))


def _email(message: OutboxMessage, settings: SmtpSettings) -> MIMEText:
    # The compat32 classes on purpose: the newer email policy folds long encoded Chinese
    # subjects dropping the space between words ("公安部 · 2024" arrives as "公安部 ·2024").
    email = MIMEText(message.body, "plain", "utf-8")
    email["From"] = formataddr((SENDER_NAME, settings.sender), charset="utf-8")
    email["To"] = formataddr((message.to_name, message.to_address), charset="utf-8")
    # typeshed types every header as str; the compat32 message takes a Header as well.
    email["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment]
    email["Date"] = format_datetime(clock.utcnow())
    domain = settings.sender.rpartition("@")[2] or "localhost"
    email["Message-ID"] = f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"
    return email


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        connection.close()
