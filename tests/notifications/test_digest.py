"""The daily digest: one mail per user and day at TRACKER_DIGEST_AT with everything queued,
exactly once (two runs at once, two schedulers, a run after downtime), through a real SMTP
server on loopback."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from tests.reminders.conftest import deliver, notes_of, run_pass
from tracker.extensions import db
from tracker.jobs import runner as scheduler_runner
from tracker.notifications import queries, services
from tracker.notifications.models import DigestEntry, MailDigest, MailMode


@pytest.fixture
def people(quarter, make_user):
    users = {
        "digest": make_user("coordinator", "mca", email="digest@mca.example"),
        "each": make_user("coordinator", "mca", email="each@mca.example"),
        "liaison": make_user("liaison", "mps", email="mps@example.org"),
    }
    digest = users["digest"]
    services.save_preferences(digest, queries.email_choices(digest.id), MailMode.DIGEST)
    db.session.commit()
    return users


def _digests() -> list[tuple]:
    return db.session.execute(
        sa.select(MailDigest.user_id, MailDigest.day, MailDigest.items).order_by(MailDigest.id)
    ).all()


def _run_digest(quarter, when: str) -> services.DigestRun:
    quarter.at(when)
    result = services.send_digests()
    db.session.commit()
    return result


def test_one_digest_a_day_with_everything_queued_before_its_time(quarter, people, smtp):
    digest = people["digest"]
    run_pass(quarter, "2024-10-11")  # 09:00: the overdue list of both coordinators
    deliver()
    assert smtp.mailbox.to("digest@mca.example") == []  # waits for 17:30
    assert len(smtp.mailbox.to("each@mca.example")) == 1  # sent at once
    mps11 = quarter.obligation(11, "mps")

    assert _run_digest(quarter, "2024-10-11 17:29").digests == 0
    first = _run_digest(quarter, "2024-10-11 17:30")
    assert (first.digests, first.notifications) == (1, 1)
    deliver()
    (mail,) = smtp.mailbox.to("digest@mca.example")
    assert mail["Subject"] == "【任务分工督办】10月11日通知汇总：共 1 条"
    text = mail.get_content()
    (reminder,) = notes_of(digest)
    assert "以下是您的通知每日汇总（共 1 条）" in text and reminder.title in text
    assert f"链接：https://tracker.mca.example/obligations/{mps11.id}" in text  # made absolute
    assert db.session.get(DigestEntry, reminder.id).digest_id is not None

    again = _run_digest(quarter, "2024-10-11 21:00")  # the same day: nothing twice
    assert again.digests == 0
    deliver()
    assert len(smtp.mailbox.to("digest@mca.example")) == 1
    assert _digests() == [(digest.id, date(2024, 10, 11), 1)]


def test_after_downtime_one_digest_carries_every_missed_day(quarter, people, smtp):
    """Down from 10-11 noon to 10-14 09:00: the first run sends the digest of 10-13 (the
    latest day whose 17:30 has passed) with what was queued, once, and none for 10-11 or 10-12;
    what arrives later goes in the digest of 10-14."""
    digest = people["digest"]
    run_pass(quarter, "2024-10-11")
    queued = len(notes_of(digest))
    assert queued == 1
    result = _run_digest(quarter, "2024-10-14 09:00")  # before 17:30: yesterday's is owed
    assert (result.day.isoformat(), result.digests, result.notifications) == (
        "2024-10-13", 1, queued)  # fmt: skip
    assert _run_digest(quarter, "2024-10-14 09:05").digests == 0
    deliver()
    assert len(smtp.mailbox.to("digest@mca.example")) == 1
    run_pass(quarter, "2024-10-14")  # new reminders after the catch-up: for today's digest
    assert _run_digest(quarter, "2024-10-14 17:30").notifications == 1
    deliver()
    assert len(smtp.mailbox.to("digest@mca.example")) == 2
    assert [day.isoformat() for _, day, _ in _digests()] == ["2024-10-13", "2024-10-14"]


def test_two_runs_at_once_send_one_digest(app, quarter, people, smtp):
    run_pass(quarter, "2024-10-11")
    quarter.at("2024-10-11 17:30")
    start, results, errors = threading.Barrier(2), [], []

    def one_run():
        with app.app_context():
            try:
                start.wait()
                results.append(services.send_digests())
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.digests for r in results) == [0, 1]
    deliver()
    assert len(smtp.mailbox.to("digest@mca.example")) == 1


def test_two_schedulers_send_the_digest_once(app, quarter, people, smtp):
    run_pass(quarter, "2024-10-11")
    quarter.at("2024-10-11 17:30")
    runners = [scheduler_runner(app, owner=f"scheduler-{i}") for i in (1, 2)]
    start, ran = threading.Barrier(2), {}

    def fire(runner):
        start.wait()
        ran[runner.lease.owner] = runner.run("digest")

    threads = [threading.Thread(target=fire, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(ran.values()) == [False, True]  # the lease: one runs it
    standby = next(r for r in runners if not ran[r.lease.owner])
    quarter.at("2024-10-11 18:00")
    assert standby.run("digest") is True  # taking over later sends nothing new
    assert len(smtp.mailbox.to("digest@mca.example")) == 1  # the job delivers its mail too
    assert len(_digests()) == 1


def test_a_scheduler_gaining_the_lease_runs_the_digest(app, quarter, people):
    """The digest is an on-gain job: a scheduler started in the morning sends yesterday's."""
    run_pass(quarter, "2024-10-11")
    quarter.at("2024-10-12 08:00")
    runner = scheduler_runner(app, owner="morning")
    scheduler = runner.build(BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        assert runner.heartbeat() is True
        on_gain = scheduler.get_job("on-gain")
        assert "digest" in on_gain.name
        on_gain.func()
    finally:
        scheduler.shutdown(wait=False)
    assert [(day.isoformat(), items) for _, day, items in _digests()] == [("2024-10-11", 1)]


def test_digest_time_is_validated_once_at_start_up(monkeypatch):
    from tracker.config import ConfigError, read_settings

    monkeypatch.setenv("TRACKER_DIGEST_AT", "25:00")
    with pytest.raises(ConfigError, match="TRACKER_DIGEST_AT"):
        read_settings()
    monkeypatch.setenv("TRACKER_DIGEST_AT", "7:05")
    assert read_settings().digest_at == "07:05"


def test_a_deactivated_account_gets_no_digest(quarter, people, smtp):
    from tracker.auth.services import deactivate_user

    run_pass(quarter, "2024-10-11")
    deactivate_user(people["digest"])
    db.session.commit()
    assert _run_digest(quarter, "2024-10-11 17:30").digests == 0
    deliver()
    assert smtp.mailbox.to("digest@mca.example") == [] and _digests() == []
