"""Benchmark the daily reminder pass on a synthetic portfolio, beside a bare bulk insert.

Builds (or reuses) a database with ``flask demo-data`` (by default 40 documents of 30 items over
8 quarters: a few thousand never-submitted obligations), adds the people the ladder reaches (two
liaisons, A and B, and a leader in every department, two coordinators), empties the reminder
log and runs one first pass — every current rung owed, the heaviest pass there is. It prints
the pass's wall time, CPU time per reminder and per notification, its SQL statements, and the
same figures for the floor: one bare bulk ``INSERT`` of as many notification rows as the pass
claimed reminders, in the same run (then rolled back). Then it runs the next working day's
pass, the daily case: only the rungs that changed overnight are owed.

    .venv/bin/python bench/reminders.py                                # SQLite, temporary folder
    .venv/bin/python bench/reminders.py --db instance/remind.sqlite3   # build once, reuse
    .venv/bin/python bench/reminders.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/reminders.py --saves 4                      # and liaisons saving

With ``--saves N`` the app is served by gunicorn on a loopback port over the same database,
and N liaisons save drafts in a loop from the pass's start to its end; the bench counts saves
that failed (anything but the redirect of a saved draft, e.g. a 500 for "database is locked")
and their latency. Targets: under 1 ms CPU per notification row written, under 15 s for the
pass, no failed save.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.processes import Session, free_port, stop, wait_for_http  # noqa: E402
from tracker import clock, create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

PASSWORD = "Bench-pass-1234"  # noqa: S105 - throw-away accounts in a throw-away database
BIN = Path(sys.executable).parent
VERSION_FIELD = re.compile(r'name="version"[^>]*value="(\d*)"')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=8)
    parser.add_argument("--db", type=Path, help="SQLite file to build or reuse")
    parser.add_argument("--url", help="a database URL to build or reuse instead of SQLite")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the Beijing day of the pass (default: the latest working day up to today)",
    )
    parser.add_argument("--saves", type=int, default=0, help="liaisons saving drafts meanwhile")
    return parser.parse_args()


def build(app, args) -> None:
    """Migrate, seed, demo data and the ladder's people (skipped when already built)."""
    from flask_migrate import upgrade

    from tracker.auth.models import User
    from tracker.auth.services import create_user
    from tracker.catalogue.models import Department, PolicyDocument

    with app.app_context():
        upgrade()
        synthetic = db.session.scalar(
            sa.select(sa.func.count()).where(PolicyDocument.synthetic.is_(True))
        )
    if not synthetic:
        runner = app.test_cli_runner()
        started = time.perf_counter()
        for command in (["seed"], ["demo-data", "--documents", str(args.documents), "--quarters",
                                   str(args.quarters), "--items", str(args.items)]):  # fmt: skip
            result = runner.invoke(args=command)
            if result.exit_code != 0:
                raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
            print(result.output.strip().splitlines()[-1])
        print(f"built in {time.perf_counter() - started:.0f} s")
    else:
        print(f"reusing the database: {synthetic} synthetic documents")
    with app.app_context():
        if db.session.scalar(sa.select(User.id).where(User.username == "bench-coord-1")):
            return
        for n in (1, 2):
            create_user(f"bench-coord-{n}", role="coordinator", password=PASSWORD,
                        email=f"coord{n}@bench.example")  # fmt: skip
        for department in db.session.scalars(sa.select(Department).order_by(Department.id)):
            for name, role in (("a", "liaison"), ("b", "liaison"), ("head", "viewer")):
                address = f"{department.code}-{name}@bench.example"
                create_user(f"bench-{department.code}-{name}", role=role, password=PASSWORD,
                            department=department, email=address)  # fmt: skip
        db.session.commit()


def reset(app) -> None:
    """Forget every reminder sent, so that the pass is a first pass."""
    from tracker.notifications.models import DigestEntry, Notification, OutboxMessage
    from tracker.reminders.models import ReminderLog

    with app.app_context():
        for model in (ReminderLog, DigestEntry, Notification, OutboxMessage):
            db.session.execute(sa.delete(model))
        db.session.commit()


