"""The roll-up takes the county ledger: a county-counted indicator goes up as the counties'
exact total with where it came from (n of m counties); the departments' values for it are
not added. Without county values the roll-up is what it was (no ``counties`` field), and the
centre accepts both shapes and shows the source."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from tests.counties.conftest import COUNTIES
from tests.federation import test_province
from tests.federation.conftest import post_rollup, rollup_body
from tests.federation.test_province import _submit
from tracker.counties import services as county_services
from tracker.counties.models import County
from tracker.extensions import db
from tracker.federation import services, wire
from tracker.federation.models import ReceivedRollup
from tracker.periods import Period

quarter_filed = test_province.quarter_filed  # the fixture: item 23 filed on the province


@pytest.fixture
def ledger_province(quarter_filed, app, monkeypatch, make_user):
    """The filed province with its five counties; 省民政厅 is the county department."""
    monkeypatch.setitem(app.config, "TRACKER_COUNTY_DEPARTMENT", "hb-mca")
    county_services.import_counties(COUNTIES, actor=None)
    db.session.commit()
    adoption, key, filed = quarter_filed
    _submit(filed, "hb-acwf", "hb-mca", "hb-mps")
    keys = [i["key"] for i in adoption.content["plans"][0]["indicators"]]
    assert keys[0] == key
    return adoption, keys, make_user("coordinator", "hb-mca")


def _enter(coordinator, code: str, values: dict[str, int]) -> None:
    county = db.session.scalar(sa.select(County).where(County.code == code))
    county_services.set_county_values(county, Period(2024, 3), values, actor=coordinator)
    db.session.commit()


def _item_23(push) -> dict:
    body = wire.Rollup.model_validate_json(push.body)
    (item,) = [i for i in body.items if i.item_number == 23]
    return {i.key: i for i in item.indicators}


def test_county_totals_win_for_a_county_counted_indicator(ledger_province):
    adoption, keys, coordinator = ledger_province
    # keys[0] is 已完成摸底排查的县: each county answers 是 (1) or 否 (0)
    _enter(coordinator, "130102", {keys[0]: 1, keys[1]: 3})
    _enter(coordinator, "130202", {keys[0]: 1})
    push = services.report_up(adoption, "2024Q3", actor=None)
    db.session.commit()
    values = _item_23(push)
    # the departments said 30 + 100 + 7 for keys[0]: the counties' 1 + 1 is what goes up
    assert values[keys[0]].value == "2"
    assert values[keys[0]].counties == wire.CountySource(reporting=2, of=5)
    # no department reported keys[1]; one county did: it goes up too, 1 of 5
    assert values[keys[1]].value == "3"
    assert values[keys[1]].counties == wire.CountySource(reporting=1, of=5)
    assert set(values) == {keys[0], keys[1]}  # nobody reported the other three
    assert '"counties":{"of":5,"reporting":2}' in push.body  # canonical bytes, signed as is


def test_without_county_values_the_departments_values_go_up_in_the_old_shape(ledger_province):
    adoption, keys, _ = ledger_province
    push = services.report_up(adoption, "2024Q3", actor=None)
    db.session.commit()
    values = _item_23(push)
    assert {k: v.value for k, v in values.items()} == {keys[0]: "137"}  # 30 + 100 + 7
    assert "counties" not in push.body  # byte for byte what a province sent before


def test_a_value_taken_away_falls_back_to_the_departments(ledger_province):
    adoption, keys, coordinator = ledger_province
    _enter(coordinator, "130102", {keys[0]: 1})
    first = _item_23(services.report_up(adoption, "2024Q3", actor=None))
    _enter(coordinator, "130102", {keys[0]: None})
    second = _item_23(services.report_up(adoption, "2024Q3", actor=None))
    assert first[keys[0]].value == "1" and second[keys[0]].value == "137"
    assert second[keys[0]].counties is None


def test_the_wire_takes_both_shapes_and_refuses_a_wrong_source():
    plain = {"key": "k1", "value": "12"}
    assert wire.IndicatorReport.model_validate(plain).counties is None
    sourced = wire.IndicatorReport.model_validate({**plain, "counties": {"reporting": 2, "of": 5}})
    assert sourced.counties == wire.CountySource(reporting=2, of=5)
    for wrong in (
        {"reporting": 6, "of": 5},  # more counties reporting than there are
        {"reporting": 0, "of": 5},  # a county total needs a county
        {"reporting": 1, "of": 5, "names": ["长安区"]},  # nothing else travels
        {"reporting": "2", "of": 5},  # not coerced
    ):
        with pytest.raises(ValidationError):
            wire.IndicatorReport.model_validate({**plain, "counties": wrong})


def test_the_centre_accepts_both_shapes_and_shows_where_a_value_came_from(
    client, member, make_user, login
):
    _, token = member
    old = rollup_body(value="120")
    assert post_rollup(client, token, old).status_code == 201
    new = rollup_body(2, value="21")
    new["items"][0]["indicators"][0]["counties"] = {"reporting": 2, "of": 5}
    answer = post_rollup(client, token, new)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["digest"] == wire.sha256_hex(wire.canonical(new))
    wrong = rollup_body(3, value="21")
    wrong["items"][0]["indicators"][0]["counties"] = {"reporting": 9, "of": 5}
    assert post_rollup(client, token, wrong).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedRollup)) == 2

    login(make_user("coordinator", "mca"))
    page = client.get(
        "/federation/provinces", query_string={"document": "民发〔2019〕86号", "period": "2024Q3"}
    ).get_data(as_text=True)
    assert '<td class="total">21</td>' in page  # the latest revision: the counties' total
    assert "河北省 21（100.0%）" in page and "〔县级台账 2/5 县〕" in page
    rollup_id = db.session.scalar(sa.select(ReceivedRollup.id).where(ReceivedRollup.revision == 2))
    page = client.get(f"/federation/rollups/{rollup_id}").get_data(as_text=True)
    assert "21（县级台账合计，2/5 县已报）" in page and "120 → 21" in page
