"""Benchmark the auditor's page over a large audit trail, on SQLite and PostgreSQL.

Builds a scratch database (migrated to head), bulk-inserts ``--rows`` chained audit events
(default 200,000, so that a run takes about a minute; ``--rows 1000000`` for the million the
requirement names) spread over two years, 40 actors and 13 departments, and prints the median
and 95th percentile of:

- ``trail``: one page of :func:`tracker.audit.queries.trail_page` (51 rows by id, newest
  first), first and deep (``before_id`` near the oldest rows), unfiltered and under each
  filter (actor, department, action, a rare outcome, a time range in the past);
- ``page``: the whole ``GET /audit`` as the auditor (routing, sign-in, form, query, template);
- ``verify``: the chain walked in full (once; it reads every row);

beside a floor measured in the same run: a plain ``SELECT … ORDER BY id DESC LIMIT 51`` on
the primary key, first and deep, the least a page can cost on that backend.

    .venv/bin/python bench/audit.py                      # SQLite, scratch file, 200,000 rows
    .venv/bin/python bench/audit.py --rows 1000000 \\
        --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench_audit

The PostgreSQL database given is emptied first (its schema dropped): give a scratch one.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker import create_app  # noqa: E402
from tracker.extensions import db  # noqa: E402

PASSWORD = "Bench-pass-1234"  # noqa: S105 - a throw-away account in a throw-away database
ACTIONS = (
    "user.login", "report.save", "report.submit", "evidence.download", "export.download",
    "access.refused", "report.accept", "urge.create", "api.create_report", "user.lock",
)  # fmt: skip
BATCH = 10_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="audit events to insert")
    parser.add_argument("--runs", type=int, default=15, help="timed runs per query")
    parser.add_argument("--sqlite", type=Path, help="SQLite file (default: a scratch file)")
    parser.add_argument("--postgresql", help="URL of a scratch PostgreSQL database")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args()


def timed(call, runs: int) -> list[float]:
    call()  # warm
    wall = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        wall.append((time.perf_counter() - start) * 1000)
    return wall


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def build(app, rows: int) -> list[int]:
    """Migrate, make the actors, bulk-insert ``rows`` chained events; the actors' ids."""
    from flask_migrate import upgrade

    from tracker.audit import chain
    from tracker.audit.models import AuditChain, AuditEvent
    from tracker.auth.services import create_user

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade()
        from tracker.catalogue.seedfile import read_seed_file
        from tracker.catalogue.services import apply_seed

        apply_seed(read_seed_file(ROOT / "tasks_seed.yaml"))  # the 13 departments of the filter
        actors = [create_user(f"bench{n}", role="viewer", password=PASSWORD).id for n in range(40)]
        create_user("bench-auditor", role="auditor", password=PASSWORD)
        db.session.execute(sa.delete(AuditEvent))  # the accounts' own events: start afresh
        db.session.execute(sa.delete(AuditChain))
        db.session.commit()
        key, rng = chain.audit_key(), random.Random(20261208)
        start = datetime(2025, 1, 1, tzinfo=UTC)
        step = timedelta(days=730) / rows
        table = AuditEvent.__table__
        prev, began = "", time.perf_counter()
        for first in range(1, rows + 1, BATCH):
            batch = []
            for n in range(first, min(first + BATCH, rows + 1)):
                roll = rng.random()
                outcome = "refused" if roll < 0.002 else "failure" if roll < 0.05 else "success"
                row = {
                    "id": n, "chain_seq": n, "at": start + step * n,
                    "actor_id": rng.choice(actors), "department_id": rng.randint(1, 13),
                    "client_address": f"10.{n % 250}.{n % 97}.{n % 13}",
                    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
                    "action": rng.choice(ACTIONS), "object_type": "report",
                    "object_id": rng.randint(1, 50_000), "outcome": outcome,
                    "before": None, "after": {"n": n},
                }  # fmt: skip
                digest = chain.row_hash(key, row, prev)
                batch.append({**row, "prev_hash": prev, "row_hash": digest})
                prev = digest
            db.session.execute(table.insert(), batch)
        if db.engine.dialect.name == "postgresql":  # the ids were given: move the sequence on
            db.session.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), :n)"),
                {"n": rows},
            )
        db.session.merge(AuditChain(id=chain.HEAD_ID, head_seq=rows, head_hash=prev,
                                    anchor_seq=0, anchor_hash=""))  # fmt: skip
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
        print(f"  inserted {rows:,} rows in {time.perf_counter() - began:.1f} s", flush=True)
        return actors


