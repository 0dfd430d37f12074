"""One scheduler at a time: the lease in the database, two holders, a takeover, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from tests.conftest import beijing
from tracker.extensions import db
from tracker.jobs import runner as scheduler_runner
from tracker.lease import Lease, SchedulerLease, lease_holder
from tracker.reminders.models import ReminderLog

REPO = Path(__file__).resolve().parents[1]


def test_a_second_holder_is_refused_while_the_first_renews(app, at):
    at("2024-10-11 09:00:00")
    first, second = Lease("first", seconds=90), Lease("second", seconds=90)
    assert first.acquire() is True
    assert second.acquire() is False
    at("2024-10-11 09:01:00")
    assert first.acquire() is True  # the heartbeat renews it
    at("2024-10-11 09:02:29")
    assert second.acquire() is False  # 89 s after the last renewal: still the first's
    holder = lease_holder()
    assert holder.owner == "first"
    assert holder.acquired_at == beijing("2024-10-11 09:00:00")
    assert holder.expires_at == beijing("2024-10-11 09:02:30")


def test_a_dead_holder_is_taken_over_and_cannot_come_back(app, at):
    at("2024-10-11 09:00:00")
    first, second = Lease("first", seconds=90), Lease("second", seconds=90)
    assert first.acquire()
    at("2024-10-11 09:01:31")  # the first stopped renewing 91 s ago
    assert second.acquire() is True
    assert lease_holder().owner == "second"
    assert lease_holder().acquired_at == beijing("2024-10-11 09:01:31")
    assert first.acquire() is False and first.held is False


def test_a_clean_shutdown_hands_over_at_once(app, at):
    at("2024-10-11 09:00:00")
    first, second = Lease("first"), Lease("second")
    assert first.acquire()
    first.release()
    assert second.acquire() is True


def test_a_released_lease_is_not_taken_back_by_a_late_job_of_its_own(app, at):
    at("2024-10-11 09:00:00")
    first = Lease("first")
    assert first.acquire()
    first.release()
    assert first.acquire() is False  # a heartbeat that was still running at the stop
    assert lease_holder() is None


def test_two_holders_racing_for_a_free_lease_get_one_winner(app, at):
    at("2024-10-11 09:00:00")
    start, results = threading.Barrier(4), []

    def race(owner):
        with app.app_context():
            start.wait()
            results.append((owner, Lease(owner).acquire()))
            db.session.remove()

    threads = [threading.Thread(target=race, args=(f"s{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [owner for owner, held in results if held]
    assert len(results) == 4 and len(winners) == 1
    assert lease_holder().owner == winners[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchedulerLease)) == 1


def test_only_the_holder_runs_jobs(app, at):
    at("2024-10-11 09:00:00")
    first, second = scheduler_runner(app, owner="first"), scheduler_runner(app, owner="second")
    ran = []
    assert first.run_job(lambda: ran.append("first")) is True
    assert second.run_job(lambda: ran.append("second")) is False
    at("2024-10-11 09:05:00")  # the first died: no heartbeat for 5 minutes
    assert second.heartbeat() is True
    assert second.run_job(lambda: ran.append("second")) is True
    assert first.run_job(lambda: ran.append("first")) is False
    assert ran == ["first", "second"]


def test_two_schedulers_at_once_send_each_reminder_once(app, quarter, make_user):
    """Both schedulers fire the daily pass at the same moment: one runs it, once."""
    make_user("liaison", "mps", email="mps@example.org")
    make_user("coordinator", "mca", email="coord@mca.example")
    quarter.at("2024-10-11 09:00")
    runners = [scheduler_runner(app, owner=f"scheduler-{i}") for i in (1, 2)]
    start, results = threading.Barrier(2), {}

    def fire(runner):
        start.wait()
        results[runner.lease.owner] = runner.run("reminders")

    threads = [threading.Thread(target=fire, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results.values()) == [False, True]
    rows = db.session.execute(
        sa.select(ReminderLog.obligation_id, ReminderLog.rung, ReminderLog.recipient_id)
    ).all()
    assert rows and len(rows) == len(set(rows))
    # the standby takes over later and runs the pass again: nothing new
    quarter.at("2024-10-11 10:00")
    standby = next(r for r in runners if not results[r.lease.owner])
    assert standby.run("reminders") is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderLog)) == len(rows)


def test_gaining_the_lease_after_the_pass_time_runs_the_pass(app, at):
    at("2024-10-11 09:00:00")  # after 08:30
    runner = scheduler_runner(app, owner="late")
    scheduler = runner.build(BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        assert runner.heartbeat() is True
        assert scheduler.get_job("catch-up") is not None
        assert {job.id for job in scheduler.get_jobs()} >= {"lease", "mail", "reminders"}
        assert str(scheduler.get_job("reminders").trigger).startswith("cron[hour='8', minute='30'")
    finally:
        scheduler.shutdown(wait=False)


def test_gaining_the_lease_before_the_pass_time_waits_for_it(app, at):
    at("2024-10-11 07:00:00")
    runner = scheduler_runner(app, owner="early")
    scheduler = runner.build(BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        assert runner.heartbeat() is True
        assert scheduler.get_job("catch-up") is None
    finally:
        scheduler.shutdown(wait=False)


def _scheduler_process(app, tmp_path, name) -> subprocess.Popen:
    env = {
        **os.environ,
        "TRACKER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_SECRET_KEY": "test",
        "TRACKER_INSTANCE_PATH": str(tmp_path / name),
        "TRACKER_SCHEDULER_HEARTBEAT_SECONDS": "1",
        "TRACKER_SCHEDULER_LEASE_SECONDS": "6",
        "TRACKER_REMIND_AT": "23:59",
    }
    env.pop("TRACKER_SMTP_HOST", None)
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen(
        [str(flask), "--app", "tracker", "scheduler"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_for_owner(predicate, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        holder = lease_holder()
        if holder is not None and predicate(holder.owner):
            return holder.owner
        db.session.rollback()
        time.sleep(0.2)
    raise AssertionError("the lease did not change hands in time")


def test_real_scheduler_processes_hand_over_when_the_holder_dies(app, tmp_path):
    """Two ``flask scheduler`` processes: one holds the lease; killed, the other takes over."""
    first = _scheduler_process(app, tmp_path, "first")
    second = None
    try:
        owner = _wait_for_owner(lambda o: o.split(":")[1] == str(first.pid))
        second = _scheduler_process(app, tmp_path, "second")
        time.sleep(3)  # the second is up and polling, but the first keeps renewing
        assert _wait_for_owner(lambda o: True) == owner
        first.send_signal(signal.SIGKILL)  # dies without releasing the lease
        first.wait(10)
        _wait_for_owner(lambda o: o.split(":")[1] == str(second.pid))
        second.send_signal(signal.SIGTERM)  # a clean stop releases it
        output, _ = second.communicate(timeout=20)
        assert second.returncode == 0, output
        assert "holds the lease" in output
        db.session.expire_all()
        assert lease_holder() is None
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(10)
        db.session.rollback()


def test_lease_expiry_is_measured_from_the_last_renewal(app, at):
    at("2024-10-11 09:00:00")
    lease = Lease("only", seconds=30)
    lease.acquire()
    at("2024-10-11 09:00:20")
    lease.acquire()
    assert lease_holder().expires_at - lease_holder().heartbeat_at == timedelta(seconds=30)


def test_a_stopping_scheduler_never_takes_the_lease_back(app, at):
    """Jobs still queued when a scheduler stops (the rest of an on-gain group) find the lease
    given up and leave it to the standby."""
    at("2024-10-11 09:00:00")
    stopping = scheduler_runner(app, owner="stopping")
    assert stopping.heartbeat() is True
    stopping.give_up()
    assert lease_holder() is None
    assert stopping.run("mail") is False and stopping.heartbeat() is False
    db.session.expire_all()
    assert lease_holder() is None
    standby = scheduler_runner(app, owner="standby")
    assert standby.heartbeat() is True
