"""Fixtures for reminders: a real SMTP server on loopback, and helpers for the quarter.

The SMTP server is aiosmtpd on 127.0.0.1 and a free port, started by the test. It can accept,
refuse temporarily (``451``), refuse permanently (``550``) or be stopped, leaving the port
closed (a server that is down).
"""

from __future__ import annotations

import email
import socket
from datetime import datetime
from email import policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import BEIJING, Quarter, beijing
from tracker.extensions import db
from tracker.notifications import outbox
from tracker.notifications.models import Notification, OutboxMessage
from tracker.reminders import services
from tracker.reports.models import Obligation, Report, ReportState


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What the test SMTP server does with each message, and what it received."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.refuse_rcpt: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.received.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.received if m["X-Envelope-To"] == address]


class SmtpServer:
    """A real SMTP server on 127.0.0.1:<port> that can be stopped and started again."""

    def __init__(self):
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self):
        return self.mailbox.received


@pytest.fixture
def smtp(app, monkeypatch):
    """A running SMTP server, and the app configured to send through it."""
    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "TRACKER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TRACKER_SMTP_PORT", server.port)
    monkeypatch.setitem(app.config, "TRACKER_SMTP_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "TRACKER_MAIL_FROM", "tracker@mca.example")
    monkeypatch.setitem(app.config, "TRACKER_BASE_URL", "https://tracker.mca.example")
    yield server
    server.stop()


def run_pass(q: Quarter, day: str, hour: str = "09:00") -> services.PassResult:
    """Move the clock to ``day`` (Beijing) and run one committed reminder pass."""
    q.at(f"{day} {hour}")
    result = services.run_reminder_pass()
    db.session.commit()
    return result


def deliver() -> outbox.DeliveryReport:
    return outbox.deliver_pending()


def submit(obligation: Obligation, when: str) -> Report:
    """Record a first submission at a Beijing time, as the workflow would have stored it."""
    moment = beijing(when)
    report = obligation.report or Report(obligation=obligation)
    db.session.add(report)
    report.state, report.progress = ReportState.SUBMITTED, "已报送"
    report.first_submitted_at = report.submitted_at = moment
    db.session.commit()
    return report


def notes_of(user) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
    )


def outbox_messages() -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    return list(db.session.scalars(query.execution_options(populate_existing=True)))


def at_local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)