def run(label: str, url: str, args) -> None:
    from tracker.audit import chain, queries
    from tracker.audit.models import AuditEvent, Outcome

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "TRACKER_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "TRACKER_TOTP_REQUIRED_ROLES": "", "WTF_CSRF_ENABLED": False})  # fmt: skip
    print(f"\n{label}", flush=True)
    actors = build(app, args.rows)
    deep = max(2, args.rows // 10)  # a page near the oldest tenth of the rows
    client = app.test_client()
    response = client.post("/login", data={"username": "bench-auditor", "password": PASSWORD})
    assert response.status_code == 302, response.status_code

    def select(before: int | None):
        def call():
            with app.app_context():
                query = sa.select(AuditEvent.__table__).order_by(AuditEvent.id.desc()).limit(51)
                if before is not None:
                    query = query.where(AuditEvent.id < before)
                db.session.execute(query).all()

        return call

    def trail(before: int | None, **filters):
        def call():
            with app.app_context():
                page = queries.trail_page(queries.TrailFilter(**filters), before_id=before)
                assert page.events, filters

        return call

    def page(before: int | None, **args_):
        def call():
            query = dict(args_, **({"before_id": before} if before else {}))
            assert client.get("/audit", query_string=query).status_code == 200

        return call

    with app.app_context():
        version = db.session.scalar(
            sa.text("SELECT version()" if "postgresql" in url else "SELECT sqlite_version()")
        )
        actor = actors[0]
        username = f"bench{0}"
    print(f"  {version.split(' on ')[0]}; {args.runs} timed runs each; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    print(f"  {'what':52} {'median ms':>10} {'p95 ms':>8} {'× floor':>8}")
    floors = {}
    for depth, before in (("first", None), ("deep", deep)):
        wall = timed(select(before), args.runs)
        floors[depth] = statistics.median(wall)
        what = f"floor: SELECT … ORDER BY id DESC LIMIT 51, {depth}"
        print(f"  {what:52} {floors[depth]:10.2f} {p95(wall):8.2f}")
    past = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 3, 8, tzinfo=UTC)
    cases = (
        ("no filter", {}, {}),
        ("actor", {"actor_id": actor}, {"actor": username}),
        ("department", {"department_id": 7}, {"department": "7"}),
        ("action", {"action": "report.submit"}, {"operation": "report.submit"}),
        ("outcome refused (0.2%)", {"outcome": Outcome.REFUSED}, {"outcome": "refused"}),
        ("a week in 2025", {"start": past[0], "end": past[1]},
         {"start": "2025-03-01", "end": "2025-03-07"}),
    )  # fmt: skip
    for name, filters, form in cases:
        for depth, before in (("first", None), ("deep", deep)):
            if name == "a week in 2025" and depth == "deep":
                continue  # the week lies in the oldest rows: its first page is deep already
            for kind, call in (
                ("trail", trail(before, **filters)),
                ("page ", page(before, **form)),
            ):
                wall = timed(call, args.runs)
                median = statistics.median(wall)
                what = f"{kind} {name}, {depth}"
                print(f"  {what:52} {median:10.2f} {p95(wall):8.2f} "
                      f"{median / floors[depth]:8.1f}", flush=True)  # fmt: skip
    with app.app_context():
        began = time.perf_counter()
        result = chain.verify(db.session())
        seconds = time.perf_counter() - began
    assert result.first_break is None, result
    print(f"  verify: {result.rows:,} rows in {seconds:.1f} s")


def main() -> None:
    args = parse_args()
    if not args.skip_sqlite:
        path = args.sqlite or Path(tempfile.mkdtemp(prefix="tracker-bench-audit-")) / "a.sqlite3"
        path.unlink(missing_ok=True)
        run("SQLite", f"sqlite:///{path}", args)
    if args.postgresql:
        run("PostgreSQL", args.postgresql, args)


if __name__ == "__main__":
    main()
