"""Benchmark the search at the scale of a ministry's whole portfolio, on SQLite and PostgreSQL.

Builds (or reuses) a database with ``flask demo-data`` — by default 200 synthetic documents of
30 items reported over 20 quarters — and prints, for a two-character and a four-character
query, each both common (in every synthetic report) and rare (in none of them, so every row
must be ruled out), the median and 95th percentile of:

- ``search``: the two searches the page runs (items and reports, each a capped count and one
  page of ids, then the page's rows), as a coordinator (reads everything) and as a liaison
  (its own department, and the items it leads once submitted);
- ``page``: the whole ``GET /search`` through the WSGI application (routing, login, the
  menus, the searches, highlighting, the template; Flask's test client, no network);

beside a floor measured in the same run: a bare ``SELECT count(*) FROM report``, the least a
query that looks at every report costs on that backend.

    .venv/bin/python bench/search.py --sqlite instance/bench-search.sqlite3 \\
        --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench
    .venv/bin/python bench/search.py --documents 20 --quarters 4 --runs 10   # quick look

A database is built once and reused by later runs (a rebuilt one is ``ANALYZE``d, as
autovacuum would). Target: median under 200 ms for each query on both backends.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

PASSWORD = "Bench-pass-1234"  # noqa: S105 - a throw-away account in a throw-away database
QUERIES = (
    ("2 chars, common", "推进"),
    ("2 chars, rare", "妇联"),
    ("4 chars, common", "完成阶段"),
    ("4 chars, rare", "留守妇女"),
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query")
    parser.add_argument("--sqlite", type=Path, help="SQLite file to build or reuse")
    parser.add_argument("--postgresql", help="PostgreSQL URL of a database to build or reuse")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args()


def build(app, args) -> None:
    """Migrate, seed, fill with demo data and analyze (skipped when already filled)."""
    from flask_migrate import upgrade

    from tracker.catalogue.models import PolicyDocument

    with app.app_context():
        upgrade()
        synthetic = db.session.scalar(
            sa.select(sa.func.count()).where(PolicyDocument.synthetic.is_(True))
        )
    if synthetic:
        print(f"  reusing the database: {synthetic} synthetic documents")
        return
    runner = app.test_cli_runner()
    started = time.perf_counter()
    for command in (["seed"], ["demo-data", "--documents", str(args.documents), "--quarters",
                               str(args.quarters), "--items", str(args.items)]):  # fmt: skip
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE"))
    print(f"  built in {time.perf_counter() - started:.0f} s")


def user(app, username: str, role: str, department: str | None):
    from tracker.auth.models import User
    from tracker.auth.services import create_user, resolve_department

    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.username == username))
        if found is None:
            where = resolve_department(department) if department else None
            create_user(username, role=role, password=PASSWORD, department=where)
            db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def timed(call, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU milliseconds of ``runs`` calls, after two warm-ups."""
    for _ in range(2):
        call()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def run(label: str, url: str, args) -> None:
    folder = tempfile.mkdtemp(prefix="tracker-bench-search-")
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "TRACKER_UPLOAD_DIR": folder,
        }
    )
    print(f"\n{label}", flush=True)
    build(app, args)
    clients = {
        "coordinator": user(app, "bench-coordinator", "coordinator", "mca"),
        "liaison": user(app, "bench-liaison", "liaison", "acwf"),
    }

    from tracker.auth.models import User
    from tracker.reports.models import Report
    from tracker.search import queries

    with app.app_context():
        reports = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
        version = db.session.scalar(
            sa.text("SELECT version()" if "postgresql" in url else "SELECT sqlite_version()")
        )

    def floor():
        with app.app_context():
            db.session.scalar(sa.select(sa.func.count()).select_from(Report))

    def search(username, text):
        def call():
            with app.app_context():
                reader = db.session.scalar(sa.select(User).where(User.username == username))
                query = queries.SearchQuery(terms=(text,))
                queries.search_tasks(query)
                queries.search_reports(query, reader)

        return call

    def page(client, text):
        def call():
            response = client.get("/search", query_string={"q": text})
            assert response.status_code == 200, response.status_code

        return call

    load = os.getloadavg()[0]
    print(
        f"  {version.split(' on ')[0]}; {reports:,} reports; {args.runs} timed runs each; "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    base = statistics.median(timed(floor, args.runs)[0])
    print(
        f"  {'what':44} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'CPU ms':>7} {'found':>6}"
    )
    floor_label = "floor: SELECT count(*) FROM report"
    print(f"  {floor_label:44} {base:10.1f}")
    for name, text in QUERIES:
        with app.app_context():
            coordinator = db.session.scalar(
                sa.select(User).where(User.username == "bench-coordinator")
            )
            hits = queries.search_reports(queries.SearchQuery(terms=(text,)), coordinator)
            found = f"{hits.total}{'+' if hits.capped else ''}"
        rows = [
            (f"search {name} 「{text}」, coordinator", search("bench-coordinator", text)),
            (f"search {name} 「{text}」, liaison", search("bench-liaison", text)),
            (f"page   {name} 「{text}」, coordinator", page(clients["coordinator"], text)),
        ]
        for what, call in rows:
            wall, cpu = timed(call, args.runs)
            median = statistics.median(wall)
            print(
                f"  {what:44} {median:10.1f} {p95(wall):8.1f} {median / base:8.1f} "
                f"{statistics.median(cpu):7.1f} {found:>6}"
            )


def main() -> None:
    args = parse_args()
    if not args.skip_sqlite:
        path = args.sqlite or Path(tempfile.mkdtemp(prefix="tracker-bench-")) / "bench.sqlite3"
        run("SQLite (FTS5 trigram; LIKE for two characters)", f"sqlite:///{path}", args)
    if args.postgresql:
        run("PostgreSQL (pg_trgm GIN)", args.postgresql, args)


if __name__ == "__main__":
    main()
