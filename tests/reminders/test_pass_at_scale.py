"""The reminder pass at scale: set-based, chunked, exactly once across real processes.

2024Q3 as in test_ladder.py (due Thu 2024-10-10, supporting input Tue 2024-10-08; National Day
10-01..10-07 off, Sun 09-29 and Sat 10-12 make-up working days).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.processes import REPO
from tests.reminders.conftest import notes_of, run_pass
from tracker.dashboard import demo
from tracker.extensions import db
from tracker.notifications.models import Notification, NotificationKind, OutboxMessage
from tracker.reminders import services
from tracker.reminders.ladder import DEFAULT_LADDER, parse_ladder
from tracker.reminders.models import ReminderLog
from tracker.reports.models import Obligation, Report, ReportState
from tracker.reports.services import open_tracked_periods
from tracker.workdays import WorkingCalendar

LADDER = parse_ladder(DEFAULT_LADDER)


@pytest.fixture
def people(quarter, make_user):
    """Two liaisons (A and B) and a leader in three departments, two coordinators."""
    users = {}
    for code in ("mps", "moa", "mohrss"):
        users[f"{code}_a"] = make_user("liaison", code, email=f"{code}-a@example.org")
        users[f"{code}_b"] = make_user("liaison", code, email=f"{code}-b@example.org")
        users[f"{code}_head"] = make_user("viewer", code, email=f"{code}-head@example.org")
    users["coord_a"] = make_user("coordinator", "mca", email="a@mca.example")
    users["coord_b"] = make_user("coordinator", "mca")  # no address: in the app only
    return users


def log_keys() -> Counter:
    rows = db.session.execute(
        sa.select(
            ReminderLog.obligation_id,
            ReminderLog.due_date,
            ReminderLog.rung,
            ReminderLog.recipient_id,
        )
    )
    return Counter(tuple(row) for row in rows)


def forget_reminders() -> None:
    for model in (ReminderLog, Notification, OutboxMessage):
        db.session.execute(sa.delete(model))
    db.session.commit()


def assert_each_reminder_in_one_notification_of_its_recipient() -> None:
    """Every log row is linked to a notification of its own recipient, and every reminder
    notification lists exactly the log rows linked to it (so nothing is listed twice)."""
    linked = Counter()
    for row in db.session.scalars(sa.select(ReminderLog)):
        assert row.notification is not None and row.notification.user_id == row.recipient_id
        linked[row.notification_id] += 1
    notes = db.session.scalars(
        sa.select(Notification).where(Notification.kind == NotificationKind.REMINDER)
    ).all()
    for note in notes:
        listed = note.body.count("   链接：/obligations/") or 1
        assert listed == linked[note.id], (note.title, listed, linked[note.id])
    assert sum(linked.values()) == sum(log_keys().values())


def pass_process(app, day: str, chunk: int, start: float, die_after: int = 0):
    """Start one pass in a process of its own (tests/reminders/pass_process.py)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    command = [sys.executable, "-m", "tests.reminders.pass_process", url, day, str(chunk)]
    command += [str(start)] + ([str(die_after)] if die_after else [])
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


# -- exactly once, in real processes ---------------------------------------------------------


