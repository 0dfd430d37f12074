"""The ledger's pages read a fixed number of queries whatever the number of counties."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import QueryCounter
from tests.counties.conftest import county
from tracker.counties.services import import_counties, set_county_values
from tracker.counties.sheets import CountyRow
from tracker.extensions import db


def _queries(client, url) -> int:
    counter = QueryCounter()
    sa.event.listen(db.engine, "before_cursor_execute", counter)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", counter)
    return counter.count


def test_pages_do_not_grow_with_the_counties(ledger, client, login):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    urls = [f"/counties/ledger?period={period.key}", f"/counties/totals?period={period.key}"]
    set_county_values(county("130102"), period, {indicators[0].key: 1}, actor=people["coordinator"])
    db.session.commit()
    login(people["coordinator"])
    for url in urls:
        client.get(url)
    before = {url: _queries(client, url) for url in urls}
    more = [CountyRow(f"1303{n:02d}", f"测试县{n}", f"测试市{n % 4}") for n in range(1, 41)]
    import_counties(more, actor=None)
    for row in more:
        values = {i.key: n for n, i in enumerate(indicators)}
        set_county_values(county(row.code), period, values, actor=people["coordinator"])
    db.session.commit()
    after = {url: _queries(client, url) for url in urls}
    assert after == before
    page = client.get(urls[0]).get_data(as_text=True)
    assert 'data-county="130340"' in page and "41 / 45" in page
