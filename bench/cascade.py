"""Benchmark the cascade at China's scale: the centre and 32 provinces, a province and 150 counties.

Builds, on SQLite and (with ``--postgresql``) on PostgreSQL, two instances one after the other:

- **the centre**: the seed document 民发〔2019〕86号 (23 items), an approved plan per item (one
  milestone, one ledger indicator that 民政部 reports), the central departments' own reports
  over ``--quarters`` quarters (as ``flask demo-data`` writes them, in bulk), and ``--provinces``
  member provinces (the 31 provinces and the 兵团) each with a roll-up of every item for every
  quarter — received through :func:`tracker.federation.services.receive_rollup`, so each row is
  exactly what a real receipt stores (validated body, digest, receipt, audit event); one in
  ten quarters also has a corrected revision 2;
- **a province** (河北省): its own departments, the centre's export adopted and mapped (the
  plans copied with their keys), its departments' reports over the same quarters, ``--counties``
  counties and their ledger counts of every county indicator (23: one per item) in every
  quarter (bulk inserts; about 2% of the counts missing, so completeness has work to do).

It then prints the median and 95th percentile of each figure beside the floor it rests on,
measured in the same run, and whether the target is met:

- the centre's ``/dashboard`` (cold: the answer cache emptied before each request) beside the
  bare dashboard aggregate (:func:`tracker.dashboard.queries.aggregate_query`, SQL only) —
  target under 100 ms and within 3× of it;
- the provinces matrix ``/federation/provinces`` beside its bare reads (the items, the latest
  revision of each member's roll-up, the compact items of those revisions, the milestones in
  force, the members, the indicators in force; SQL only) — target under 100 ms and within 3×
  of them;
- receiving one province's quarterly roll-up as the **HTTP POST** of a signed roll-up (token,
  signature, parsing, the checks against the document, storage, audit, commit), and the same
  through the service call alone, beside a bare ``INSERT`` of the row and its compact items —
  target under 1 s;
- the province's county ledger ``/counties/ledger`` (counties × indicators with completeness)
  beside its bare reads — target under 100 ms, as for every list page — and the province's
  roll-up build (:func:`tracker.federation.queries.build_rollup`, one quarter, every item)
  beside its bare reads — target under 1 s, as it runs inside the 上报 request — with the
  county totals' one ``GROUP BY`` (:func:`tracker.counties.queries.province_totals`) for
  reference: the roll-up does not read the county counts yet (docs/federation.md, "Not yet").

A signed-in page that reads almost nothing (``/account/sessions``) is measured too: what any
page costs before its own reads (session, account, menus, layout), to read the ratios by.

    .venv/bin/python bench/cascade.py                                   # SQLite only
    .venv/bin/python bench/cascade.py \\
        --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/tracker_bench_cascade
    .venv/bin/python bench/cascade.py --provinces 3 --quarters 2 --counties 5 --runs 3  # quick

The PostgreSQL database (``--postgresql``, else ``TRACKER_BENCH_POSTGRESQL``) is emptied first
(its schema dropped), once for the centre and once for the province: give a scratch one.
Server time is one request through the WSGI application in this process (Flask's test client:
routing, sign-in, queries, rendering; no network).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dashboard import PASSWORD, busiest_day, p95, timed  # noqa: E402

from tracker import clock, create_app  # noqa: E402
from tracker.db import without_hash_joins  # noqa: E402
from tracker.extensions import db  # noqa: E402

# GB/T 2260 codes of the 31 provinces and the 新疆生产建设兵团 (660000).
PROVINCES = [
    ("110000", "北京市"), ("120000", "天津市"), ("130000", "河北省"), ("140000", "山西省"),
    ("150000", "内蒙古自治区"), ("210000", "辽宁省"), ("220000", "吉林省"),
    ("230000", "黑龙江省"), ("310000", "上海市"), ("320000", "江苏省"), ("330000", "浙江省"),
    ("340000", "安徽省"), ("350000", "福建省"), ("360000", "江西省"), ("370000", "山东省"),
    ("410000", "河南省"), ("420000", "湖北省"), ("430000", "湖南省"), ("440000", "广东省"),
    ("450000", "广西壮族自治区"), ("460000", "海南省"), ("500000", "重庆市"),
    ("510000", "四川省"), ("520000", "贵州省"), ("530000", "云南省"), ("540000", "西藏自治区"),
    ("610000", "陕西省"), ("620000", "甘肃省"), ("630000", "青海省"), ("640000", "宁夏回族自治区"),
    ("650000", "新疆维吾尔自治区"), ("660000", "新疆生产建设兵团"),
]  # fmt: skip
PROVINCE = {"code": "130000", "name": "河北省", "level": "provincial"}
PREFIX = "hb-"  # the province's department codes: hb-mca, hb-mps, …
BATCH = 5000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provinces", type=int, default=32, help="member provinces (≤ 32)")
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--counties", type=int, default=150, help="counties of the province")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per figure")
    parser.add_argument("--sqlite", type=Path, help="folder of the SQLite files (default: scratch)")
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("TRACKER_BENCH_POSTGRESQL"),
        help="URL of a scratch PostgreSQL database (default: $TRACKER_BENCH_POSTGRESQL)",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    if not 1 <= args.provinces <= len(PROVINCES):
        parser.error(f"--provinces must be between 1 and {len(PROVINCES)}")
    if args.quarters < 1 or args.counties < 1 or args.runs < 1:
        parser.error("--quarters, --counties and --runs must be at least 1")
    return args


@dataclass
class Figure:
    """One measured figure: median and p95 wall milliseconds, the floor it is compared with
    (a label, None for a floor itself) and its target (None: measured for reference)."""

    label: str
    median: float
    p95: float
    cpu: float  # median process CPU milliseconds (SQLite's work included, PostgreSQL's not)
    floor: str | None = None
    target_ms: float | None = None
    max_ratio: float | None = None


@dataclass
class Run:
    database: str
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def measure(
        self, label: str, call: Callable[[], object], runs: int, floor: str | None = None,
        target_ms: float | None = None, max_ratio: float | None = None,
    ) -> Figure:  # fmt: skip
        wall, cpu = timed(call, runs)
        figure = Figure(label, statistics.median(wall), p95(wall) if runs > 1 else wall[0],
                        statistics.median(cpu), floor, target_ms, max_ratio)  # fmt: skip
        self.figures.append(figure)
        print(f"  {label:44} {figure.median:9.1f} ms", flush=True)
        return figure

    def floor_of(self, figure: Figure) -> Figure | None:
        return next((f for f in self.figures if f.label == figure.floor), None)

    def verdict(self, figure: Figure) -> str:
        if figure.target_ms is None:
            return ""
        met = figure.median < figure.target_ms
        floor = self.floor_of(figure)
        if figure.max_ratio is not None and floor is not None:
            met = met and figure.median <= figure.max_ratio * floor.median
        return "met" if met else "NOT met"


# -- the two instances -------------------------------------------------------------------------


def make_app(url: str, folder: Path, **config: str):
    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "TRACKER_UPLOAD_DIR": str(folder),
            "RATELIMIT_ENABLED": False,
            # The bench accounts sign in with a password alone (a second factor is the
            # deployed default for coordinators; it does not change what a view costs).
            "TRACKER_TOTP_REQUIRED_ROLES": "",
            **config,
        }
    )


def migrate(app) -> None:
    """An empty database migrated to head (a PostgreSQL scratch database's schema dropped)."""
    from flask_migrate import upgrade

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))
        upgrade()