class Statements:
    """Counts the SQL statements sent on an engine while active (an executemany is one)."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.count = engine, 0

    def _seen(self, *args) -> None:
        self.count += 1

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)


def timed_pass(app):
    from tracker.reminders import services

    with app.app_context(), Statements(db.engine) as statements:
        started, started_cpu = time.perf_counter(), time.process_time()
        result = services.run_reminder_pass()
        db.session.commit()
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return result, wall, cpu, statements.count


def floor(app, rows: int) -> tuple[float, float, int]:
    """A bare bulk insert of ``rows`` notification rows, rolled back: wall, CPU, statements."""
    from tracker.auth.models import User
    from tracker.notifications.models import Notification, NotificationKind

    with app.app_context():
        user_ids = list(db.session.scalars(sa.select(User.id).order_by(User.id)))
        now = clock.utcnow()
        params = [
            {"user_id": user_ids[i % len(user_ids)], "kind": NotificationKind.REMINDER,
             "title": f"【催报提醒】{i}", "body": "第1项\n" * 4, "link": "", "created_at": now}
            for i in range(rows)
        ]  # fmt: skip
        with Statements(db.engine) as statements:
            started, started_cpu = time.perf_counter(), time.process_time()
            table = Notification.__table__
            db.session.execute(sa.insert(table).returning(table.c.id), params)
            db.session.flush()
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        db.session.rollback()
    return wall, cpu, statements.count


def serve(url: str, folder: str) -> tuple[subprocess.Popen, str, dict[str, str]]:
    """gunicorn over the bench database on a loopback port."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")},
        "TRACKER_INSTANCE_PATH": folder,
        "TRACKER_SECRET_KEY": secrets.token_hex(16),
        "TRACKER_DATABASE_URL": url,
        "TRACKER_RATELIMIT_ENABLED": "false",
    }
    command = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
               "tracker:create_app()"]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_for_http(f"{base}/healthz", timeout=60, process=server)
    return server, base, env


def editable(app, count: int) -> list[tuple[str, int]]:
    """(liaison username, obligation id) pairs: drafts a liaison of its department may save."""
    from tracker.auth.models import User
    from tracker.catalogue.models import Department
    from tracker.reports import queries as report_queries
    from tracker.reports.models import Obligation, Report

    with app.app_context():
        period = report_queries.current_period()
        rows = db.session.execute(
            sa.select(Department.code, sa.func.min(Obligation.id))
            .join(Department, Department.id == Obligation.department_id)
            .outerjoin(Report, Report.obligation_id == Obligation.id)
            .join(User, User.department_id == Department.id)
            .where(
                Obligation.period == period.key,
                Report.id.is_(None),
                Obligation.waived.is_(False),
                User.username.like("bench-%-a"),
            )
            .group_by(Department.code)
            .order_by(Department.code)
            .limit(count)
        ).all()
    return [(f"bench-{code}-a", obligation_id) for code, obligation_id in rows]


def saver(base: str, username: str, obligation_id: int, stop_at: threading.Event, out: dict):
    session = Session(base)
    status, _ = session.sign_in(username, PASSWORD)
    if status != 200:
        out["errors"].append(f"{username}: sign-in answered {status}")
        return
    n = 0
    while not stop_at.is_set():
        n += 1
        status, page = session.get(f"/obligations/{obligation_id}/edit")
        found = VERSION_FIELD.search(page)
        fields = {"progress": f"【演示数据】草稿第 {n} 次保存", "status": "", "save": "保存草稿",
                  "version": found[1] if found else ""}  # fmt: skip
        started = time.perf_counter()
        # The redirect of a saved draft is followed: 200 at the end; a refusal shows the form.
        status, page = session.post(f"/obligations/{obligation_id}/edit", fields)
        ok = status == 200 and "保存失败" not in page
        with out["lock"]:
            out["saves"].append((started, time.perf_counter() - started, ok, status))


