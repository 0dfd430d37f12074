"""Benchmark how every list page and API list grows with the portfolio's size and history.

Builds (or reuses) one SQLite database per size with ``flask demo-data`` (as
``bench/dashboard.py`` does: documents of 30 items reported over 20 quarters), then times each
list page and API list there, with the number of SQL statements one request runs, beside a floor
measured in the same run (``/healthz``: routing and the WSGI round trip, no query).

    .venv/bin/python bench/growth.py                               # 1, 20 and 200 documents
    .venv/bin/python bench/growth.py --sizes 1 20 200 1000 --folder instance/growth   # reuse
    .venv/bin/python bench/growth.py --sizes 1 20 --runs 5         # quick look

Server time is one request through the WSGI application in this process (Flask's test client:
routing, login, queries, rendering; no network). A list that does not grow with history shows
the same statement count at every size and a time that stays near its value at one document.
Target: the largest liaison page (``/reports`` of the department with the most obligations)
under 100 ms on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard import PASSWORD, build, busiest_day, timed  # noqa: E402

from tracker import clock, create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20, 200])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per list")
    parser.add_argument("--folder", type=Path, help="where the databases are built or reused")
    return parser.parse_args()


def account(app, username: str, role: str, department_code: str | None):
    """A signed-in test client and an API token of one throw-away account."""
    from tracker.api.services import create_token
    from tracker.auth.models import User
    from tracker.auth.services import create_user, resolve_department

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            department = resolve_department(department_code) if department_code else None
            user = create_user(username, role=role, password=PASSWORD, department=department)
        _, raw = create_token(user, name=f"growth-{time.time_ns()}", actor=user)
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, (username, response.status_code)
    return client, {"Authorization": f"Bearer {raw}"}


def busiest_department(app) -> str:
    """The code of the department with the most obligations in the current period."""
    from tracker.catalogue.models import Department
    from tracker.reports import queries as report_queries
    from tracker.reports.models import Obligation

    with app.app_context():
        period = report_queries.current_period()
        return db.session.scalar(
            sa.select(Department.code)
            .join(Obligation, Obligation.department_id == Department.id)
            .where(Obligation.period == period.key)
            .group_by(Department.code)
            .order_by(sa.func.count().desc())
            .limit(1)
        )


def last_page(app, code: str) -> str:
    """The last page of that department's ``/reports`` (an OFFSET page costs most there)."""
    from tracker.catalogue.models import Department
    from tracker.reports import queries as report_queries
    from tracker.reports.models import Obligation
    from tracker.reports.routes import MINE_PER_PAGE

    with app.app_context():
        period = report_queries.current_period()
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Obligation)
            .join(Department, Department.id == Obligation.department_id)
            .where(Obligation.period == period.key, Department.code == code)
        )
    return f"/reports?page={max(1, -(-count // MINE_PER_PAGE))}"


class Counter:
    """Counts the statements the engine runs."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def lists(app) -> list[tuple[str, object, str, dict[str, str]]]:
    """(label, client, url, headers) of every list page and API list."""
    code = busiest_department(app)
    liaison, liaison_api = account(app, "growth-liaison", "liaison", code)
    coordinator, coordinator_api = account(app, "growth-coordinator", "coordinator", "mca")
    admin, _ = account(app, "growth-admin", "admin", None)
    return [
        ("floor /healthz", liaison, "/healthz", {}),
        ("liaison /reports (busiest dept.)", liaison, "/reports", {}),
        ("liaison /reports, last page", liaison, last_page(app, code), {}),
        ("coordinator /reports", coordinator, "/reports", {}),
        ("review queue /reports/review", coordinator, "/reports/review", {}),
        ("review, every state", coordinator, "/reports/review?state=all", {}),
        ("notifications /notifications", liaison, "/notifications", {}),
        ("task list /tasks", liaison, "/tasks", {}),
        ("users /admin/users", admin, "/admin/users", {}),
        ("API obligations (coordinator)", coordinator, "/api/v1/obligations", coordinator_api),
        ("API obligations (liaison)", liaison, "/api/v1/obligations", liaison_api),
        ("API tasks", coordinator, "/api/v1/tasks", coordinator_api),
        ("API notifications", liaison, "/api/v1/notifications", liaison_api),
    ]


def measure(path: Path, size: int, args) -> dict[str, tuple[float, float, int]]:
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "WTF_CSRF_ENABLED": False,
            "TRACKER_UPLOAD_DIR": str(path.parent),
            "RATELIMIT_ENABLED": False,
            "TRACKER_TOTP_REQUIRED_ROLES": "",  # a throw-away admin signs in with a password
        }
    )
    build(app, argparse.Namespace(documents=size, items=args.items, quarters=args.quarters))
    figures = {}
    for label, client, url, headers in lists(app):

        def call(client=client, url=url, headers=headers):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code, response.location)

        counter = Counter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        call()
        sa.event.remove(engine, "before_cursor_execute", counter)
        wall, cpu = timed(call, args.runs)
        figures[label] = (statistics.median(wall), statistics.median(cpu), counter.count)
    return figures


def main() -> None:
    args = parse_args()
    moment = datetime.combine(busiest_day(), clock_time(15), tzinfo=ZoneInfo("Asia/Shanghai"))
    folder = args.folder or Path(tempfile.mkdtemp(prefix="tracker-growth-"))
    folder.mkdir(parents=True, exist_ok=True)
    results: dict[int, dict[str, tuple[float, float, int]]] = {}
    with clock.frozen(moment):
        for size in args.sizes:
            started = time.perf_counter()
            results[size] = measure(folder / f"growth-{size}.sqlite3", size, args)
            print(f"{size} documents measured in {time.perf_counter() - started:.0f} s")
    report(results, args)


def report(results: dict[int, dict[str, tuple[float, float, int]]], args) -> None:
    """One line per list: wall and CPU medians and statements at each size, and how it grew."""
    sizes = args.sizes
    labels = list(results[sizes[0]])
    print(f"\nSQLite, medians of {args.runs} requests: wall ms / CPU ms (SQLite runs in this "
          "process, so CPU time includes its queries and is disturbed less by other load); "
          "q: SQL statements per request\n")  # fmt: skip
    header = "".join(f"{f'{s} docs wall/CPU':>20}{'q':>4}" for s in sizes)
    print(f"{'list':34}{header}{'CPU × floor':>12}{'growth':>8}")
    floor = results[sizes[-1]][labels[0]][1] or 0.1
    for label in labels:
        cells = "".join(
            f"{results[s][label][0]:12.1f} /{results[s][label][1]:6.1f}{results[s][label][2]:4}"
            for s in sizes
        )
        last, first = results[sizes[-1]][label][1], results[sizes[0]][label][1] or 0.1
        print(f"{label:34}{cells}{last / floor:12.1f}{last / first:8.1f}")
    largest = results[sizes[-1]]["liaison /reports (busiest dept.)"]

    def verdict(ms: float) -> str:
        return "met" if ms < 100 else "NOT met"

    print(
        f"\ntarget: the largest liaison page under 100 ms at {sizes[-1]} documents: "
        f"{largest[0]:.0f} ms wall ({verdict(largest[0])}), "
        f"{largest[1]:.0f} ms CPU ({verdict(largest[1])})"
    )


if __name__ == "__main__":
    main()