def test_two_passes_in_two_processes_send_each_reminder_once(app, quarter, people):
    """Two processes start the same pass at the same moment, in chunks of 7 reminders with a
    pause after each: they share the work, and the log and the notifications hold each
    reminder once."""
    quarter.at("2024-10-11 08:00")
    open_tracked_periods()  # 2024Q4's obligations: so that both processes start level
    db.session.commit()
    start = time.time() + 4  # both processes have started Python and built the app by then
    processes = [pass_process(app, "2024-10-11", 7, start) for _ in range(2)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    db.session.expire_all()
    together = log_keys()
    assert set(together.values()) == {1}
    assert sum(r["reminders"] for r in results) == sum(together.values()) > 50
    assert_each_reminder_in_one_notification_of_its_recipient()
    # The same reminders as one pass alone sends.
    forget_reminders()
    alone = run_pass(quarter, "2024-10-11")
    assert log_keys() == together and alone.reminders == sum(together.values())


def test_a_pass_killed_mid_way_and_run_again_sends_the_rest_once(app, quarter, people):
    """A process killed in its third chunk leaves two chunks sent; the next pass the rest."""
    db.session.commit()
    killed = pass_process(app, "2024-10-11", 10, time.time(), die_after=3)
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == 17, err
    db.session.expire_all()
    first = log_keys()
    assert_each_reminder_in_one_notification_of_its_recipient()  # the third left no trace
    again = run_pass(quarter, "2024-10-11")
    after = log_keys()
    assert set(after.values()) == {1} and set(first) < set(after) and first
    assert again.reminders == sum(after.values()) - sum(first.values())
    assert_each_reminder_in_one_notification_of_its_recipient()
    everything = dict(after)
    forget_reminders()
    run_pass(quarter, "2024-10-11")
    assert dict(log_keys()) == everything  # the same as one uninterrupted pass


# -- chunks ----------------------------------------------------------------------------------


def test_a_draft_save_succeeds_while_a_pass_is_mid_way(
    app, quarter, people, client, login, monkeypatch
):
    """Between two chunks the pass holds no write lock: a liaison's save, from another
    connection, goes through at once (on SQLite a held lock would fail it after 5 s: a 500)."""
    monkeypatch.setattr(services, "CHUNK", 5)
    mps = quarter.obligation(11, "mps")
    liaison = people["mps_a"]
    login(liaison)
    send_chunk, calls, saves = services._send_chunk, [], []

    def save_then_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the first chunk is committed, the second not begun
            started = time.perf_counter()
            response = client.post(
                f"/obligations/{mps.id}/edit",
                data={"progress": "保存于提醒发送期间", "status": "", "version": "",
                      "save": "保存草稿"},
            )  # fmt: skip
            saves.append((response.status_code, time.perf_counter() - started))
        return send_chunk(*args, **kwargs)

    monkeypatch.setattr(services, "_send_chunk", save_then_chunk)
    quarter.at("2024-10-11 09:00")
    result = services.run_reminder_pass()
    db.session.commit()
    assert result.reminders > 20
    assert len(calls) > 2
    ((status, seconds),) = saves
    assert status == 302 and seconds < 3
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == mps.id))
    assert report.state == ReportState.DRAFT and report.progress == "保存于提醒发送期间"


def test_each_recipient_gets_one_notification_however_small_the_chunks(
    app, quarter, people, monkeypatch
):
    """Chunks of 3 reminders: a coordinator's dozens of items still travel in one
    notification and one e-mail, since a chunk never splits a recipient."""
    monkeypatch.setattr(services, "CHUNK", 3)
    chunks = []
    send_chunk = services._send_chunk
    monkeypatch.setattr(
        services,
        "_send_chunk",
        lambda chunk, *a: chunks.append(len(chunk)) or send_chunk(chunk, *a),
    )
    result = run_pass(quarter, "2024-10-16")
    assert len(chunks) > 3
    recipients = {key[3] for key in log_keys()}
    assert result.notifications == len(recipients)
    for name, user in people.items():
        reminders = [n for n in notes_of(user) if n.kind == NotificationKind.REMINDER]
        assert len(reminders) == (1 if user.id in recipients else 0), name
    coordinator = people["coord_a"]
    (note,) = notes_of(coordinator)
    items = db.session.scalar(
        sa.select(sa.func.count()).where(ReminderLog.recipient_id == coordinator.id)
    )
    assert items > 20 and note.title.startswith(f"【催报提醒】{items} 项待报送")
    mail = db.session.get(OutboxMessage, note.outbox_message_id)
    assert f"您有 {items} 条新的提醒" in mail.body
    # Both liaisons (A and B) and the leader of each department are reached (overdue_5).
    for code in ("mps", "moa", "mohrss"):
        for role in ("a", "b", "head"):
            assert people[f"{code}_{role}"].id in recipients, (code, role)
    assert not notes_of(people["coord_b"])[0].outbox_message_id  # no address: no e-mail
    assert_each_reminder_in_one_notification_of_its_recipient()


# -- the statements do not grow with the reminders -------------------------------------------


def statements_of_a_pass(app, quarter, day: str) -> tuple[int, int]:
    """The statements and the reminders of the pass of ``day``, its periods opened before."""
    quarter.at(f"{day} 08:00")
    open_tracked_periods()  # the next quarter's obligations, one by one: not the pass's work
    db.session.commit()
    count = 0

    def seen(conn, cursor, statement, *args):
        nonlocal count
        count += 1

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        result = run_pass(quarter, day)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    return count, result.reminders