def main() -> None:
    args = parse_args()
    folder = tempfile.mkdtemp(prefix="tracker-bench-")
    url = args.url or f"sqlite:///{args.db or Path(folder) / 'remind.sqlite3'}"
    from tracker.workdays import default_calendar

    today = args.today or date.today()
    while not default_calendar().is_working_day(today):
        today -= timedelta(days=1)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "TRACKER_UPLOAD_DIR": folder,
            "TRACKER_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    moment = datetime.combine(today, clock_time(9), tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.frozen(moment):
        build(app, args)
    reset(app)
    server = None
    out = {"saves": [], "errors": [], "lock": threading.Lock()}
    stop_at, threads = threading.Event(), []
    try:
        if args.saves:
            server, base, _ = serve(url, folder)
            pairs = editable(app, args.saves)
            threads = [threading.Thread(target=saver, args=(base, u, o, stop_at, out))
                       for u, o in pairs]  # fmt: skip
            for thread in threads:
                thread.start()
            time.sleep(3)  # everybody signed in and saving
        with clock.frozen(moment):
            began = time.perf_counter()
            result, wall, cpu, statements = timed_pass(app)
            ended = time.perf_counter()
        stop_at.set()
        for thread in threads:
            thread.join(60)
    finally:
        stop_at.set()
        if server is not None:
            stop(server)
    floor_wall, floor_cpu, floor_statements = floor(app, max(1, result.reminders))
    backend = sa.engine.make_url(url).get_backend_name()
    print(f"{backend}, pass of {today} (first pass: the log emptied before it)")
    print(f"  reminders {result.reminders}, notifications {result.notifications}, "
          f"e-mails {result.emails}")  # fmt: skip
    per_reminder = cpu * 1000 / max(1, result.reminders)
    per_note = cpu * 1000 / max(1, result.notifications)
    print(f"{'':28} {'wall s':>8} {'CPU s':>8} {'CPU ms/reminder':>16} {'statements':>11}")
    print(f"{'reminder pass':28} {wall:8.2f} {cpu:8.2f} {per_reminder:16.3f} {statements:11}")
    floor_per = floor_cpu * 1000 / max(1, result.reminders)
    print(f"{f'floor: insert {result.reminders} rows':28} {floor_wall:8.2f} {floor_cpu:8.2f} "
          f"{floor_per:16.3f} {floor_statements:11}")  # fmt: skip
    print(
        f"  CPU per notification: {per_note:.2f} ms "
        f"({result.reminders / max(1, result.notifications):.0f} reminders each)"
    )
    if args.saves:
        during = [s for s in out["saves"] if began <= s[0] + s[1] and s[0] <= ended]
        times = sorted(s[1] for s in during) or [0.0]
        failed = [s[3] for s in during if not s[2]]
        print(f"draft saves during the pass: {len(during)} by {len(threads)} liaisons, "
              f"failed {len(failed)} {sorted(set(failed)) if failed else ''}, "
              f"median {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {times[int(len(times) * 0.95)] * 1000:.0f} ms, "
              f"max {times[-1] * 1000:.0f} ms")  # fmt: skip
        for error in out["errors"]:
            print("  " + error)
    # The next working day's pass: only the rungs that changed since (the daily case).
    following = today + timedelta(days=1)
    while not default_calendar().is_working_day(following):
        following += timedelta(days=1)
    with clock.frozen(moment + (following - today)):
        result, wall, cpu, statements = timed_pass(app)
    per_reminder = cpu * 1000 / max(1, result.reminders)
    print(f"next working day ({following}): reminders {result.reminders}, notifications "
          f"{result.notifications}; wall {wall:.2f} s, CPU {cpu:.2f} s "
          f"({per_reminder:.3f} ms/reminder), {statements} statements")  # fmt: skip


if __name__ == "__main__":
    main()
