"""Two real instances on loopback ports, each with its own database: the centre on an SQLite
file, the province on the suite's database (PostgreSQL when TRACKER_TEST_DATABASE_URL names
one). The province adopts over the API, maps, files and consolidates its quarter, pushes it;
the centre's matrix shows it; the centre stopped during a push → queued → delivered exactly
once after it restarts; a tampered and a replayed push are refused."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.processes import (
    REPO,
    Session,
    free_port,
    instance_env,
    run,
    stop,
    wait_for_http,
)
from tracker.federation import wire

PASSWORD = "Cascade-test-2026!"
NUMBER = "民发〔2019〕86号"
PERIOD = "2026Q4"
MATRIX = f"/federation/provinces?document={urllib.parse.quote(NUMBER)}&period={PERIOD}"

# Run inside the province's own environment: its liaisons file item 23 (the lead's report
# carries what its supporting department sent), everything else is waived: consolidated.
FILE_QUARTER = """
import sys
from decimal import Decimal
import sqlalchemy as sa
from tracker import create_app
from tracker.auth.services import create_user
from tracker.catalogue.models import Department, Task
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services
from tracker.reports.models import Obligation, ProgressStatus

app = create_app()
with app.app_context():
    services.open_period(Period.parse(sys.argv[1]))
    key = sys.argv[2]
    values = {"hb-acwf": Decimal(sys.argv[3]), "hb-mca": Decimal(sys.argv[4])}
    task = db.session.scalar(sa.select(Task).where(Task.number == 23))
    filed = set()
    for code in ("hb-acwf", "hb-mca"):
        dept = db.session.scalar(sa.select(Department).where(Department.code == code))
        ob = db.session.scalar(sa.select(Obligation).where(
            Obligation.task_id == task.id, Obligation.department_id == dept.id))
        user = create_user(f"liaison-{code}", role="liaison", password="Cascade-test-2026!",
                           department=dept)
        report = services.save_draft(ob, services.ReportInput(
            status=ProgressStatus.IN_PROGRESS, progress=f"{dept.short_name}：全省摸排完成",
            indicator_values={key: values[code]}), actor=user, expected_version=None)
        services.submit_report(report, actor=user)
        filed.add(ob.id)
    for other in db.session.scalars(sa.select(Obligation).where(Obligation.id.not_in(filed))):
        other.waived, other.waiver_reason = True, "本季度不涉及"
    db.session.commit()