def describe(app) -> str:
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        return f"PostgreSQL {db.session.scalar(sa.text('SHOW server_version'))}"


def signed_in(app, username: str, department_code: str) -> Any:
    """A signed-in test client of a coordinator of ``department_code``."""
    from tracker.auth.services import create_user, resolve_department

    with app.app_context():
        create_user(username, role="coordinator", password=PASSWORD,
                    department=resolve_department(department_code))  # fmt: skip
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def quarters(last: Any, count: int) -> list[Any]:
    found = [last]
    while len(found) < count:
        found.append(found[-1].previous())
    return found[::-1]


def add_plans(rng: random.Random, periods: list[Any]) -> None:
    """An approved plan per item of the seed document: its lead's (else its first
    department's), one milestone and one indicator summed over the item's departments, which
    民政部 reports too (so that every item has a county ledger column)."""
    from tracker.catalogue.models import Department, Task
    from tracker.delivery.models import (
        Combine,
        DeliveryPlan,
        Direction,
        Indicator,
        Milestone,
        PlanState,
    )

    mca = db.session.scalar(sa.select(Department).where(Department.code == "mca"))
    decided = datetime.combine(periods[0].start, clock_time(9), tzinfo=clock.zone())
    for task in db.session.scalars(sa.select(Task).order_by(Task.number)):
        parts = sorted(task.assignments, key=lambda a: (a.role.value != "lead", a.position))
        owner = parts[0].department_id
        plan = DeliveryPlan(
            task_id=task.id, department_id=owner, number=1, state=PlanState.APPROVED,
            proposed_at=decided, decided_at=decided,
        )  # fmt: skip
        plan.milestones.append(
            Milestone(
                key=f"{rng.getrandbits(64):016x}",
                position=0,
                title=f"第{task.number}项阶段性任务完成",
                department_id=owner,
                due_period=rng.choice(periods).key,
            )
        )
        plan.indicators.append(
            Indicator(
                key=f"{rng.getrandbits(64):016x}", position=0, name=f"第{task.number}项覆盖的县",
                unit="个", direction=Direction.HIGHER, baseline_value=Decimal(0),
                baseline_date=periods[0].start - timedelta(days=30),
                target_value=Decimal(rng.choice((500, 1500, 2800))),
                target_date=periods[-1].end + timedelta(days=365), combine=Combine.SUM,
                department_ids=sorted({a.department_id for a in parts} | {mca.id}),
            )
        )  # fmt: skip
        db.session.add(plan)
    db.session.flush()