def test_the_statements_of_a_pass_do_not_grow_with_its_reminders(app, quarter, people, monkeypatch):
    """The same pass over a portfolio and over one with more documents: about three times the
    reminders (N and 3N), the same number of statements (one chunk each, a fixed set)."""
    monkeypatch.setattr(services, "CHUNK", 100_000)
    quarter.at("2024-08-01 09:00")  # the synthetic documents' reports are all still to come
    demo.generate(1, 1, items=23, seed=1)
    db.session.commit()
    small, few = statements_of_a_pass(app, quarter, "2024-10-11")
    obligations = db.session.scalar(sa.select(sa.func.count()).select_from(Obligation))
    forget_reminders()
    quarter.at("2024-08-01 09:00")
    demo.remove()
    demo.generate(5, 1, items=23, seed=1)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Obligation)) > 1.5 * obligations
    large, many = statements_of_a_pass(app, quarter, "2024-10-11")
    assert many > 2.5 * few > 0
    assert large == small


# -- rungs over a calendar with holidays and make-up working days ----------------------------


def reference_rung(due: date, today: date, cal: WorkingCalendar) -> str | None:
    """The ladder's rung, the slow way: walking the calendar one day at a time."""

    def step(day: date, n: int) -> date:
        sign = 1 if n > 0 else -1
        while n:
            day += timedelta(days=sign)
            if cal.is_working_day(day):
                n -= sign
        return day

    current = None
    for rung in LADDER.rungs:
        if step(due, rung.offset) > today:
            return current
        current = rung.name
    late, day = 0, due
    while day < today:
        day += timedelta(days=1)
        late += cal.is_working_day(day)
    repeats = (late - LADDER.rungs[-1].offset) // LADDER.weekly_every
    return f"overdue_w{repeats}" if repeats >= 1 else current


def test_rungs_over_a_calendar_with_holidays_and_make_up_days():
    """Every (due date, day) of three months on the official calendar with local extras (a
    holiday and a Sunday worked): the arithmetic rung is the day-by-day one."""
    cal = WorkingCalendar(extra_holidays=[date(2024, 10, 9)], extra_workdays=[date(2024, 10, 13)])
    days = [date(2024, 9, 1) + timedelta(days=n) for n in range(92)]
    checked = Counter()
    for due in days[20:60]:
        for today in days:
            rung = LADDER.current_rung(due, today, cal)
            assert (rung.name if rung else None) == reference_rung(due, today, cal), (due, today)
            checked[rung.name if rung else None] += 1
    assert {"upcoming_7", "due", "overdue_5", "overdue_w2"} <= set(checked)


def test_the_pass_follows_configured_holidays_and_make_up_days(app, quarter, people, monkeypatch):
    """With 10-09 declared a holiday and Sun 10-13 a working day: 'upcoming_1' comes on 10-08,
    nothing on 10-09, and the leaders' 'overdue_5' on 10-15 instead of 10-16."""
    monkeypatch.setitem(app.config, "TRACKER_EXTRA_HOLIDAYS", (date(2024, 10, 9),))
    monkeypatch.setitem(app.config, "TRACKER_EXTRA_WORKDAYS", (date(2024, 10, 13),))
    mps11 = quarter.obligation(11, "mps")

    def rungs_of(day: str) -> set[str]:
        rows = db.session.scalars(
            sa.select(ReminderLog.rung).where(
                ReminderLog.obligation_id == mps11.id,
                ReminderLog.sent_on == date.fromisoformat(day),
            )
        )
        return set(rows)

    run_pass(quarter, "2024-09-24")  # 7 working days before 10-10, without 10-09
    assert rungs_of("2024-09-24") == {"upcoming_7"}
    run_pass(quarter, "2024-10-08")
    assert rungs_of("2024-10-08") == {"upcoming_1"}
    assert not run_pass(quarter, "2024-10-09").working_day
    run_pass(quarter, "2024-10-13")  # a Sunday worked: the third working day late
    assert rungs_of("2024-10-13") == {"overdue_1"}
    run_pass(quarter, "2024-10-15")
    assert rungs_of("2024-10-15") == {"overdue_5"}
    heads = db.session.scalars(
        sa.select(ReminderLog.rung).where(ReminderLog.recipient_id == people["mps_head"].id)
    ).all()
    assert "overdue_5" in heads