"""


def _flask(env, *args, input=None):
    return run([sys.executable, "-m", "flask", "--app", "tracker", *args], env=env, cwd=REPO,
               input=input)  # fmt: skip


def _serve(env, port, log_path):
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--worker-class", "gthread", "--threads", "2", "tracker:create_app()"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=30, process=process)
    return process


def _post(base: str, headers: dict, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + "/api/v1/federation/rollups", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def cascade(tmp_path):
    """The centre (seeded, item 23's plan, 河北省 registered, a coordinator) serving, and the
    province's environment pointing at it."""
    common = {"TRACKER_TOTP_REQUIRED_ROLES": "", "TRACKER_SIGNOFF_REQUIRED": "false",
              "TRACKER_RATELIMIT_ENABLED": "false"}  # fmt: skip
    centre = {**instance_env(tmp_path, "centre"), **common}
    centre_db = tmp_path / "centre.sqlite3"
    centre["TRACKER_DATABASE_URL"] = f"sqlite:///{centre_db}"
    _flask(centre, "db", "upgrade")
    _flask(centre, "seed")
    _flask(centre, "delivery", "seed")
    _flask(centre, "user", "create", "zhang", "--role", "coordinator", "--department", "民政部",
           "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    out = _flask(centre, "federation", "add-member", "--code", "130000", "--name", "河北省").stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("fed_"), out
    port = free_port()
    server = _serve(centre, port, tmp_path / "centre.log")
    base = f"http://127.0.0.1:{port}"
    province = {
        **instance_env(tmp_path, "province"), **common,
        "TRACKER_INSTANCE_LEVEL": "provincial", "TRACKER_INSTANCE_CODE": "130000",
        "TRACKER_INSTANCE_NAME": "河北省", "TRACKER_UPSTREAM_URL": base,
        "TRACKER_UPSTREAM_TOKEN": token, "TRACKER_FIRST_PERIOD": PERIOD,
        "TRACKER_MAIL_RETRY_SECONDS": "1",
    }  # fmt: skip
    _flask(province, "db", "upgrade")
    holder = {"server": server}
    try:
        yield {"centre": centre, "centre_db": centre_db, "base": base, "port": port,
               "province": province, "token": token, "holder": holder, "tmp": tmp_path}  # fmt: skip
    finally:
        stop(holder["server"])


def _indicator_key(centre_db) -> str:
    with sqlite3.connect(centre_db) as conn:
        return conn.execute(
            "select key from delivery_indicator order by position limit 1"
        ).fetchone()[0]


def _received(centre_db) -> list[tuple[int, str]]:
    with sqlite3.connect(centre_db) as conn:
        return conn.execute(
            "select revision, digest from federation_rollup order by revision"
        ).fetchall()


def test_adopt_map_file_push_and_the_centre_sees_the_province(cascade):
    province, centre_db, base = cascade["province"], cascade["centre_db"], cascade["base"]
    for code, name in (("hb-mca", "河北省民政厅"), ("hb-acwf", "河北省妇女联合会")):
        _flask(province, "department", "create", code, name)
    assert "已采纳" in _flask(province, "federation", "adopt", "--number", NUMBER).stdout
    _flask(province, "federation", "map", NUMBER, "--central", "mca", "--department", "hb-mca")
    _flask(province, "federation", "map", NUMBER, "--central", "acwf", "--department", "hb-acwf")
    key = _indicator_key(centre_db)
    run([sys.executable, "-c", FILE_QUARTER, PERIOD, key, "30", "100"], env=province, cwd=REPO)
    _flask(province, "federation", "report-up", NUMBER, "--period", PERIOD)
    assert "送达 1" in _flask(province, "federation", "push").stdout
    ((revision, digest),) = _received(centre_db)
    assert revision == 1

    # the province shows the centre's receipt
    out = run([sys.executable, "-c", RECEIPTS], env=province, cwd=REPO).stdout
    assert f"HB-{PERIOD}-130000-r1-{digest[:8]}" in out

    # the centre's matrix: 河北省 filed, item 23's indicator total 130 (30 + 100), its share
    session = Session(base)
    status, _ = session.sign_in("zhang", PASSWORD)
    assert status == 200
    status, page = session.get(MATRIX)
    assert status == 200, page[:300]
    assert "河北省" in page and "已报 第1版" in page
    row = re.search(rf'data-key="{key}">(.*?)</tr>', page, re.S)
    assert row and '<td class="total">130</td>' in row[1] and "河北省 130（100.0%）" in row[1]

    # the centre stops during a push of a corrected revision: it waits, then goes exactly once
    stop(cascade["holder"]["server"])
    run([sys.executable, "-c", FILE_CORRECTION, key, "140"], env=province, cwd=REPO)
    _flask(province, "federation", "report-up", NUMBER, "--period", PERIOD)
    assert "待重试 1" in _flask(province, "federation", "push").stdout
    assert len(_received(centre_db)) == 1
    cascade["holder"]["server"] = _serve(
        cascade["centre"], cascade["port"], cascade["tmp"] / "centre.log"
    )
    time.sleep(1.2)  # the back-off of the first failed attempt (TRACKER_MAIL_RETRY_SECONDS)
    assert "送达 1" in _flask(province, "federation", "push").stdout
    assert "送达 0" in _flask(province, "federation", "push").stdout  # nothing left to send
    assert [r for r, _ in _received(centre_db)] == [1, 2]
    status, page = session.get(MATRIX)
    assert "已报 第2版" in page
    rollup_id = re.search(r'/federation/rollups/(\d+)">已报 第2版', page)[1]
    status, page = session.get(f"/federation/rollups/{rollup_id}")
    assert f"指标 {key}：130 → 140" in page

    # the same bytes again (a resend after a lost answer): the original receipt, nothing new
    body = run([sys.executable, "-c", LAST_BODY], env=province, cwd=REPO).stdout.encode()
    token = cascade["token"]
    status, receipt = _post(base, wire.signed_headers(token, "130000", body, time.time()), body)
    assert status == 200 and receipt["duplicate"] is True and receipt["revision"] == 2
    # tampered: one byte of the signed body changed
    tampered = body.replace(b"140", b"999")
    status, answer = _post(base, wire.signed_headers(token, "130000", body, time.time()), tampered)
    assert status == 401 and "签名" in answer["message"]
    # replayed: a captured request sent again after the window
    old = wire.signed_headers(token, "130000", body, time.time() - 301)
    status, answer = _post(base, old, body)
    assert status == 401 and "重放" in answer["message"]
    assert [r for r, _ in _received(centre_db)] == [1, 2]


RECEIPTS = """
from tracker import create_app
from tracker.federation import queries
app = create_app()
with app.app_context():
    for a in queries.adoptions():
        for p in queries.pushes(a):
            print(p.revision, p.status.value, (p.receipt or {}).get("receipt"))
"""

FILE_CORRECTION = """
import sys
from decimal import Decimal
import sqlalchemy as sa
from tracker import create_app
from tracker.extensions import db
from tracker.reports.models import IndicatorValue
app = create_app()
with app.app_context():
    value = db.session.scalar(sa.select(IndicatorValue).where(
        IndicatorValue.indicator_key == sys.argv[1]).order_by(IndicatorValue.id.desc()).limit(1))
    value.value = Decimal(value.value) + (Decimal(sys.argv[2]) - Decimal(130))
    db.session.commit()
"""

LAST_BODY = """
import sqlalchemy as sa
from tracker import create_app
from tracker.extensions import db
from tracker.federation.models import PushMessage
app = create_app()
with app.app_context():
    push = db.session.scalar(sa.select(PushMessage).order_by(PushMessage.revision.desc()).limit(1))
    print(push.body, end="")
"""