def add_reports(rng: random.Random, periods: list[Any]) -> int:
    """Every assignment's obligation in every quarter, and reports as departments file them
    (with their plan's indicator values and milestone statuses), written in bulk as
    ``flask demo-data`` writes its own; returns the number of reports."""
    from tracker.catalogue.models import Assignment
    from tracker.dashboard import demo
    from tracker.delivery.models import DeliveryPlan, PlanState

    assignments = [
        (a.id, a.task_id, a.department_id, a.role)
        for a in db.session.scalars(sa.select(Assignment).order_by(Assignment.id))
    ]
    plans = demo.DemoPlans({}, {})
    for plan in db.session.scalars(
        sa.select(DeliveryPlan).where(DeliveryPlan.state == PlanState.APPROVED)
    ):
        for m in plan.milestones:
            plans.milestones.setdefault(plan.task_id, []).append(
                demo.DemoMilestone(m.id, m.key, m.department_id, m.due_period)
            )
        for i in plan.indicators:
            plans.indicators.setdefault(plan.task_id, []).append(
                demo.DemoIndicator(
                    i.id,
                    i.key,
                    frozenset(i.department_ids),
                    i.combine,
                    int(i.baseline_value),
                    int(i.target_value),
                    i.baseline_date,
                    i.target_date,
                )
            )
    departments = {a[2] for a in assignments}
    diligence = {d: (rng.uniform(0.7, 0.97), 0.0) for d in departments}
    summary = demo.DemoSummary(periods=[p.key for p in periods])
    now = clock.utcnow()
    for index, period in enumerate(periods):
        demo._quarter(rng, period, index, assignments, diligence, now, summary, plans)
    return summary.reports


