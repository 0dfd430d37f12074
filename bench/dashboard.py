"""Benchmark the dashboard at the scale of a ministry's whole portfolio.

Builds (or reuses) an SQLite database with ``flask demo-data`` — by default 200 synthetic
documents of 30 items reported over 20 quarters, every item with an approved delivery plan
(milestones, one to three indicators) and reports carrying indicator values and milestone
statuses — then prints the median and 95th-percentile server time of the dashboard, the
scorecard, the item page and an indicator's trajectory page, each beside the floor it rests
on, measured in the same run: for the dashboard pages the single bare SQL aggregate
(:func:`tracker.dashboard.queries.aggregate_query`), for the trajectory page its two bare
reads (the indicator, and its values over every tracked quarter).

    .venv/bin/python bench/dashboard.py                      # build in a temporary folder
    .venv/bin/python bench/dashboard.py --db instance/bench.sqlite3   # build once, reuse next time
    .venv/bin/python bench/dashboard.py --documents 20 --quarters 4 --runs 10   # quick look

Server time is the time of one request through the WSGI application in this process (Flask's
test client: routing, login, queries, template rendering; no network); the CPU columns give the
same in process CPU time, which a busy shared machine disturbs less.

The dashboard's answers are cached under the period's data version
(:mod:`tracker.dashboard.queries.cache`): a *warm* view finds its answer, a *cold* one (the
store emptied before each request, as after a write or on a new day) recounts. Targets: the
warm dashboard median under 30 ms, the cold one within 1.5× of the bare aggregate; with the
delivery plans (issue 16): the dashboard within 3× of the bare aggregate and under 100 ms, the
trajectory page under 50 ms. The last lines say which targets this run met.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker import clock, create_app  # noqa: E402
from tracker.db import without_hash_joins  # noqa: E402
from tracker.extensions import db  # noqa: E402

PASSWORD = "Bench-pass-1234"  # noqa: S105 - a throw-away account in a throw-away database


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40, help="timed requests per page")
    parser.add_argument("--db", type=Path, help="SQLite file to build or reuse")
    parser.add_argument(
        "--url",
        help="a database URL to build or reuse instead of SQLite, e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/bench (the database must exist)",
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=busiest_day(),
        help="the Beijing day the portfolio is built and judged on (default: the due date of "
        "the last quarter that has one, when the dashboard is busiest)",
    )
    return parser.parse_args()


def busiest_day() -> date:
    """The lead due date of the last quarter already due: supporting inputs are late, leads due."""
    from tracker.periods import Period

    return Period.containing(date.today()).previous().due_date()


def build(app, args) -> None:
    """Migrate, seed the departments, fill with demo data (skipped when already filled)."""
    from flask_migrate import upgrade

    from tracker.catalogue.models import PolicyDocument

    with app.app_context():
        upgrade()
        synthetic = db.session.scalar(
            sa.select(sa.func.count()).where(PolicyDocument.synthetic.is_(True))
        )
    if synthetic:
        print(f"reusing the database: {synthetic} synthetic documents")
        return
    runner = app.test_cli_runner()
    started = time.perf_counter()
    for command in (["seed"], ["demo-data", "--documents", str(args.documents), "--quarters",
                               str(args.quarters), "--items", str(args.items)]):  # fmt: skip
        result = runner.invoke(args=command)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.output}")
        print(result.output.strip().splitlines()[-1])
    print(f"built in {time.perf_counter() - started:.0f} s")


def coordinator(app):
    """A signed-in test client of a coordinator."""
    from tracker.auth.models import User
    from tracker.auth.services import create_user, resolve_department

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "bench-coordinator"))
        if user is None:
            create_user("bench-coordinator", role="coordinator", password=PASSWORD,
                        department=resolve_department("mca"))  # fmt: skip
            db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": "bench-coordinator", "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def timed(call, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``runs`` calls, after three warm-up calls."""
    for _ in range(3):  # warm-up: caches, the calendar, compiled statements
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


