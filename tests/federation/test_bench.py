"""``bench/cascade.py`` runs at a tiny size, so that it cannot rot: it builds both instances on
SQLite (and on the suite's PostgreSQL when ``TRACKER_TEST_DATABASE_URL`` names one), prints
every figure beside its floor, and the centre's roll-ups are what real receipts store."""

from __future__ import annotations

import os
import re
import sqlite3
import sys

from tests.processes import REPO, fresh_database_url, run

FIGURES = [
    "centre /dashboard, cold",
    "centre /dashboard, warm",
    "provinces matrix /federation/provinces",
    "receive: receive_rollup() + commit",
    "receive: HTTP POST of a signed roll-up",
    "county ledger /counties/ledger",
    "roll-up build build_rollup()",
]
FLOORS = [
    "bare dashboard aggregate (SQL only)",
    "bare matrix reads (SQL only)",
    "bare INSERT of one roll-up (SQL only)",
    "bare ledger reads (SQL only)",
    "bare roll-up reads (SQL only)",
]
NUMBER = r"[0-9]+\.[0-9]"


def test_the_cascade_bench_builds_both_instances_and_prints_each_figure_beside_its_floor(
    tmp_path,
):
    args = [
        sys.executable, str(REPO / "bench" / "cascade.py"), "--provinces", "2", "--quarters",
        "2", "--counties", "3", "--runs", "2", "--sqlite", str(tmp_path),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "PYTEST_"))}
    databases = ["SQLite"]
    if "postgresql" in os.environ.get("TRACKER_TEST_DATABASE_URL", ""):
        args += ["--postgresql", fresh_database_url(tmp_path, "cascade_bench")]
        databases.append("PostgreSQL")
    output = run(args, env=env, cwd=REPO, timeout=600).stdout
    tables = output.split("\nMedians and 95th percentiles")[1]
    sections = re.split(r"\n(?=SQLite |PostgreSQL )", tables)[1:]
    assert [s.split()[0] for s in sections] == databases
    for section in sections:
        assert "2 members, 4 roll-ups received through receive_rollup" in section
        assert "3 counties × 23 county indicators × 2 quarters" in section
        assert "roll-up of" in section and ": 23 items" in section
        for label in FLOORS:
            assert re.search(rf"{re.escape(label)} +{NUMBER} +{NUMBER} +\(floor\)", section), label
        for label in FIGURES:
            line = re.search(
                rf"{re.escape(label)} +({NUMBER}) +{NUMBER} +({NUMBER}) +({NUMBER})(.*)", section
            )
            assert line, label
            median, floor = float(line[1]), float(line[2])
            assert median > 0 and floor > 0
            assert re.search(r"< [0-9]+ ms.*: (met|NOT met)", line[4]), label
    assert re.search(r"\n(every target met|some target NOT met)\n", output)

    # The centre's roll-ups are stored as receipts store them: each with its audit event and
    # its receipt number; only the bench's own bare INSERTs (receipt "bench") have none.
    centre = sqlite3.connect(tmp_path / "centre.sqlite3")
    try:
        received = centre.execute(
            "SELECT receipt, digest, revision FROM federation_rollup WHERE receipt != 'bench'"
        ).fetchall()
        events = centre.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'federation.rollup_receive'"
        ).fetchone()[0]
    finally:
        centre.close()
    # built (2 members × 2 quarters), then 3 warm-up and 2 timed service calls and POSTs
    assert len(received) == events == 4 + 2 * (3 + 2)
    assert all(
        re.fullmatch(rf"HB-[0-9]{{4}}Q[1-4]-[0-9]{{6}}-r{revision}-{digest[:8]}", receipt)
        for receipt, digest, revision in received
    )
    counted = int(re.search(r"= ([0-9,]+) county counts", sections[0])[1].replace(",", ""))
    province = sqlite3.connect(tmp_path / "province.sqlite3")
    try:
        stored = province.execute("SELECT count(*) FROM county_value").fetchone()[0]
    finally:
        province.close()
    assert 0 < stored == counted <= 3 * 23 * 2
