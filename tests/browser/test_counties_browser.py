"""In a real browser: a county account enters its county's counts, a wrong one first (kept,
the message beside its field), then correctly; the province's coordinator sees the ledger
with completeness and the leader the totals by prefecture with small counts suppressed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.counties.conftest import build_ledger, county
from tracker.counties.services import set_county_values
from tracker.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture
def ledger(seeded, make_user):
    return build_ledger(make_user)


def test_a_county_enters_its_counts_and_the_province_sees_completeness(
    page,
    sign_out,
    live_server,
    ledger,
    sign_in,
    screenshot,
):
    people, indicators, period = ledger["people"], ledger["indicators"], ledger["period"]
    # Another county has reported already (from the province's template, say).
    set_county_values(county("130202"), period, {indicators[1].key: 12},
                      actor=people["coordinator"])  # fmt: skip
    db.session.commit()
    first, second = (f"#v_{indicators[n].key}" for n in (0, 1))

    sign_in(people["chang_an"])
    expect(page.locator("h1")).to_contain_text("长安区（130102）")
    # 已完成摸底排查的县 is one county's yes/no question, sent as the count 1
    expect(page.locator(f"label[for='{first[1:]}']")).to_have_text("本县是否已完成摸底排查")
    page.select_option(first, label="是")
    page.fill(second, "-3")
    page.click("#county-values button[type=submit], #county-values input[type=submit]")
    expect(page.locator(f"{second}-error")).to_contain_text("只能填写 0 或正整数")
    assert page.input_value(second) == "-3" and page.input_value(first) == "1"  # kept
    screenshot("counties-value-refused")
    page.fill(second, "37")
    page.click("#county-values button[type=submit], #county-values input[type=submit]")
    expect(page.locator(".flash")).to_contain_text("已保存长安区")
    assert page.input_value(second) == "37"
    sign_out()

    sign_in(people["coordinator"])
    page.goto(f"{live_server}/counties/ledger?period={period.key}")
    reported = page.locator("#reported")
    expect(reported.locator(f"[data-key='{indicators[1].key}']")).to_have_text("2 / 5")
    expect(reported.locator(f"[data-key='{indicators[0].key}']")).to_have_text("1 / 5")
    expect(page.locator(f"#sum [data-key='{indicators[1].key}']")).to_have_text("49")
    expect(page.locator(f"#missing [data-key='{indicators[0].key}']")).to_contain_text("4 个县未报")
    screenshot("counties-ledger-completeness")
    sign_out()

    sign_in(people["leader"])
    page.goto(f"{live_server}/counties/totals?period={period.key}")
    province = page.locator("#province")
    expect(province).to_contain_text("49（2县）")
    expect(province).to_contain_text("<5（1县）")  # one county's 1: suppressed above it
    expect(page.locator("#totals")).to_contain_text("12（1县）")
    screenshot("counties-totals-suppressed")
