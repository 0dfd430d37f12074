"""The outbox and its sender against a real SMTP server on loopback (aiosmtpd).

A server that accepts, one that refuses temporarily (451), one that refuses for good (550),
one that is down (a closed port), and two senders at once.
"""

from __future__ import annotations

import smtplib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import deliver, free_port, outbox_messages
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.notifications import outbox, services
from tracker.notifications.messages import Message
from tracker.notifications.models import NotificationKind, OutboxMessage, OutboxStatus

BODY = "第11项 · 公安部：请尽快报送。"


@pytest.fixture
def liaison(seeded, make_user):
    return make_user("liaison", "mps", email="zhang@example.org", display_name="张三")


@pytest.fixture
def frozen():
    """The clock at a fixed moment, movable with ``frozen.move(minutes=…)``."""

    class Clock:
        def __init__(self):
            self.now = clock.utcnow().replace(microsecond=0)
            self._ctx = None
            self.move()

        def move(self, **delta):
            if self._ctx is not None:
                self._ctx.__exit__(None, None, None)
            self.now += timedelta(**delta)
            self._ctx = clock.frozen(self.now)
            self._ctx.__enter__()

        def release(self):
            self._ctx.__exit__(None, None, None)

    moment = Clock()
    yield moment
    moment.release()


def _queue(user, title="【催办】第11项 · 公安部", count: int = 1) -> list[OutboxMessage]:
    notes = [
        services.notify(user, NotificationKind.URGE, Message(f"{title} {i}", BODY), link="/x")
        for i in range(count)
    ]
    db.session.commit()
    return [db.session.get(OutboxMessage, n.outbox_message_id) for n in notes]


def test_a_message_is_delivered_after_the_commit(smtp, liaison, frozen):
    (message,) = _queue(liaison)
    assert message.status == OutboxStatus.PENDING  # written with the notification
    report = deliver()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT and message.attempts == 1
    assert message.sent_at == frozen.now
    (received,) = smtp.received
    assert received["Subject"] == "【催办】第11项 · 公安部 0"
    assert received["To"] == "张三 <zhang@example.org>"
    assert "tracker@mca.example" in received["From"] and "任务分工落实跟踪系统" in received["From"]
    assert received["Message-ID"].startswith(f"<outbox-{message.id}-")
    body = received.get_content()
    assert body.startswith("张三：") and BODY in body
    assert "查看详情：https://tracker.mca.example/x" in body
    assert deliver().attempted == 0  # nothing twice


def test_without_smtp_mail_stays_in_the_outbox(liaison, runner):
    (message,) = _queue(liaison)
    report = deliver()
    assert not report.configured and report.attempted == 0
    db.session.refresh(message)
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    result = runner.invoke(args=["send-mail"])
    assert "未配置邮件服务器" in result.output


def test_a_user_without_an_address_gets_the_notification_only(seeded, make_user):
    user = make_user("liaison", "mps")
    note = services.notify(user, NotificationKind.URGE, Message("t", "b"), link="/x")
    db.session.commit()
    assert note.id and note.outbox_message_id is None
    assert outbox_messages() == []


def test_a_temporary_refusal_is_retried_with_back_off_then_given_up(
    smtp, liaison, frozen, app, monkeypatch
):
    monkeypatch.setitem(app.config, "TRACKER_MAIL_MAX_ATTEMPTS", 4)
    smtp.mailbox.refuse_rcpt = "451 4.3.0 Mailbox temporarily unavailable"
    (message,) = _queue(liaison)
    waits = []
    for attempt in range(1, 4):
        report = deliver()
        assert report.retrying == 1, attempt
        db.session.refresh(message)
        assert message.status == OutboxStatus.PENDING and message.attempts == attempt
        assert message.last_error.startswith("451 4.3.0")
        waits.append(message.next_attempt_at - frozen.now)
        assert deliver().attempted == 0  # not before its time
        frozen.move(seconds=waits[-1].total_seconds())
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert deliver().gave_up == 1
    db.session.refresh(message)
    assert message.status == OutboxStatus.GAVE_UP and message.attempts == 4
    assert "451" in message.last_error  # the error is kept
    assert smtp.received == []


def test_a_permanent_refusal_fails_and_an_admin_can_retry(smtp, liaison, frozen, make_user):
    smtp.mailbox.refuse_rcpt = "550 5.1.1 No such user here"
    (message,) = _queue(liaison)
    assert deliver().failed == 1
    db.session.refresh(message)
    assert message.status == OutboxStatus.FAILED and message.attempts == 1
    assert message.last_error == "550 5.1.1 No such user here"
    frozen.move(hours=1)
    assert deliver().attempted == 0  # failed for good: no automatic retry

    admin = make_user("admin")
    smtp.mailbox.refuse_rcpt = None  # the address was fixed at the server
    services.retry_message(message, actor=admin)
    db.session.commit()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert deliver().sent == 1
    assert len(smtp.received) == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.retry"))
    assert event.actor_id == admin.id and event.before["status"] == "failed"
    db.session.refresh(message)
    with pytest.raises(Conflict, match="无需重试"):
        services.retry_message(message, actor=admin)


