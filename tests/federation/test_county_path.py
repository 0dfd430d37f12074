"""The county path over three real app processes: the centre (its own SQLite file) and the
province served by two web processes on one database (the suite's: PostgreSQL when
TRACKER_TEST_DATABASE_URL names one) — one where the county accounts enter their counts, one
where the coordinator keeps the ledger and reports up. Counties are accounts inside the
provincial instance (docs/counties.md), so the third process is the province's second web
process, not a county instance of its own (docs/federation.md, *The county path*).

County values entered (also at the same moment on both processes) → the coordinator's
ledger → 上报 → push → the centre's matrix shows the province's county totals."""

from __future__ import annotations

import re
import sqlite3
import sys
import threading

import sqlalchemy as sa

from tests.federation import test_two_instances
from tests.federation.test_two_instances import (
    FILE_QUARTER,
    MATRIX,
    NUMBER,
    PASSWORD,
    PERIOD,
    _flask,
    _received,
    _serve,
)
from tests.processes import REPO, Session, free_port, run, stop
from tracker.counties.models import CountyValue

cascade = test_two_instances.cascade  # the fixture: the centre serving, the province's env

COUNTIES_CSV = """区划代码,名称,地市
130102,长安区,石家庄市
130104,桥西区,石家庄市
130105,新华区,石家庄市
130202,路南区,唐山市
130203,路北区,唐山市
"""

ASSIGN = """
import sys
import sqlalchemy as sa
from tracker import create_app
from tracker.auth.models import User
from tracker.counties import services
from tracker.counties.models import County
from tracker.extensions import db

app = create_app()
with app.app_context():
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    for pair in sys.argv[1:]:
        username, code = pair.split("=")
        user = db.session.scalar(sa.select(User).where(User.username == username))
        county = db.session.scalar(sa.select(County).where(County.code == code))
        services.assign_county(user, county, actor=admin)
    db.session.commit()
"""

FORM_ACTION = re.compile(r'id="county-values" action="([^"]+)"')


def _central_keys(centre_db) -> list[str]:
    with sqlite3.connect(centre_db) as conn:
        rows = conn.execute("select key from delivery_indicator order by position").fetchall()
    return [key for (key,) in rows]


def _values_page(session: Session, path: str) -> str:
    """Open a county's values page; the path its form posts to."""
    status, page = session.get(path)
    assert status == 200, page[:300]
    action = FORM_ACTION.search(page)
    assert action, page[:300]
    return action[1].replace("&amp;", "&")


def _enter(session: Session, action: str, values: dict[str, str]) -> tuple[int, str]:
    return session.post(action, {f"v_{key}": value for key, value in values.items()})