def rollup_body(export: dict[str, Any], code: str, name: str, period: str, revision: int,
                rng: random.Random) -> dict[str, Any]:  # fmt: skip
    """A province's quarter as its instance builds it: every central item, its narrative,
    each milestone's status, each indicator's value, the units that reported."""
    plans: dict[int, list[dict[str, Any]]] = {}
    for plan in export["plans"]:
        plans.setdefault(plan["item_number"], []).append(plan)
    items = []
    for item in export["items"]:
        mine = plans.get(item["number"], [])
        items.append(
            {
                "item_number": item["number"],
                "narrative": f"{name}{period}第{item['number']}项：各地按计划推进，"
                "完成阶段性工作，已汇总各部门进展。",
                "milestones": [
                    {"key": m["key"], "status": rng.choice(("done", "partly", "not_done")),
                     "note": ""}
                    for p in mine for m in p["milestones"]
                ],
                "indicators": [
                    {"key": i["key"], "value": str(rng.randint(0, 200))}
                    for p in mine for i in p["indicators"]
                ],
                "units_reporting": rng.randint(1, 4),
            }
        )  # fmt: skip
    return {
        "format": "tracker.rollup/1",
        "instance": {"code": code, "name": name, "level": "provincial"},
        "document_number": export["document"]["number"],
        "period": period,
        "revision": revision,
        "submitted_at": "2026-01-10T02:00:00+00:00",
        "items": items,
    }


def build_centre(app, args, run: Run) -> dict[str, Any]:
    """The centre: the seed document with plans and reports, the members and their roll-ups
    received one by one through the service; returns the document's export."""
    from tracker.catalogue.seedfile import read_seed_file
    from tracker.catalogue.services import apply_seed
    from tracker.federation import queries, services, wire
    from tracker.reports import queries as report_queries

    migrate(app)
    rng = random.Random(20191)
    started = time.perf_counter()
    with app.app_context():
        apply_seed(read_seed_file(ROOT / "tasks_seed.yaml"))
        periods = quarters(report_queries.current_period(), args.quarters)
        add_plans(rng, periods)
        reports = add_reports(rng, periods)
        db.session.commit()
        from tracker.catalogue.queries import document_by_number

        document = document_by_number("民发〔2019〕86号")
        export = queries.export_document(document)
        members = []
        for code, name in PROVINCES[: args.provinces]:
            member, _ = services.add_member(code, name, "provincial", actor=None)
            members.append(member)
        db.session.commit()
        received = 0
        for member in members:
            for n, period in enumerate(periods):
                for revision in (1, 2) if (n + int(member.code[:2])) % 10 == 0 else (1,):
                    body = rollup_body(export, member.code, member.name, period.key, revision, rng)
                    data = wire.canonical(body)
                    services.receive_rollup(member, data, wire.Rollup.model_validate_json(data))
                    received += 1
            db.session.commit()
    run.notes.append(
        f"centre: {len(periods)} quarters ({periods[0].key}–{periods[-1].key}), {reports:,} "
        f"central reports, {args.provinces} members, {received:,} roll-ups received through "
        f"receive_rollup; built in {time.perf_counter() - started:.0f} s"
    )
    print(f"  {run.notes[-1]}", flush=True)
    return export


