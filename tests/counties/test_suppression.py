"""Small-cell suppression above county level: prefecture and province totals under
TRACKER_SMALL_COUNT_THRESHOLD are shown as "<N" on the totals page and in its export, while
the county sees its own exact value; totals come from exact values."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from tests.counties.conftest import county
from tracker.counties.services import set_county_values
from tracker.counties.suppression import shown
from tracker.extensions import db


@pytest.fixture
def filled(ledger):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    registered, hardship = indicators[1].key, indicators[2].key
    keeper = people["coordinator"]
    # 石家庄市: 3 + 4 = 7 registered (each county under 5), 1 + 1 = 2 in hardship.
    set_county_values(county("130102"), period, {registered: 3, hardship: 1}, actor=keeper)
    set_county_values(county("130104"), period, {registered: 4, hardship: 1}, actor=keeper)
    # 唐山市: 2 registered (a total under 5), 0 in hardship.
    set_county_values(county("130202"), period, {registered: 2, hardship: 0}, actor=keeper)
    db.session.commit()
    return ledger


def _row(page: str, name: str) -> list[str]:
    row = page.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
    return [cell.split("</td>", 1)[0] for cell in row.split('<td class="num">')[1:]]


def test_shown():
    assert [shown(None, 5), shown(0, 5), shown(4, 5), shown(5, 5), shown(12, 10)] == [
        "—", "<5", "<5", "5", "12"]  # fmt: skip


@pytest.mark.parametrize("who", ["coordinator", "leader", "admin"])
def test_totals_by_prefecture_are_suppressed(filled, client, login, who):
    login(filled["people"][who])
    period = filled["period"]
    page = client.get(f"/counties/totals?period={period.key}").get_data(as_text=True)
    shijiazhuang, tangshan, province = (_row(page, n) for n in ("石家庄市", "唐山市", "全省合计"))
    # columns: 县数, then the five indicators
    assert shijiazhuang[:4] == ["3", "—", "7（2县）", "&lt;5（2县）"]
    assert tangshan[:4] == ["2", "—", "&lt;5（1县）", "&lt;5（1县）"]
    assert province[:4] == ["5", "—", "9（3县）", "&lt;5（3县）"]
    assert "小于 5 的数（含合计）显示为“&lt;5”" in page
    for exact in ("3（", "4（", "2（1县"):
        assert f">{exact}" not in page


def test_the_threshold_is_configured_and_named_in_the_label(filled, client, login, app,
                                                            monkeypatch):  # fmt: skip
    monkeypatch.setitem(app.config, "TRACKER_SMALL_COUNT_THRESHOLD", 10)
    login(filled["people"]["leader"])
    page = client.get(f"/counties/totals?period={filled['period'].key}").get_data(as_text=True)
    assert _row(page, "全省合计")[2] == "&lt;10（3县）"
    assert _row(page, "石家庄市")[2] == "&lt;10（2县）"


def test_the_export_is_suppressed_and_read_back(filled, client, login):
    login(filled["people"]["leader"])
    period = filled["period"]
    response = client.get(f"/counties/totals.xlsx?period={period.key}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = {r[0]: list(r) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["石家庄市"][3:5] == ["7（2县）", "<5（2县）"]
    assert rows["唐山市"][3:5] == ["<5（1县）", "<5（1县）"]
    assert rows["全省合计"][4] == "<5（3县）"
    # No indicator cell shows an exact count under the threshold.
    cells = [str(c) for r in rows.values() for c in r[2:] if c is not None]
    assert cells and not any(re.match(r"[0-4]（", c) for c in cells)


def test_the_county_sees_its_exact_value(filled, client, login):
    people, indicators, period = filled["people"], filled["indicators"], filled["period"]
    login(people["chang_an"])
    page = client.get(f"/counties/{county('130102').id}/values?period={period.key}")
    text = page.get_data(as_text=True)
    assert f'name="v_{indicators[1].key}" type="text" value="3"' in text or 'value="3"' in text
    assert "&lt;5" not in text.split("<form", 1)[1]


@pytest.mark.parametrize("who", ["chang_an", "liaison", "security_admin", "auditor"])
def test_totals_are_for_the_province_level_only(filled, client, login, make_user, who):
    user = filled["people"].get(who) or make_user(who)
    login(user)
    assert client.get("/counties/totals").status_code == 403
    assert client.get("/counties/totals.xlsx").status_code == 403
