"""The cascade in a real browser over two real processes: the centre (gunicorn, SQLite) and
河北省 (gunicorn, the suite's database — PostgreSQL when TRACKER_TEST_DATABASE_URL names one).

Every person signs in on the login page of their own instance. The centre's administrator
registers 河北省 (and 山西省) and copies the token shown once; the province is served with it.
河北省's coordinator adopts 民发〔2019〕86号 **over the API** (the number typed on the page; the
upload of an exported file is tested in tests/federation/test_pages.py), maps the central
departments, breaks item 23 down; a county account enters its ledger counts. The liaisons'
filing runs as a script in the province's environment (as in test_two_instances); the
coordinator's 上报 is in the browser; the push is delivered by ``flask federation push`` (the
CLI, not the scheduler). The centre's coordinator sees 河北省 on 各地上报情况 with its lights
and the indicator totals, then a corrected revision and the change it made. A member's token
opens none of the centre's pages and reads no roll-up; 山西省's token cannot file for 河北省.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import time
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import db_backend
from tests.federation.instances import (
    CENTRE_SETUP,
    PROVINCE_SETUP,
    Served,
    centre_env,
    finish,
    province_env,
    start_script,
    start_setup,
)
from tests.federation.test_two_instances import (
    FILE_QUARTER,
    MATRIX,
    NUMBER,
    PASSWORD,
    PERIOD,
    _flask,
    _indicator_key,
    _post,
    _received,
)
from tracker.federation import wire
from tracker.periods import Period

pytestmark = pytest.mark.browser
LABEL = Period.parse(PERIOD).label


@pytest.fixture
def shot(app, page, tmp_path):
    """``shot("name")``: a full-page PNG of the page (or of ``on``) in the test's tmp dir
    and under test-artifacts/<backend>/."""
    folder = ARTIFACTS / db_backend(app)
    taken = []

    def take(name: str, on=None) -> None:
        path = tmp_path / "shots" / f"cascade-{len(taken) + 1:02d}-{name}.png"
        path.parent.mkdir(exist_ok=True)
        (on or page).screenshot(path=str(path), full_page=True)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.name)
        taken.append(path)

    return take


@pytest.fixture
def instances(tmp_path):
    """The centre set up and served; the province set up (served later, with its token)."""
    centre, province = centre_env(tmp_path), province_env(tmp_path)
    setups = [start_setup(centre, CENTRE_SETUP), start_setup(province, PROVINCE_SETUP)]
    for process in setups:
        finish(process)
    served: dict[str, Served] = {"centre": Served(centre, tmp_path / "centre.log")}
    try:
        yield {"centre": served["centre"], "province": province, "served": served,
               "centre_db": tmp_path / "centre.sqlite3", "tmp": tmp_path}  # fmt: skip
    finally:
        for server in served.values():
            server.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation(wait_until="load"):
        page.click("button[type=submit]")
    expect(page.locator("form[action='/logout'] button")).to_be_visible()


def _sign_out(page) -> None:
    page.click("form[action='/logout'] button")
    page.wait_for_url("**/login")


def _get(url: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _register(page, code: str, name: str) -> str:
    page.fill("#code", code)
    page.fill("#name", name)
    page.select_option("#level", "provincial")
    page.click("button:has-text('登记并签发令牌')")
    expect(page.locator(".flash")).to_contain_text(f"已登记 {name}")
    token = page.locator("#new-token pre.token").inner_text().strip()
    assert token.startswith("fed_")
    return token


def test_the_cascade_from_a_county_to_the_centre(page, browser, instances, shot):
    centre, province, centre_db = instances["centre"], instances["province"], instances["centre_db"]

    # -- the centre's administrator registers 河北省 and 山西省; each token shown once --------
    _sign_in(page, centre.base, "wang")
    page.goto(f"{centre.base}/federation/members")
    token = _register(page, "130000", "河北省")
    province.update({"TRACKER_UPSTREAM_URL": centre.base, "TRACKER_UPSTREAM_TOKEN": token})
    hebei = instances["served"]["province"] = Served(
        province, instances["tmp"] / "province.log", background=True
    )  # starts while the administrator goes on
    shot("centre-member-token-once")
    other_token = _register(page, "140000", "山西省")
    page.goto(f"{centre.base}/federation/members")  # the token is not shown again
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator("#member-list")).to_contain_text("河北省")
    shot("centre-members")
    _sign_out(page)

    hebei.ready()

    # -- 河北省's coordinator adopts over the API, maps, breaks item 23 down -------------------
    _sign_in(page, hebei.base, "li")
    page.goto(f"{hebei.base}/federation")
    expect(page.locator("#this-instance")).to_contain_text("省级")
    expect(page.locator("#adoptions")).to_contain_text("尚未采纳上级文件")
    shot("province-federation-index")
    page.fill("#number", NUMBER)
    with page.expect_navigation():
        page.click("#adoptions button[type=submit]")
    expect(page.locator(".flash")).to_contain_text(f"已采纳 {NUMBER}")
    shot("province-adopted")
    page.select_option("select[name=map-mca]", label="河北省民政厅")
    page.select_option("select[name=map-acwf]", label="河北省妇女联合会")
    with page.expect_navigation():
        page.click("#mapping button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("部门对应关系已保存")
    item = page.locator("#items tr[data-item='23']")
    expect(item).to_contain_text("省民政厅")
    shot("province-mapped")
    item.locator("a:has-text('分解')").click()
    page.fill("#text", "石家庄、唐山两市先行建立县级留守妇女信息台账")
    page.select_option("#lead", label="河北省民政厅")
    page.select_option("#supporting", label="河北省妇女联合会")
    shot("province-break-down-form")
    with page.expect_navigation():
        page.click("button:has-text('保存子任务')")
    expect(page.locator(".flash")).to_contain_text("已分解第23项")
    expect(page.locator("#items")).to_contain_text("（分解）")
    shot("province-broken-down")
    _sign_out(page)
    # the liaisons file item 23 (everything else waived) while the county enters its counts
    key = _indicator_key(centre_db)
    filing = start_script(province, FILE_QUARTER, PERIOD, key, "30", "100")

    # -- a county account enters item 23's ledger counts ---------------------------------------
    _sign_in(page, hebei.base, "chang-an")
    expect(page.locator("h1")).to_contain_text("长安区（130102）")
    page.goto(f"{hebei.base}/counties/mine?period={PERIOD}")  # the quarter the province reports
    expect(page.locator("h1")).to_contain_text(f"长安区（130102）· {LABEL}")
    # item 23's five ledger indicators, mapped to 省民政厅: 已完成摸底排查的县 asked 是 / 否
    # (stored 1), the four counts of people typed
    page.locator("#county-values select").select_option(label="是")
    fields = page.locator("#county-values input[inputmode=numeric]")
    assert fields.count() == 4
    for n in range(4):
        fields.nth(n).fill(str(11 + n))
    # item 23's indicators are counted by counties: the county's count goes up, not what the
    # departments filed (docs/federation.md, "The county ledger in the roll-up")
    people = _second_indicator_key(centre_db)
    page.locator(f"#county-values input[name=v_{people}]").fill("13")
    page.click("#county-values button[type=submit], #county-values input[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已保存长安区")
    shot("county-values-saved")
    _sign_out(page)

    # -- the liaisons file (a script), the coordinator reports up in the browser ---------------
    finish(filing)
    _sign_in(page, hebei.base, "li")
    page.goto(f"{hebei.base}/federation")
    page.click(f"#adoptions a:has-text('{NUMBER}')")
    page.fill("#period", PERIOD)
    with page.expect_navigation():
        page.click("#report-up button[type=submit]")
    expect(page.locator(".flash")).to_contain_text(f"{LABEL}第 1 版已进入上报队列")
    expect(page.locator("#pushes")).to_contain_text("待发送")
    shot("province-reported-up-queued")
    assert "送达 1" in _flask(province, "federation", "push").stdout
    ((revision, digest),) = _received(centre_db)
    assert revision == 1
    page.reload()
    receipt = f"HB-{PERIOD}-130000-r1-{digest[:8]}"
    expect(page.locator("#pushes .receipt")).to_have_text(receipt)
    shot("province-receipt")
    _sign_out(page)

    # -- the centre's coordinator sees 河北省 with its lights and totals -----------------------
    _sign_in(page, centre.base, "zhang")
    page.goto(f"{centre.base}/dashboard?period={PERIOD}")
    expect(page.locator("#provinces")).to_contain_text("共 2 个下级实例")
    # the quarter is not due yet: 河北省 is in time, 山西省 has time left
    expect(page.locator("#provinces")).to_contain_text("按时 1，迟报 0，逾期未报 0，未到期 1")
    shot("centre-dashboard")
    page.click("nav a:has-text('上下级联动')")
    expect(page.locator("#members")).to_contain_text("河北省（130000）")
    shot("centre-federation-index")
    page.click(f"#members a:has-text('{NUMBER}')")
    hebei_row = page.locator("#matrix tr[data-member='130000']")
    expect(hebei_row.locator("td[data-light=green]")).to_have_text("已报 第1版")
    expect(hebei_row.locator("td[data-item='23']")).to_have_text("● 5项指标")
    expect(hebei_row.locator("td[data-item='1']")).to_have_text("—")  # waived: nobody reported
    expect(page.locator("#matrix tr[data-member='140000'] td[data-light=red]")).to_have_text("未报")
    expect(page.locator(f"#totals tr[data-key='{key}'] td.total")).to_have_text("1")  # 是
    total = page.locator(f"#totals tr[data-key='{people}']")
    expect(total.locator("td.total")).to_have_text("13")
    expect(total).to_contain_text("河北省 13（100.0%）")
    expect(total).to_contain_text("县级台账 1/2 县")
    shot("centre-provinces-r1")
    hebei_row.locator("a:has-text('已报 第1版')").click()
    expect(page.locator("h1")).to_contain_text("河北省")
    expect(page.locator("main")).to_contain_text(receipt)
    name = _indicator_name(centre_db, people)
    expect(page.locator("section[data-item='23']")).to_contain_text(
        f"{name}：13（县级台账合计，1/2 县已报）"
    )
    expect(page.locator("#silent-items")).to_contain_text("第1项")
    shot("centre-rollup-r1")

    # -- a member's token opens no page of the centre and reads no roll-up ---------------------
    with_token = browser.new_context(
        locale="zh-CN", extra_http_headers={"Authorization": f"Bearer {token}"}
    )
    try:
        other = with_token.new_page()
        other.goto(f"{centre.base}{MATRIX}")
        expect(other).to_have_url(re.compile(r"/login"))
        shot("centre-member-token-is-no-sign-in", on=other)
    finally:
        with_token.close()
    rollup_id = re.search(r"/federation/rollups/(\d+)", page.url)[1]
    for path in ("/api/v1/federation/rollups", f"/api/v1/federation/rollups/{rollup_id}",
                 "/api/v1/tasks", f"/federation/rollups/{rollup_id}", MATRIX):  # fmt: skip
        status, text = _get(centre.base + path, other_token)
        assert status in (401, 404, 405) or 'name="password"' in text, (path, status, text[:200])
        assert receipt not in text and "河北省" not in text, path
    # 山西省's token cannot file for 河北省 (the body names 130000, the token 140000)
    body = wire.canonical({**_received_body(centre_db), "revision": 9})
    status, answer = _post(centre.base, wire.signed_headers(other_token, "140000", body,
                                                            time.time()), body)  # fmt: skip
    assert status == 400 and "130000" in answer["message"], answer
    assert [r for r, _ in _received(centre_db)] == [1]

    # -- a correction: the county corrects its count, revision 2 goes up, the centre shows it --
    _sign_in(page, hebei.base, "chang-an")
    page.goto(f"{hebei.base}/counties/mine?period={PERIOD}")
    page.locator(f"#county-values input[name=v_{people}]").fill("14")
    page.click("#county-values button[type=submit], #county-values input[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已保存长安区")
    _sign_out(page)
    _sign_in(page, hebei.base, "li")
    page.goto(f"{hebei.base}/federation")
    page.click(f"#adoptions a:has-text('{NUMBER}')")
    page.fill("#period", PERIOD)
    with page.expect_navigation():
        page.click("#report-up button[type=submit]")
    expect(page.locator(".flash")).to_contain_text(f"{LABEL}第 2 版已进入上报队列")
    assert "送达 1" in _flask(province, "federation", "push").stdout
    page.reload()
    expect(page.locator("#pushes .receipt")).to_have_count(2)
    shot("province-receipt-r2")
    _sign_out(page)
    _sign_in(page, centre.base, "zhang")
    page.goto(f"{centre.base}{MATRIX}")
    expect(hebei_row.locator("td[data-light=green]")).to_have_text("已报 第2版")
    expect(total.locator("td.total")).to_have_text("14")
    shot("centre-provinces-r2")
    hebei_row.locator("a:has-text('已报 第2版')").click()
    expect(page.locator("#changes")).to_contain_text(f"第23项 {name} · 指标 {people}：13 → 14")
    shot("centre-rollup-r2-changes")


def _second_indicator_key(centre_db) -> str:
    """Item 23's second indicator (registered left-behind women, a count of people)."""
    with sqlite3.connect(centre_db) as conn:
        return conn.execute(
            "select key from delivery_indicator order by position limit 1 offset 1"
        ).fetchone()[0]


def _indicator_name(centre_db, key: str) -> str:
    with sqlite3.connect(centre_db) as conn:
        name, unit = conn.execute(
            "select name, unit from delivery_indicator where key = ?", (key,)
        ).fetchone()
    return f"{name}（{unit}）"


def _received_body(centre_db) -> dict:
    """The body of the roll-up the centre holds (its own SQLite file)."""
    with sqlite3.connect(centre_db) as conn:
        return json.loads(conn.execute("select body from federation_rollup").fetchone()[0])
