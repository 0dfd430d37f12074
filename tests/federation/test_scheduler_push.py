"""The push job inside a running scheduler process: the province's real ``flask scheduler``
delivers a queued roll-up to a real centre on a loopback port — at once when the centre is
up, and, when the centre is down at first, after backing off, exactly once when it is back.

The centre serves from an SQLite file, the province (its CLI and its scheduler) works on the
suite's database (PostgreSQL when TRACKER_TEST_DATABASE_URL names one), as in
test_two_instances.py, whose fixture and helpers these tests reuse."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from tests.federation import test_two_instances
from tests.federation.test_two_instances import (
    FILE_CORRECTION,
    FILE_QUARTER,
    MATRIX,
    NUMBER,
    PASSWORD,
    PERIOD,
    _flask,
    _indicator_key,
    _received,
    _serve,
)
from tests.processes import REPO, Session, run, stop
from tracker.federation.models import PushMessage

PUSHES = PushMessage.__table__
cascade = test_two_instances.cascade  # the fixture: the centre serving, the province's env


def scheduler_env(province: dict[str, str], **extra: str) -> dict[str, str]:
    """The province's environment for its scheduler: jobs every second, a short lease."""
    return {
        **province,
        "TRACKER_MAIL_INTERVAL_SECONDS": "1",  # the push job's interval
        "TRACKER_SCHEDULER_HEARTBEAT_SECONDS": "1",
        "TRACKER_SCHEDULER_LEASE_SECONDS": "6",
        "TRACKER_REMIND_AT": "23:59",
        "TRACKER_DIGEST_AT": "23:58",
        **extra,
    }


def start_scheduler(env: dict[str, str], log_path) -> subprocess.Popen:
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "tracker", "scheduler"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def prepare_province(cascade) -> str:
    """Adopt, map and file the quarter on the province (consolidated); the indicator key."""
    province = cascade["province"]
    for code, name in (("hb-mca", "河北省民政厅"), ("hb-acwf", "河北省妇女联合会")):
        _flask(province, "department", "create", code, name)
    _flask(province, "federation", "adopt", "--number", NUMBER)
    _flask(province, "federation", "map", NUMBER, "--central", "mca", "--department", "hb-mca")
    _flask(province, "federation", "map", NUMBER, "--central", "acwf", "--department", "hb-acwf")
    key = _indicator_key(cascade["centre_db"])
    run([sys.executable, "-c", FILE_QUARTER, PERIOD, key, "30", "100"], env=province, cwd=REPO)
    return key


def push_rows(engine: sa.Engine) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(PUSHES).order_by(PUSHES.c.revision)))