def test_a_server_that_is_down_loses_nothing(smtp, liaison, frozen):
    smtp.stop()  # the port is closed: connection refused
    messages = _queue(liaison, count=3)
    for _ in range(3):
        report = deliver()
        assert report.retrying == 3 and "ConnectionRefusedError" in report.errors[0]
        frozen.move(hours=1)
    for message in messages:
        db.session.refresh(message)
        assert message.status == OutboxStatus.PENDING and message.attempts == 3
        assert "ConnectionRefusedError" in message.last_error
    smtp.start()  # back on the same port
    assert deliver().sent == 3
    assert sorted(m["Subject"] for m in smtp.received) == [m.subject for m in messages]
    assert deliver().attempted == 0


def test_a_server_that_never_answered_is_temporary(app, liaison, frozen, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "TRACKER_SMTP_PORT", free_port())
    (message,) = _queue(liaison)
    assert deliver().retrying == 1
    db.session.refresh(message)
    assert message.status == OutboxStatus.PENDING


def test_two_senders_at_once_deliver_each_message_once(app, smtp, liaison, frozen):
    messages = _queue(liaison, count=6)
    start, errors = threading.Barrier(2), []

    def sender():
        with app.app_context():
            try:
                start.wait()
                outbox.deliver_pending()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(m["Subject"] for m in smtp.received) == sorted(m.subject for m in messages)
    assert {m.status for m in outbox_messages()} == {OutboxStatus.SENT}


def test_a_claim_that_lapsed_is_sent_again(smtp, liaison, frozen):
    """A sender that died mid-send leaves 'sending'; after the claim lapses it goes out."""
    (message,) = _queue(liaison)
    message.status, message.locked_until = OutboxStatus.SENDING, frozen.now + timedelta(minutes=10)
    db.session.commit()
    assert deliver().attempted == 0
    frozen.move(minutes=11)
    assert deliver().sent == 1


def test_a_dead_senders_claim_passes_on_with_the_scheduler_lease(
    app, smtp, liaison, frozen, monkeypatch
):
    """A scheduler killed mid-send: the next one sends the message once the lease has passed."""
    monkeypatch.setitem(app.config, "TRACKER_SCHEDULER_LEASE_SECONDS", 90)
    monkeypatch.setitem(app.config, "TRACKER_SMTP_TIMEOUT", 20)
    (message,) = _queue(liaison)
    message_id = message.id

    def dying(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies between its claim and the server's reply

    send_message = smtplib.SMTP.send_message
    monkeypatch.setattr(smtplib.SMTP, "send_message", dying)
    with pytest.raises(KeyboardInterrupt):
        deliver()
    monkeypatch.setattr(smtplib.SMTP, "send_message", send_message)
    db.session.rollback()
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    assert message.status == OutboxStatus.SENDING
    assert message.locked_until == frozen.now + timedelta(seconds=90)
    frozen.move(seconds=89)
    assert deliver().attempted == 0  # the claim still stands
    frozen.move(seconds=2)
    assert deliver().sent == 1
    assert len(smtp.received) == 1


def test_a_claim_covers_three_smtp_time_outs_at_least(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_SCHEDULER_LEASE_SECONDS", 30)
    monkeypatch.setitem(app.config, "TRACKER_SMTP_TIMEOUT", 40)
    assert outbox.claim_seconds() == 120


def test_back_off_doubles_up_to_a_ceiling(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_MAIL_RETRY_SECONDS", 60)
    monkeypatch.setitem(app.config, "TRACKER_MAIL_RETRY_MAX_SECONDS", 600)
    waits = [outbox.backoff(n).total_seconds() for n in range(1, 7)]
    assert waits == [60, 120, 240, 480, 600, 600]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (outbox.smtplib.SMTPRecipientsRefused({"a@b": (450, b"busy")}), "temporary"),
        (outbox.smtplib.SMTPRecipientsRefused({"a@b": (553, b"bad address")}), "permanent"),
        (outbox.smtplib.SMTPSenderRefused(451, b"later", "x@y"), "temporary"),
        (outbox.smtplib.SMTPDataError(554, b"spam"), "permanent"),
        (outbox.smtplib.SMTPServerDisconnected("gone"), "temporary"),
        (ConnectionRefusedError(111, "refused"), "temporary"),
        (TimeoutError("timed out"), "temporary"),
    ],
)
def test_errors_are_sorted_into_temporary_and_permanent(error, kind):
    failure = outbox.classify(error)
    expected = outbox.TemporaryFailure if kind == "temporary" else outbox.PermanentFailure
    assert isinstance(failure, expected)


def test_send_mail_command_reports_what_it_did(smtp, liaison, runner, frozen):
    _queue(liaison, count=2)
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "发送 2 封" in result.output
    assert len(smtp.received) == 2