def test_counties_on_one_process_the_coordinator_on_another_the_centre_sees_the_totals(cascade):
    province, centre_db, tmp = cascade["province"], cascade["centre_db"], cascade["tmp"]
    province["TRACKER_COUNTY_DEPARTMENT"] = "hb-mca"  # 省民政厅 keeps the county ledger
    for code, name in (("hb-mca", "河北省民政厅"), ("hb-acwf", "河北省妇女联合会")):
        _flask(province, "department", "create", code, name)
    _flask(province, "federation", "adopt", "--number", NUMBER)
    _flask(province, "federation", "map", NUMBER, "--central", "mca", "--department", "hb-mca")
    _flask(province, "federation", "map", NUMBER, "--central", "acwf", "--department", "hb-acwf")
    keys = _central_keys(centre_db)
    # the departments file item 23 (30 and 100 for the first indicator), the rest is waived
    run([sys.executable, "-c", FILE_QUARTER, PERIOD, keys[0], "30", "100"], env=province, cwd=REPO)
    csv = tmp / "counties.csv"
    csv.write_text(COUNTIES_CSV, encoding="utf-8")
    _flask(province, "counties", "import", "--file", str(csv))
    for username, role, extra in (("li", "coordinator", ["--department", "hb-mca"]),
                                  ("admin", "admin", []), ("chang-an", "county", []),
                                  ("lu-nan", "county", [])):  # fmt: skip
        _flask(province, "user", "create", username, "--role", role, *extra, "--password-stdin",
               input=PASSWORD + "\n")  # fmt: skip
    run([sys.executable, "-c", ASSIGN, "chang-an=130102", "lu-nan=130202"], env=province, cwd=REPO)

    ports = {"coordinator": free_port(), "counties": free_port()}
    servers = {}
    engine = sa.create_engine(province["TRACKER_DATABASE_URL"])
    try:
        for name, port in ports.items():
            servers[name] = _serve(province, port, tmp / f"province-{name}.log")
        on = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        chang_an, lu_nan, li = (
            Session(on["counties"]),
            Session(on["counties"]),
            Session(on["coordinator"]),
        )
        for session, username in ((chang_an, "chang-an"), (lu_nan, "lu-nan"), (li, "li")):
            assert session.sign_in(username, PASSWORD)[0] == 200

        # the county accounts on the counties' process: their own county only
        mine = _values_page(chang_an, f"/counties/mine?period={PERIOD}")
        # keys[0] is 已完成摸底排查的县: each county answers 是 (1) or 否 (0)
        status, page = _enter(chang_an, mine, {keys[0]: "1", keys[1]: "1,234"})
        assert status == 200 and "已保存长安区" in page
        lu_nan_action = _values_page(lu_nan, f"/counties/mine?period={PERIOD}")
        assert chang_an.get(lu_nan_action)[0] == 403
        assert _enter(lu_nan, lu_nan_action, {keys[0]: "1"})[0] == 200

        # the coordinator on the other process opens 新华区 from the ledger, and both
        # processes write at the same moment: 新华区 (coordinator) and 路南区 twice over
        status, ledger = li.get(f"/counties/ledger?period={PERIOD}")
        assert status == 200
        xinhua = re.search(r'href="([^"]+)">新华区<', ledger)[1].replace("&amp;", "&")
        xinhua_action = _values_page(li, xinhua)
        other = Session(on["coordinator"])
        assert other.sign_in("li", PASSWORD)[0] == 200
        lu_nan_by_li = _values_page(other, lu_nan_action)
        _values_page(lu_nan, lu_nan_action)  # a fresh form (CSRF) for the county's own edit
        start, answers = threading.Barrier(3), {}

        def write(name, session, action, values):
            start.wait()
            answers[name] = _enter(session, action, values)

        writers = [
            threading.Thread(target=write, args=("xinhua", li, xinhua_action, {keys[0]: "1"})),
            threading.Thread(target=write, args=("lu-nan", lu_nan, lu_nan_action,
                                                 {keys[0]: "1", keys[1]: "66"})),
            threading.Thread(target=write, args=("li on lu-nan", other, lu_nan_by_li,
                                                 {keys[0]: "1", keys[1]: "77"})),
        ]  # fmt: skip
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(60)
        assert answers["xinhua"][0] == 200
        # the same county's value from both processes: both go in turn, or one wins the race
        # at the database and the other gets its form again with the lost race named (422),
        # never a 500 or a second row
        same = [answers["lu-nan"], answers["li on lu-nan"]]
        assert 200 in [status for status, _ in same]
        for status, page in same:
            assert status == 200 or (status == 422 and "刚被他人修改或创建" in page), page[:300]
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(CountyValue.county_id, CountyValue.indicator_key, CountyValue.value)
                .where(CountyValue.period == PERIOD)
            ).all()  # fmt: skip
        assert len(rows) == len({(c, k) for c, k, _ in rows}) == 5
        by_key: dict[str, list[int]] = {}
        for _, key, value in rows:
            by_key.setdefault(key, []).append(value)
        assert sorted(by_key[keys[0]]) == [1, 1, 1]
        (lu_nan_second,) = [v for v in by_key[keys[1]] if v != 1234]
        assert lu_nan_second in (66, 77)

        # the coordinator's ledger (its process) agrees: 3 / 5 counties, 3 in all
        status, ledger = li.get(f"/counties/ledger?period={PERIOD}")
        reported = re.search(r'<tr id="reported">(.*?)</tr>', ledger, re.S)[1]
        summed = re.search(r'<tr id="sum">(.*?)</tr>', ledger, re.S)[1]
        assert f'data-key="{keys[0]}">3 / 5<' in reported
        assert f'data-key="{keys[0]}">3<' in summed
        assert f'data-key="{keys[1]}">{1234 + lu_nan_second}<' in summed

        # 上报 on the coordinator's process, then the push
        status, page = li.get("/federation")
        adoption = re.search(r'href="(/federation/adoptions/\d+)"', page)[1]
        li.get(adoption)
        status, page = li.post(f"{adoption}/report", {"period": PERIOD})
        assert status == 200 and "已进入上报队列" in page, page[:500]
    finally:
        for server in servers.values():
            stop(server)
        engine.dispose()
    assert "送达 1" in _flask(province, "federation", "push").stdout
    assert [r for r, _ in _received(centre_db)] == [1]

    # the centre's matrix: the counties' totals, not the departments' 130, with their source
    session = Session(cascade["base"])
    assert session.sign_in("zhang", PASSWORD)[0] == 200
    status, page = session.get(MATRIX)
    assert status == 200 and "已报 第1版" in page
    first = re.search(rf'data-key="{keys[0]}">(.*?)</tr>', page, re.S)[1]
    assert '<td class="total">3</td>' in first and "河北省 3（100.0%）" in first
    assert "〔县级台账 3/5 县〕" in first
    second = re.search(rf'data-key="{keys[1]}">(.*?)</tr>', page, re.S)[1]
    assert f'<td class="total">{1234 + lu_nan_second}</td>' in second
    assert "〔县级台账 2/5 县〕" in second