def main() -> None:
    args = parse_args()
    moment = datetime.combine(args.today, clock_time(15), tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.frozen(moment):
        run(args)


def run(args) -> None:
    folder = tempfile.mkdtemp(prefix="tracker-bench-")
    path = args.db or Path(folder) / "bench.sqlite3"
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": args.url or f"sqlite:///{path}",
            "WTF_CSRF_ENABLED": False,
            "TRACKER_UPLOAD_DIR": folder,
            # The bench account signs in with a password alone (a second factor is the
            # deployed default for coordinators; it does not change what a view costs).
            "TRACKER_TOTP_REQUIRED_ROLES": "",
        }
    )
    build(app, args)
    client = coordinator(app)

    from tracker.dashboard import queries
    from tracker.dashboard.queries.cache import answer_cache
    from tracker.reports import queries as report_queries
    from tracker.reports.models import Obligation

    with app.app_context():
        period = report_queries.current_period()
        past = period.previous().previous()
        obligations = db.session.scalar(
            sa.select(sa.func.count()).where(Obligation.period == period.key)
        )
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Obligation))
        task_id = db.session.scalar(
            sa.select(Obligation.task_id).where(Obligation.period == period.key).limit(1)
        )
        indicator_key = _busiest_indicator()
        plan_task_id = _indicator_task(indicator_key)

    def bare(key):
        def run():
            with app.app_context():
                scope = queries.make_scope(key, snapshot=None)
                with without_hash_joins(db.session):  # as the dashboard runs it
                    db.session.execute(queries.aggregate_query(scope)).all()

        return run

    def bare_trajectory():
        with app.app_context():
            from tracker.delivery import queries as delivery_queries

            found = delivery_queries.indicator_by_key(plan_task_id, indicator_key)
            report_queries.combined_results(
                {plan_task_id}, [found], report_queries.tracked_periods()
            )

    def page(url, *, cold=False):
        def run():
            if cold:  # a view that finds nothing cached, as after a write or on a new day
                with app.app_context():
                    answer_cache().clear()
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    aggregate, reads = "bare aggregate (SQL only)", "trajectory's reads (SQL only)"
    trajectory = f"/dashboard/items/{plan_task_id}/indicators/{indicator_key}"
    # (label, call, the floor it is compared with; None for a floor)
    rows = [
        (aggregate, bare(period), None),
        ("dashboard /dashboard, cold", page("/dashboard", cold=True), aggregate),
        ("dashboard /dashboard, warm", page("/dashboard"), aggregate),
        ("scorecard /dashboard/scorecard, cold", page("/dashboard/scorecard", cold=True),
         aggregate),
        ("scorecard /dashboard/scorecard, warm", page("/dashboard/scorecard"), aggregate),
        ("item page /dashboard/items/<id>", page(f"/dashboard/items/{task_id}"), aggregate),
        (f"dashboard, frozen {past.key}, cold", page(f"/dashboard?period={past.key}", cold=True),
         aggregate),
        (f"dashboard, frozen {past.key}, warm", page(f"/dashboard?period={past.key}"), aggregate),
        ("trends /dashboard/trends", page("/dashboard/trends"), aggregate),
        (reads, bare_trajectory, None),
        ("trajectory …/indicators/<key>", page(trajectory), reads),
    ]  # fmt: skip
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            database = f"SQLite {sqlite3.sqlite_version}"
        else:
            version = db.session.scalar(sa.text("SHOW server_version"))
            database = f"PostgreSQL {version}"
    print(
        f"\n{database}, SQLAlchemy {sa.__version__}; judged on "
        f"{clock.local_today()}; period "
        f"{period.key}: {obligations:,} obligations ({total:,} over all quarters); "
        f"{args.runs} timed runs each\n"
    )
    print(
        f"{'what':40} {'median ms':>10} {'p95 ms':>8} {'× floor':>8} {'CPU ms':>8} {'× floor':>8}"
    )
    floors: dict[str, tuple[float, float]] = {}
    medians: dict[str, float] = {}
    for label, call, floor in rows:
        wall, cpu = timed(call, args.runs)
        median, median_cpu = statistics.median(wall), statistics.median(cpu)
        medians[label] = median
        if floor is None:
            floors[label] = (median, median_cpu)
            print(f"{label:40} {median:10.1f} {p95(wall):8.1f} {'floor':>8} {median_cpu:8.1f}")
            continue
        base = floors[floor]
        print(
            f"{label:40} {median:10.1f} {p95(wall):8.1f} {median / base[0]:8.1f} "
            f"{median_cpu:8.1f} {median_cpu / base[1]:8.1f}"
        )
    print()
    for label in ("dashboard /dashboard, cold", "dashboard /dashboard, warm"):
        median, ratio = medians[label], medians[label] / floors[aggregate][0]
        met = "met" if ratio <= 3 and median < 100 else "NOT met"
        print(f"target ≤ 3× bare and < 100 ms, {label}: {median:.1f} ms, {ratio:.1f}× — {met}")
    median = medians["trajectory …/indicators/<key>"]
    print(
        f"target < 50 ms, trajectory page: {median:.1f} ms — {'met' if median < 50 else 'NOT met'}"
    )


def _busiest_indicator() -> str:
    """The key of the indicator with the most submitted values (the fullest trajectory)."""
    from tracker.reports.models import IndicatorValue

    key = db.session.scalar(
        sa.select(IndicatorValue.indicator_key)
        .group_by(IndicatorValue.indicator_key)
        .order_by(sa.func.count().desc(), IndicatorValue.indicator_key)
        .limit(1)
    )
    if key is None:
        raise SystemExit("the portfolio has no indicator values: rebuild it with this version")
    return key


def _indicator_task(key: str) -> int:
    from tracker.delivery.models import DeliveryPlan, Indicator

    return db.session.scalar(
        sa.select(DeliveryPlan.task_id)
        .join(Indicator, Indicator.plan_id == DeliveryPlan.id)
        .where(Indicator.key == key)
        .limit(1)
    )


if __name__ == "__main__":
    main()