def wait_until(predicate, *, seconds: float, what: str, process: subprocess.Popen, log_path):
    """Poll ``predicate`` until it answers something true; fail with the scheduler's log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {seconds} s:\n{log_path.read_text()[-3000:]}")


def receive_events(centre_db) -> int:
    with sqlite3.connect(centre_db) as conn:
        return conn.execute(
            "select count(*) from audit_event where action = 'federation.rollup_receive'"
        ).fetchone()[0]


def test_the_running_scheduler_delivers_what_is_reported_up(cascade):
    province, centre_db = cascade["province"], cascade["centre_db"]
    key = prepare_province(cascade)
    engine = sa.create_engine(province["TRACKER_DATABASE_URL"])
    log_path = cascade["tmp"] / "scheduler.log"
    scheduler = start_scheduler(scheduler_env(province), log_path)
    try:
        # 上报 while the scheduler runs: the CLI only queues, the scheduler's push job sends
        out = _flask(province, "federation", "report-up", NUMBER, "--period", PERIOD).stdout
        assert "送达" not in out
        (push,) = wait_until(
            lambda: [r for r in push_rows(engine) if r.status == "delivered"],
            seconds=30, what="delivery of revision 1", process=scheduler, log_path=log_path,
        )  # fmt: skip
        ((revision, digest),) = _received(centre_db)
        assert revision == 1 and push.digest == digest and push.attempts == 1
        assert push.receipt["receipt"] == f"HB-{PERIOD}-130000-r1-{digest[:8]}"

        # a correction reported while it keeps running goes too, once
        run([sys.executable, "-c", FILE_CORRECTION, key, "140"], env=province, cwd=REPO)
        _flask(province, "federation", "report-up", NUMBER, "--period", PERIOD)
        wait_until(
            lambda: [r for r in push_rows(engine) if r.revision == 2 and r.status == "delivered"],
            seconds=30, what="delivery of revision 2", process=scheduler, log_path=log_path,
        )  # fmt: skip
        time.sleep(2.5)  # two more runs of the push job: nothing left to send
        assert [r for r, _ in _received(centre_db)] == [1, 2]
        assert receive_events(centre_db) == 2
        assert [r.attempts for r in push_rows(engine)] == [1, 1]
    finally:
        stop(scheduler)
        engine.dispose()
    assert scheduler.returncode == 0, log_path.read_text()[-3000:]
    assert "push: 1 delivered, 0 to retry" in log_path.read_text()

    session = Session(cascade["base"])
    assert session.sign_in("zhang", PASSWORD)[0] == 200
    status, page = session.get(MATRIX)
    assert status == 200 and "已报 第2版" in page
    assert f'data-key="{key}"><td>第23项</td>' in page and '<td class="total">140</td>' in page


def test_a_centre_down_at_first_gets_the_queued_push_exactly_once_when_back(cascade):
    province, centre_db = cascade["province"], cascade["centre_db"]
    prepare_province(cascade)
    stop(cascade["holder"]["server"])  # the centre is down before anything is sent
    _flask(province, "federation", "report-up", NUMBER, "--period", PERIOD)
    engine = sa.create_engine(province["TRACKER_DATABASE_URL"])
    log_path = cascade["tmp"] / "scheduler.log"
    env = scheduler_env(
        province, TRACKER_MAIL_RETRY_SECONDS="2", TRACKER_MAIL_RETRY_MAX_SECONDS="8"
    )
    scheduler = start_scheduler(env, log_path)
    try:
        # queued and backing off: after the k-th failure the next try waits 2 × 2^(k-1) s,
        # although the job itself runs every second
        seen: dict[int, sa.Row] = {}

        def third_failure():
            (row,) = push_rows(engine)
            if row.status == "pending" and row.attempts:
                seen.setdefault(row.attempts, row)
            return row.attempts >= 3 and row

        wait_until(third_failure, seconds=40, what="three failed attempts",
                   process=scheduler, log_path=log_path)  # fmt: skip
        assert {1, 2} <= seen.keys()
        assert "Error" in (seen[1].last_error or "")  # the refused connection
        assert seen[2].next_attempt_at - seen[1].next_attempt_at >= timedelta(seconds=4)
        if 3 in seen:
            assert seen[3].next_attempt_at - seen[2].next_attempt_at >= timedelta(seconds=8)
        assert _received(centre_db) == []

        # the centre is back on its port: the next due try delivers it
        cascade["holder"]["server"] = _serve(
            cascade["centre"], cascade["port"], cascade["tmp"] / "centre.log"
        )
        (push,) = wait_until(
            lambda: [r for r in push_rows(engine) if r.status == "delivered"],
            seconds=40, what="delivery after the restart", process=scheduler, log_path=log_path,
        )  # fmt: skip
        time.sleep(2.5)  # more runs of the push job: nothing is sent again
        ((revision, digest),) = _received(centre_db)
        assert revision == 1 and push.digest == digest and receive_events(centre_db) == 1
        (after,) = push_rows(engine)
        assert after.status == "delivered" and after.attempts == push.attempts >= 4
        assert after.last_error is None
        assert after.receipt["receipt"] == f"HB-{PERIOD}-130000-r1-{digest[:8]}"
    finally:
        stop(scheduler)
        engine.dispose()
    assert scheduler.returncode == 0, log_path.read_text()[-3000:]
    text = log_path.read_text()
    assert "0 delivered, 1 to retry" in text and "push: 1 delivered, 0 to retry" in text