def measure_centre(app, args, run: Run, export: dict[str, Any]) -> None:
    from tracker.catalogue.models import Task
    from tracker.dashboard import queries
    from tracker.dashboard.queries.cache import answer_cache
    from tracker.delivery.models import DeliveryPlan, Indicator, Milestone, PlanState
    from tracker.federation import services, wire
    from tracker.federation.models import MemberInstance, ReceivedRollup, RollupItem
    from tracker.reports import queries as report_queries

    client = signed_in(app, "bench-coordinator", "mca")
    number = export["document"]["number"]
    with app.app_context():
        period = report_queries.current_period()
        document_id = db.session.scalar(sa.select(Task.document_id).limit(1))

    def bare_aggregate() -> None:
        with app.app_context():
            scope = queries.make_scope(period, snapshot=None)
            with without_hash_joins(db.session):  # as the dashboard runs it
                db.session.execute(queries.aggregate_query(scope)).all()

    def page(url: str, *, cold: bool = False) -> Callable[[], None]:
        def call() -> None:
            if cold:  # a view that finds nothing cached, as after a write or on a new day
                with app.app_context():
                    answer_cache().clear()
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return call

    def bare_matrix() -> None:
        """The matrix's reads, SQL only: items, each member's latest revision (id and
        revision), the compact items of those revisions (units reporting, done milestone keys,
        indicator values: the JSON columns parsed, as any read of them must), the milestones
        in force, the members, the indicators of the plans in force."""
        r = ReceivedRollup
        with app.app_context():
            db.session.execute(
                sa.select(Task.id, Task.number).where(Task.document_id == document_id)
            ).all()
            latest = (
                sa.select(r.member_id, sa.func.max(r.revision).label("revision"))
                .where(r.document_number == number, r.period == period.key)
                .group_by(r.member_id)
                .subquery()
            )
            ids = list(
                db.session.scalars(
                    sa.select(r.id)
                    .join(
                        latest,
                        sa.and_(latest.c.member_id == r.member_id, latest.c.revision == r.revision),
                    )
                    .where(r.document_number == number, r.period == period.key)
                )
            )
            db.session.execute(
                sa.select(RollupItem.rollup_id, RollupItem.item_number,
                          RollupItem.units_reporting, RollupItem.done, RollupItem.indicators)
                .where(RollupItem.rollup_id.in_(ids))
                .order_by(RollupItem.rollup_id, RollupItem.position)
            ).all()  # fmt: skip
            db.session.execute(
                sa.select(DeliveryPlan.task_id, Milestone.key, Milestone.due_period)
                .join(DeliveryPlan, Milestone.plan_id == DeliveryPlan.id)
                .join(Task, DeliveryPlan.task_id == Task.id)
                .where(Task.document_id == document_id, DeliveryPlan.state == PlanState.APPROVED)
            ).all()
            db.session.execute(sa.select(MemberInstance.id, MemberInstance.name)).all()
            db.session.execute(
                sa.select(Task.number, Indicator.key, Indicator.name, Indicator.combine)
                .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
                .join(Task, DeliveryPlan.task_id == Task.id)
                .where(Task.document_id == document_id, DeliveryPlan.state == PlanState.APPROVED)
            ).all()

    aggregate, matrix_reads = "bare dashboard aggregate (SQL only)", "bare matrix reads (SQL only)"
    run.measure(aggregate, bare_aggregate, args.runs)
    # What any signed-in page costs before its own reads (session, account, menus, layout).
    run.measure("any signed-in page: /account/sessions", page("/account/sessions"), args.runs,
                aggregate)  # fmt: skip
    run.measure("centre /dashboard, cold", page("/dashboard", cold=True), args.runs, aggregate,
                100, 3)  # fmt: skip
    run.measure("centre /dashboard, warm", page("/dashboard"), args.runs, aggregate, 100, 3)
    run.measure(matrix_reads, bare_matrix, args.runs)
    matrix = f"/federation/provinces?document={number}&period={period.key}"
    run.measure("provinces matrix /federation/provinces", page(matrix), args.runs, matrix_reads,
                100, 3)  # fmt: skip

    # Receiving: one province's roll-up of the quarter, each run a new revision (a correction).
    code, name = PROVINCES[0]
    rng = random.Random(7)
    raw = f"{services.TOKEN_PREFIX}_benchpfx_{'x' * 43}"
    with app.app_context():
        member = db.session.scalar(sa.select(MemberInstance).where(MemberInstance.code == code))
        member.prefix, member.token_hash = "benchpfx", wire.token_digest(raw)  # a known token
        db.session.commit()
        member_id = member.id
        revision = [
            db.session.scalar(
                sa.select(sa.func.max(ReceivedRollup.revision)).where(
                    ReceivedRollup.member_id == member_id, ReceivedRollup.period == period.key
                )
            )
            or 0
        ]

    def next_body() -> bytes:
        revision[0] += 1
        return wire.canonical(rollup_body(export, code, name, period.key, revision[0], rng))

    def bare_insert() -> None:
        """The row and its compact items, as a receipt stores them (SQL only)."""
        data = next_body()
        with app.app_context():
            body = wire.Rollup.model_validate_json(data).model_dump(mode="json")
            rollup_id = db.session.execute(
                sa.insert(ReceivedRollup.__table__).returning(ReceivedRollup.id),
                {"member_id": member_id, "document_number": number, "period": period.key,
                 "revision": revision[0], "digest": wire.sha256_hex(data), "receipt": "bench",
                 "body": body, "received_at": clock.utcnow()},
            ).scalar_one()  # fmt: skip
            db.session.execute(sa.insert(RollupItem.__table__), RollupItem.rows_of(rollup_id, body))
            db.session.commit()

    def service_call() -> None:
        data = next_body()
        with app.app_context():
            found = db.session.get(MemberInstance, member_id)
            _, duplicate = services.receive_rollup(
                found, data, wire.Rollup.model_validate_json(data)
            )
            db.session.commit()
        assert not duplicate

    def post() -> None:
        data = next_body()
        headers = wire.signed_headers(raw, code, data, time.time())
        response = app.test_client().post("/api/v1/federation/rollups", data=data,
                                          headers=headers)  # fmt: skip
        assert response.status_code == 201, (response.status_code, response.get_data(True))

    insert = "bare INSERT of one roll-up (SQL only)"
    run.measure(insert, bare_insert, args.runs)
    run.measure("receive: receive_rollup() + commit", service_call, args.runs, insert, 1000)
    run.measure("receive: HTTP POST of a signed roll-up", post, args.runs, insert, 1000)


