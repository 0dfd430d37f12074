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
from tracker.counties.sheets import CountyRow
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
    # columns: 县数, then the five indicators. 唐山市's 2 is suppressed alone in its column, so
    # 石家庄市's 7 is hidden too: shown, 9 − 7 would give 唐山市's 2 back.
    assert shijiazhuang[:4] == ["3", "—", "×（2县）", "&lt;5（2县）"]
    assert tangshan[:4] == ["2", "—", "&lt;5（1县）", "&lt;5（1县）"]
    assert province[:4] == ["5", "—", "9（3县）", "&lt;5（3县）"]
    assert "小于 5 的数（含合计）显示为“&lt;5”" in page
    for exact in ("3（", "4（", "2（1县", "7（"):
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
    assert rows["石家庄市"][3:5] == ["×（2县）", "<5（2县）"]
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


# Real counties of 河北省 (GB/T 2260): 辛集市 and 定州市 are administered by the province
# directly, each the only county under its own heading, as a province lists them.
HEBEI = [
    CountyRow("130102", "长安区", "石家庄市"),
    CountyRow("130104", "桥西区", "石家庄市"),
    CountyRow("130105", "新华区", "石家庄市"),
    CountyRow("130181", "辛集市", "辛集市"),
    CountyRow("130202", "路南区", "唐山市"),
    CountyRow("130203", "路北区", "唐山市"),
    CountyRow("130302", "海港区", "秦皇岛市"),
    CountyRow("130303", "山海关区", "秦皇岛市"),
    CountyRow("130682", "定州市", "定州市"),
]
# registered (信息台账登记的农村留守妇女) and disabled (其中残疾的) per county
FIGURES = {
    "130102": (812, 12), "130104": (655, 9), "130105": (540, 7), "130181": (3, 0),
    "130202": (430, 6), "130203": (380, 4), "130302": (505, 8), "130303": (260, 1),
    "130682": (1120, 2),
}  # fmt: skip


@pytest.fixture
def hebei(ledger):
    from tracker.counties.services import import_counties

    import_counties(HEBEI, actor=None)
    db.session.commit()
    registered, disabled = ledger["indicators"][1].key, ledger["indicators"][3].key
    for code, (r, d) in FIGURES.items():
        set_county_values(county(code), ledger["period"], {registered: r, disabled: d},
                          actor=ledger["people"]["coordinator"])  # fmt: skip
    db.session.commit()
    return ledger


def _table(page: str) -> dict[str, list[str]]:
    return {name: _row(page, name) for name in
            ("石家庄市", "辛集市", "唐山市", "秦皇岛市", "定州市", "全省合计")}  # fmt: skip


def test_complementary_suppression_on_real_counties(hebei, client, login):
    """辛集市 reports 3 registered women, alone in its heading: its total is that county's
    figure, under 5, so suppressed. Alone suppressed in the column, it could be had back as
    the province's 4,705 minus the other four; so the smallest other (秦皇岛市, 765) is hidden
    too. Where two or more are small already (其中残疾的: 辛集市 0, 定州市 2), nothing more is
    hidden. Prefectures are listed in the order of their codes."""
    login(hebei["people"]["leader"])
    page = client.get(f"/counties/totals?period={hebei['period'].key}").get_data(as_text=True)
    table = _table(page)
    # columns: 县数, 已完成摸底排查的县, registered, 其中生活困难的, 其中残疾的, 其中患重病的
    registered = {name: cells[2] for name, cells in table.items()}
    assert registered == {
        "石家庄市": "2,007（3县）", "辛集市": "&lt;5（1县）", "唐山市": "810（2县）",
        "秦皇岛市": "×（2县）", "定州市": "1,120（1县）", "全省合计": "4,705（9县）",
    }  # fmt: skip
    # what is shown no longer gives 辛集市's 3 back by subtraction
    shown = [int(v.split("（")[0].replace(",", "")) for n, v in registered.items()
             if n not in ("辛集市", "秦皇岛市", "全省合计")]  # fmt: skip
    assert 4705 - sum(shown) == 3 + 765  # only the two hidden cells' sum
    disabled = {name: cells[4] for name, cells in table.items()}
    assert disabled == {
        "石家庄市": "28（3县）", "辛集市": "&lt;5（1县）", "唐山市": "10（2县）",
        "秦皇岛市": "9（2县）", "定州市": "&lt;5（1县）", "全省合计": "49（9县）",
    }  # fmt: skip
    order = re.findall(r'<th scope="row">([^<]+)</th>', page)
    assert order == ["石家庄市", "辛集市", "唐山市", "秦皇岛市", "定州市", "全省合计"]
    # and the export shows the same
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/counties/totals.xlsx?period={hebei['period'].key}").data)
    ).active
    rows = {r[0]: list(r) for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["辛集市"][3] == "<5（1县）" and rows["秦皇岛市"][3] == "×（2县）"


@pytest.mark.parametrize(
    ("values", "hidden"),
    [
        ([3, 810, 2007, 765, 1120], {3}),  # one small: the next smallest is hidden too
        ([3, 2, 2007, 765], set()),  # two small already: their sum alone is known
        ([3, None, 2007, 9, 9], {3}),  # ties: the first; nobody reported is no candidate
        ([3, None, None], set()),  # the total is the small one itself, suppressed as small
        ([12, 40, 7], set()),  # nothing small
    ],
)
def test_protected_picks_the_next_smallest(app, values, hidden):
    from tracker.counties.suppression import protected

    assert protected(values, 5) == hidden


def test_the_totals_workbook_prints_on_one_page_width(filled, client, login):
    login(filled["people"]["leader"])
    data = client.get(f"/counties/totals.xlsx?period={filled['period'].key}").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    setup = sheet.page_setup  # fitted to one page wide (Excel omits the default width 1)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
    assert (setup.fitToWidth or 1, int(setup.fitToHeight)) == (1, 0)
    assert sheet.print_title_rows == "$2:$2"  # the headers on every page
    assert "A1:G1" in {str(r) for r in sheet.merged_cells.ranges}  # the title across
    # title, headers, 石家庄市, 唐山市, 全省合计, a blank row, the rule
    assert sheet.print_area == "'县级台账汇总'!$A$1:$G$7"
    assert all(sheet.column_dimensions[c].width >= 12 for c in "ACDEFG")
    assert "补充隐藏" in sheet.cell(7, 1).value
