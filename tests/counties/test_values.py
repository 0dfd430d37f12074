"""County values: a county account enters its own county's counts only (403 elsewhere), bad
input is refused beside its field with the input kept, personal data is refused, every
write is audited; the province sees completeness; province_totals sums exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.counties.conftest import county, values_form
from tracker.audit.models import AuditEvent
from tracker.counties import queries
from tracker.extensions import db


def _values(code: str, period) -> dict[str, int]:
    return queries.values_of_county(county(code).id, period)


def test_county_account_enters_its_own_counts(ledger, client, login):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["chang_an"])
    mine = client.get("/counties/mine")
    assert mine.status_code == 302
    url = mine.headers["Location"]
    assert f"/counties/{county('130102').id}/values" in url
    assert client.get(url).status_code == 200
    response = client.post(
        f"/counties/{county('130102').id}/values?period={period.key}",
        data=values_form(indicators, v0="1", v1="1,234", v2="3"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _values("130102", period) == {indicators[0].key: 1, indicators[1].key: 1234,
                                         indicators[2].key: 3}  # fmt: skip
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "county.values")
    ).one()
    assert event.actor_id == people["chang_an"].id
    assert event.after["values"][indicators[1].key] == 1234
    assert event.before["values"][indicators[1].key] is None
    # The county sees its own exact value, small as it is (no "<5" at county level).
    page = client.get(url).get_data(as_text=True)
    assert 'value="3"' in page and "&lt;5" not in page
    # Clearing a field takes the value away (audited too).
    client.post(
        f"/counties/{county('130102').id}/values?period={period.key}",
        data=values_form(indicators, v0="1", v1="1,234"),
    )
    assert indicators[2].key not in _values("130102", period)
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "county.values")
    ) == 2  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_county_account_cannot_read_or_enter_another_county(ledger, client, login, method):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["chang_an"])
    other = county("130202")
    response = client.open(
        f"/counties/{other.id}/values?period={period.key}", method=method,
        data=values_form(indicators, v0="9") if method == "POST" else None,
    )  # fmt: skip
    assert response.status_code == 403
    assert _values("130202", period) == {}


def test_the_service_refuses_another_county_too(ledger):
    from tracker.counties.services import set_county_values
    from tracker.errors import NotAllowed

    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    with pytest.raises(NotAllowed):
        set_county_values(county("130202"), period, {indicators[0].key: 1},
                          actor=people["chang_an"])  # fmt: skip


@pytest.mark.parametrize("who", ["chang_an", "liaison", "leader", "admin"])
def test_only_coordinators_keep_the_exact_ledger(ledger, client, login, who):
    login(ledger["people"][who])
    assert client.get("/counties/ledger").status_code == 403
    assert client.get("/counties/ledger/template").status_code == 403


@pytest.mark.parametrize("path", ["/counties/totals", "/delivery", "/dashboard/scorecard"])
def test_county_account_reads_nothing_above_its_county(ledger, client, login, path):
    login(ledger["people"]["chang_an"])
    response = client.get(path)
    if path == "/dashboard/scorecard":  # those who read no progress go to their landing page
        assert response.status_code == 302
        home = client.get(response.headers["Location"])
        assert home.status_code == 302 and home.headers["Location"] == "/counties/mine"
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "只能填写 0 或正整数"),
        ("1.5", "只能填写 0 或正整数"),
        ("十二", "只能填写 0 或正整数"),
        ("1234567890123456", "数值过大"),
        ("13812345678", "手机号码"),
        ("11010519491231002X", "身份证号码"),
        ("1\x002", "只能填写 0 或正整数"),  # a NUL byte: refused beside the field, not a 400
    ],
)
def test_bad_input_is_refused_beside_its_field_and_kept(ledger, client, login, text, message):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["lu_nan"])
    response = client.post(
        f"/counties/{county('130202').id}/values?period={period.key}",
        data=values_form(indicators, v0="1", v1=text),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = page.split(f'id="v_{indicators[1].key}-error"', 1)[1].split("</small>", 1)[0]
    assert message in error
    if "\x00" not in text:
        assert f'value="{text}"' in page
    assert '<option selected value="1">是</option>' in page  # kept as chosen
    assert _values("130202", period) == {}
    assert "138******78" in page or message != "手机号码"


def test_coordinator_sees_completeness_and_missing_counties(ledger, client, login):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    login(people["chang_an"])
    client.post(f"/counties/{county('130102').id}/values?period={period.key}",
                data=values_form(indicators, v0="1", v1="40"))  # fmt: skip
    login(people["lu_nan"])
    client.post(f"/counties/{county('130202').id}/values?period={period.key}",
                data=values_form(indicators, v1="2"))  # fmt: skip
    login(people["coordinator"])
    page = client.get(f"/counties/ledger?period={period.key}").get_data(as_text=True)
    reported = page.split('id="reported"', 1)[1].split("</tr>", 1)[0]
    assert f'data-key="{indicators[0].key}">1 / 5' in reported
    assert f'data-key="{indicators[1].key}">2 / 5' in reported
    assert f'data-key="{indicators[4].key}">0 / 5' in reported
    total = page.split('id="sum"', 1)[1].split("</tr>", 1)[0]
    assert f'data-key="{indicators[1].key}">42<' in total  # exact on the keeper's page
    missing = page.split('id="missing"', 1)[1]
    line = missing.split(f'data-key="{indicators[0].key}">', 1)[1].split("</li>", 1)[0]
    assert "4 个县未报" in line and "路南区" in line and "长安区" not in line
    # A coordinator enters a county's values too (corrections from the province).
    response = client.post(f"/counties/{county('130105').id}/values?period={period.key}",
                           data=values_form(indicators, v0="1"))  # fmt: skip
    assert response.status_code == 302


def test_province_totals_are_exact_with_the_number_of_counties(ledger):
    from tracker.counties.services import set_county_values
    from tracker.periods import Period

    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    first, second = indicators[0].key, indicators[1].key
    coordinator = people["coordinator"]
    set_county_values(county("130102"), period, {first: 1, second: 3}, actor=coordinator)
    set_county_values(county("130202"), period, {second: 2}, actor=coordinator)
    set_county_values(county("130203"), period.previous(), {second: 100}, actor=coordinator)
    db.session.commit()
    totals = queries.province_totals([period, period.previous().key])
    assert totals[(first, period.key)] == queries.CountyTotal(total=1, counties_reporting=1)
    assert totals[(second, period.key)] == queries.CountyTotal(total=5, counties_reporting=2)
    assert totals[(second, period.previous().key)].total == 100
    assert (indicators[2].key, period.key) not in totals
    only = queries.province_totals([period], [first])
    assert set(only) == {(first, period.key)}
    assert queries.province_totals([Period(2001, 1)]) == {}


def test_a_county_answers_the_county_count_yes_or_no(ledger, client, login):
    """已完成摸底排查的县 counts counties: a county answers 是 / 否, stored as 1 / 0, so that
    the counties' values add up to how many counties have finished."""
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    finished = indicators[0]
    assert finished.name == "已完成摸底排查的县" and finished.yes_no
    assert not any(i.yes_no for i in indicators[1:])  # counts of people stay counts
    login(people["chang_an"])
    url = f"/counties/{county('130102').id}/values?period={period.key}"
    page = client.get(url).get_data(as_text=True)
    assert "本县是否已完成摸底排查" in page
    assert '<option value="1">是</option>' in page and '<option value="0">否</option>' in page
    assert client.post(url, data=values_form(indicators, v0="1")).status_code == 302
    assert _values("130102", period) == {finished.key: 1}
    page = client.get(url).get_data(as_text=True)
    assert '<option selected value="1">是</option>' in page
    login(people["lu_nan"])
    other = f"/counties/{county('130202').id}/values?period={period.key}"
    assert client.post(other, data=values_form(indicators, v0="0")).status_code == 302
    assert _values("130202", period) == {finished.key: 0}
    # a count other than 1 or 0 is no answer: refused beside the field, nothing saved
    refused = client.post(other, data=values_form(indicators, v0="2"))
    assert refused.status_code == 422
    assert "本县是否已完成摸底排查：请选择“是”或“否”" in refused.get_data(as_text=True)
    assert _values("130202", period) == {finished.key: 0}
    # and the province's total is the sum of the answers: one county of two
    assert queries.province_totals([period], [finished.key])[(finished.key, period.key)] == (
        queries.CountyTotal(total=1, counties_reporting=2)
    )


def test_the_service_refuses_a_county_count_above_one(ledger):
    from tracker.counties.services import set_county_values
    from tracker.errors import Invalid

    indicators, period = ledger["indicators"], ledger["period"]
    with pytest.raises(Invalid, match="只能填写“是”或“否”"):
        set_county_values(county("130102"), period, {indicators[0].key: 2},
                          actor=ledger["people"]["coordinator"])  # fmt: skip
    assert _values("130102", period) == {}