def build_province(app, args, run: Run, export: dict[str, Any]) -> None:
    """The province: its departments, the export adopted and mapped, reports, counties and
    their ledger counts (bulk)."""
    from tracker.catalogue.models import Department
    from tracker.catalogue.seedfile import read_seed_file
    from tracker.counties import queries as county_queries
    from tracker.counties.models import County, CountyValue
    from tracker.federation import services
    from tracker.reports import queries as report_queries

    migrate(app)
    rng = random.Random(13)
    started = time.perf_counter()
    with app.app_context():
        seed = read_seed_file(ROOT / "tasks_seed.yaml")
        local = {}
        for n, central in enumerate(seed.departments):
            department = Department(
                code=PREFIX + central.code, name=f"河北省{central.name}",
                short_name=f"省{central.short_name}"[:32], position=n,
            )  # fmt: skip
            db.session.add(department)
            local[central.code] = department
        db.session.flush()
        adoption = services.adopt(services.read_export(export), actor=None)
        services.map_departments(adoption, local, actor=None)
        periods = quarters(report_queries.current_period(), args.quarters)
        reports = add_reports(rng, periods)
        db.session.commit()
        indicators = county_queries.county_indicators()
        county_rows = [
            {"code": f"13{p + 1:02d}{c + 1:02d}", "name": f"第{p + 1}市第{c + 1}县",
             "prefecture": f"第{p + 1}市", "created_at": clock.utcnow()}
            for p, c in ((n // 14, n % 14) for n in range(args.counties))
        ]  # fmt: skip
        db.session.execute(sa.insert(County.__table__), county_rows)
        county_ids = list(db.session.scalars(sa.select(County.id)))
        ledger = quarters(county_queries.default_period(), args.quarters)
        values = [
            {"county_id": c, "indicator_key": i.key, "period": q.key,
             "value": rng.randint(0, 400), "source": "template", "entered_at": clock.utcnow()}
            for q in ledger for c in county_ids for i in indicators
            if rng.random() >= 0.02
        ]  # fmt: skip
        for start in range(0, len(values), BATCH):
            db.session.execute(sa.insert(CountyValue.__table__), values[start : start + BATCH])
        db.session.commit()
    run.notes.append(
        f"province: {reports:,} provincial reports over {len(periods)} quarters, "
        f"{len(county_ids)} counties × {len(indicators)} county indicators × {len(ledger)} "
        f"quarters = {len(values):,} county counts (2% left unreported); built in "
        f"{time.perf_counter() - started:.0f} s"
    )
    print(f"  {run.notes[-1]}", flush=True)


def measure_province(app, args, run: Run) -> None:
    from tracker.counties import queries as county_queries
    from tracker.counties.models import County, CountyValue
    from tracker.delivery.models import DeliveryPlan, Indicator, PlanState
    from tracker.federation import queries
    from tracker.reports import queries as report_queries
    from tracker.reports.models import IndicatorValue, MilestoneStatus, Obligation, Report

    client = signed_in(app, "bench-province", PREFIX + "mca")
    with app.app_context():
        ledger_period = county_queries.default_period()
        period = report_queries.current_period().previous()
        adoption_id = queries.adoptions()[0].id
        task_ids = [item.task_id for item in queries.adoption(adoption_id).items]

    def bare_ledger() -> None:
        """The ledger's reads, SQL only: the counties, the indicators in force, the counts."""
        with app.app_context():
            db.session.execute(
                sa.select(County.id, County.code, County.name, County.prefecture).order_by(
                    County.code
                )
            ).all()
            db.session.execute(
                sa.select(Indicator.key, Indicator.name, Indicator.department_ids)
                .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
                .where(DeliveryPlan.state == PlanState.APPROVED)
            ).all()
            db.session.execute(
                sa.select(
                    CountyValue.county_id, CountyValue.indicator_key, CountyValue.value
                ).where(CountyValue.period == ledger_period.key)
            ).all()

    def ledger_page() -> None:
        response = client.get(f"/counties/ledger?period={ledger_period.key}")
        assert response.status_code == 200, response.status_code

    def totals() -> None:
        with app.app_context():
            county_queries.province_totals([ledger_period])

    def bare_build() -> None:
        """The roll-up's reads, SQL only: the quarter's submitted reports of the adopted
        items, their indicator values and milestone statuses."""
        with app.app_context():
            ids = list(db.session.scalars(
                sa.select(Report.id)
                .join(Obligation, Report.obligation_id == Obligation.id)
                .where(Obligation.task_id.in_(task_ids), Obligation.period == period.key,
                       Report.state.in_(queries.SUBMITTED))
            ))  # fmt: skip
            db.session.execute(
                sa.select(IndicatorValue.report_id, IndicatorValue.indicator_key,
                          IndicatorValue.value).where(IndicatorValue.report_id.in_(ids))
            ).all()  # fmt: skip
            db.session.execute(
                sa.select(MilestoneStatus.report_id, MilestoneStatus.milestone_key,
                          MilestoneStatus.progress).where(MilestoneStatus.report_id.in_(ids))
            ).all()  # fmt: skip

    items = [0]

    def build() -> None:
        with app.app_context():
            body = queries.build_rollup(queries.adoption(adoption_id), period.key, 1)
            items[0] = len(body["items"])

    ledger_reads, build_reads = "bare ledger reads (SQL only)", "bare roll-up reads (SQL only)"
    run.measure(ledger_reads, bare_ledger, args.runs)
    run.measure("county ledger /counties/ledger", ledger_page, args.runs, ledger_reads, 100)
    run.measure("province_totals (one quarter, GROUP BY)", totals, args.runs, ledger_reads)
    run.measure(build_reads, bare_build, args.runs)
    run.measure("roll-up build build_rollup()", build, args.runs, build_reads, 1000)
    run.notes.append(f"roll-up of {period.key}: {items[0]} items")


# -- the run -----------------------------------------------------------------------------------


def run_database(label: str, centre_url: str, province_url: str, folder: Path, args) -> Run:
    centre = make_app(centre_url, folder)
    run = Run(describe(centre))
    print(f"\n{run.database}: building the centre …", flush=True)
    export = build_centre(centre, args, run)
    measure_centre(centre, args, run, export)
    with centre.app_context():
        db.session.remove()
        db.engine.dispose()
    province = make_app(
        province_url, folder, TRACKER_INSTANCE_LEVEL="provincial",
        TRACKER_INSTANCE_CODE=PROVINCE["code"], TRACKER_INSTANCE_NAME=PROVINCE["name"],
        TRACKER_UPSTREAM_URL="http://127.0.0.1:9", TRACKER_COUNTY_DEPARTMENT=PREFIX + "mca",
    )  # fmt: skip
    print(f"{run.database}: building the province …", flush=True)
    build_province(province, args, run, export)
    measure_province(province, args, run)
    with province.app_context():
        db.session.remove()
        db.engine.dispose()
    return run


def report(runs: list[Run], args) -> bool:
    """The table of every figure on every database; True when every target is met."""
    print(f"\nMedians and 95th percentiles of {args.runs} timed runs (wall ms, one request "
          f"through the WSGI application in this process), and the median process CPU ms (on "
          f"SQLite it includes the queries, on PostgreSQL not; a busy machine disturbs it less); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.")  # fmt: skip
    every = True
    for run in runs:
        print(f"\n{run.database}")
        for note in run.notes:
            print(f"  {note}")
        print(f"  {'what':44} {'median':>8} {'p95':>8} {'floor':>8} {'× floor':>8} "
              f"{'CPU':>6} {'× floor':>8}  target (on the wall-clock median)")  # fmt: skip
        for figure in run.figures:
            floor = run.floor_of(figure)
            if figure.floor is None:
                print(f"  {figure.label:44} {figure.median:8.1f} {figure.p95:8.1f} {'(floor)':>8} "
                      f"{'':8} {figure.cpu:6.1f}")  # fmt: skip
                continue
            assert floor is not None
            target = ""
            if figure.target_ms is not None:
                verdict = run.verdict(figure)
                every = every and verdict == "met"
                ratio = f" and ≤ {figure.max_ratio:g}× floor" if figure.max_ratio else ""
                target = f"< {figure.target_ms:g} ms{ratio}: {verdict}"
            print(
                f"  {figure.label:44} {figure.median:8.1f} {figure.p95:8.1f} "
                f"{floor.median:8.1f} {figure.median / floor.median:8.1f} {figure.cpu:6.1f} "
                f"{figure.cpu / max(floor.cpu, 0.1):8.1f}  {target}"
            )
    print(f"\n{'every target met' if every else 'some target NOT met'}")
    return every


def main() -> None:
    args = parse_args()
    moment = datetime.combine(busiest_day(), clock_time(15), tzinfo=ZoneInfo("Asia/Shanghai"))
    folder = args.sqlite or Path(tempfile.mkdtemp(prefix="tracker-bench-cascade-"))
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    with clock.frozen(moment):
        if not args.skip_sqlite:
            paths = [folder / "centre.sqlite3", folder / "province.sqlite3"]
            for path in paths:
                path.unlink(missing_ok=True)
            runs.append(run_database("SQLite", *(f"sqlite:///{p}" for p in paths), folder, args))
        if args.postgresql:
            runs.append(run_database("PostgreSQL", args.postgresql, args.postgresql, folder, args))
    if not runs:
        raise SystemExit("nothing to measure: --skip-sqlite without --postgresql")
    report(runs, args)


if __name__ == "__main__":
    main()
