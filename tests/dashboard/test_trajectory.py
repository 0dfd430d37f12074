"""An indicator's trajectory page: baseline, each tracked quarter's value, planned line, target."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.dashboard.conftest import report_value
from tests.delivery.conftest import approved_plan, department, indicator, task
from tracker.delivery import services as delivery_services
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services
from tracker.reports.models import Obligation

Q3, Q4 = Period(2024, 3), Period(2024, 4)


@pytest.fixture
def people(seeded, make_user):
    return {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "other": make_user("liaison", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
    }


def _obligation(period: Period, code: str) -> Obligation:
    import sqlalchemy as sa

    return db.session.scalar(
        sa.select(Obligation).where(
            Obligation.task_id == task(23).id,
            Obligation.department_id == department(code).id,
            Obligation.period == period.key,
        )
    )


def _report(period, code, key, value, actor, *, submit=True):
    """The department's report of ``period`` carrying ``value`` for indicator ``key``."""
    report_value(_obligation(period, code), key, value, actor, submit=submit)


def _two_quarters(quarter):
    """Move on to 2025-01-05: 2024Q4 is being reported, 2024Q3 and 2024Q4 are tracked."""
    quarter.at("2025-01-05 10:00")
    services.open_period(Q4)
    db.session.commit()


def _planned(on: dt.date, target: int = 100) -> Decimal:
    """The line from 0 (2019-05-01) to ``target`` (2027-12-31) on ``on``, to 4 decimals."""
    start, end = dt.date(2019, 5, 1), dt.date(2027, 12, 31)
    share = Decimal(target) * (on - start).days / (end - start).days
    return share.quantize(Decimal("0.0001"))


def _whole(value: Decimal) -> Decimal:
    """Rounded half up to a whole number, as a count's planned value is shown."""
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def _rows(page: str) -> dict[str, dict[str, str]]:
    """The table's quarter rows: period key → {column (department code or role): text}."""
    rows = {}
    for key, body in re.findall(r'<tr data-period="(\w+)">(.*?)</tr>', page, re.S):
        cells = dict(re.findall(r'data-(?:department|column)="(\w+)">([^<]*)', body))
        rows[key] = cells
    return rows


def _chart(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="trajectory-chart-data">(.*?)</script>', page, re.S
    )
    assert found, "the chart's data block"
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    ("rule", "q3", "q4"),
    [("sum", "30", "45"), ("average", "15", "22.5"), ("latest", "20", "5")],
)
def test_each_quarter_combines_submitted_values_by_the_rule(
    client, login, quarter, people, rule, q3, q4
):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", rule, ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    _report(Q3, "acwf", key, 10, people["support"])
    quarter.at("2024-10-06 10:00")
    _report(Q3, "mca", key, 20, people["lead"])
    _two_quarters(quarter)
    _report(Q4, "acwf", key, 40, people["support"])
    quarter.at("2025-01-06 10:00")
    _report(Q4, "mca", key, 5, people["lead"])

    login(people["coordinator"])
    response = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = _rows(page)
    assert rows["2024Q3"]["combined"] == q3 and rows["2024Q4"]["combined"] == q4
    # a column per reporting department
    assert (rows["2024Q3"]["mca"], rows["2024Q3"]["acwf"]) == ("20", "10")
    assert (rows["2024Q4"]["mca"], rows["2024Q4"]["acwf"]) == ("5", "40")
    # the planned line at each quarter's end, rounded to whole 个 (62.5079 → 63)
    assert rows["2024Q3"]["planned"] == str(_whole(_planned(dt.date(2024, 9, 30)))) == "63"
    assert rows["2024Q4"]["planned"] == str(_whole(_planned(dt.date(2024, 12, 31))))
    # the chart carries the same figures: baseline, the quarters oldest first, target
    chart = _chart(page)
    assert chart["labels"] == ["基线 2019-05-01", "2024年第三季度", "2024年第四季度",
                               "目标 2027-12-31"]  # fmt: skip
    planned, combined, *by_department = chart["series"]
    assert planned["values"] == [0, float(_whole(_planned(dt.date(2024, 9, 30)))),
                                 float(_whole(_planned(dt.date(2024, 12, 31)))), 100]  # fmt: skip
    # on a day axis: the baseline on its date, each quarter at its end, the target on its date
    days = [
        (d - dt.date(1970, 1, 1)).days
        for d in (
            dt.date(2019, 5, 1),
            dt.date(2024, 9, 30),
            dt.date(2024, 12, 31),
            dt.date(2027, 12, 31),
        )
    ]
    assert chart["x"] == days
    assert [t["label"] for t in chart["ticks"]] == [f"{y}年" for y in range(2020, 2028)]
    assert chart["ticks"][0]["value"] == (dt.date(2020, 1, 1) - dt.date(1970, 1, 1)).days
    assert combined["values"] == [None, float(q3), float(q4), None]
    assert {s["label"]: s["values"][1:3] for s in by_department} == {
        "民政部": [20, 5], "全国妇联": [10, 40]
    }  # fmt: skip


def test_a_draft_does_not_count(client, login, quarter, people):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    _report(Q3, "acwf", key, 7, people["support"])
    _report(Q3, "mca", key, 20, people["lead"], submit=False)
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}").get_data(as_text=True)
    row = _rows(page)["2024Q3"]
    assert row["combined"] == "7" and row["acwf"] == "7" and row["mca"] == ""
    assert "1 个部门报送" in page


def test_one_reporting_department_has_no_department_columns(client, login, quarter, people):
    plan = approved_plan(23, "mca", indicators=[indicator("仅全国妇联", "sum", ["acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    _report(Q3, "acwf", key, 12, people["support"])
    login(people["leader"])
    page = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}").get_data(as_text=True)
    planned = str(_whole(_planned(dt.date(2024, 9, 30))))
    assert _rows(page)["2024Q3"] == {"combined": "12", "planned": planned}
    assert len(_chart(page)["series"]) == 2  # the planned line and the reported values


def test_the_item_page_links_each_indicator_to_its_trajectory(client, login, quarter, people):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    login(people["support"])
    page = client.get(f"/dashboard/items/{task(23).id}").get_data(as_text=True)
    assert f'href="/dashboard/items/{task(23).id}/indicators/{plan.indicators[0].key}"' in page


def _proposed(people):
    data = delivery_services.PlanInput(
        milestones=[], indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])]
    )
    plan = delivery_services.propose_plan(task(23), department("mca"), data, actor=people["lead"])
    db.session.commit()
    return plan


@pytest.mark.parametrize(
    ("who", "pending", "approved"),
    [
        ("lead", 200, 200),  # the plan's own department
        ("coordinator", 200, 200),
        ("support", 403, 200),  # the item's other department: approved versions only
        ("leader", 403, 200),  # a leader (viewer of no department): approved only
        ("other", 403, 403),  # a department not on the item
    ],
)
def test_access_follows_reading_the_plan(client, login, quarter, people, who, pending, approved):
    plan = _proposed(people)
    url = f"/dashboard/items/{task(23).id}/indicators/{plan.indicators[0].key}"
    login(people[who])
    assert client.get(url).status_code == pending
    if pending == 200:
        assert "本计划尚未批准" in client.get(url).get_data(as_text=True)
    delivery_services.approve_plan(plan, actor=people["coordinator"])
    db.session.commit()
    assert client.get(url).status_code == approved


def test_an_unknown_indicator_or_item_is_404(client, login, quarter, people):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca"])],
                         people=people)  # fmt: skip
    login(people["coordinator"])
    assert client.get(f"/dashboard/items/{task(23).id}/indicators/nope").status_code == 404
    key = plan.indicators[0].key
    assert client.get(f"/dashboard/items/{task(1).id}/indicators/{key}").status_code == 404
    assert client.get(f"/dashboard/items/999999/indicators/{key}").status_code == 404


def test_queries_do_not_grow_with_the_quarters(client, login, quarter, people, count_queries):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    url = f"/dashboard/items/{task(23).id}/indicators/{key}"
    _report(Q3, "acwf", key, 1, people["support"])
    login(people["coordinator"])
    client.get(url)
    with count_queries() as one:
        assert client.get(url).status_code == 200
    # four more tracked quarters, each with both departments' values
    period = Q3
    for _ in range(4):
        period = period.next()
        quarter.at(f"{period.end + dt.timedelta(days=5)} 10:00")
        services.open_period(period)
        db.session.commit()
        _report(period, "acwf", key, 3, people["support"])
        _report(period, "mca", key, 2, people["lead"])
    page = client.get(url).get_data(as_text=True)
    assert len(_rows(page)) == 5
    with count_queries() as five:
        assert client.get(url).status_code == 200
    assert five.count == one.count, five.statements


@pytest.mark.parametrize(
    ("unit", "baseline", "target", "planned", "shown_target"),
    [
        # a count of people: whole numbers, thousands separated (3,750,473.6… → 3,750,474)
        ("人", "0", "6000000", "3,750,474", "6,000,000"),
        # a share: one decimal at least, or as many as the baseline or target carries
        ("%", "35.5", "80", "63.3", "80.0"),
        ("%", "35.25", "80", "63.22", "80.00"),
        # an amount: two decimals
        ("万元", "0", "1200", "750.09", "1,200.00"),
    ],
)
def test_planned_values_are_shown_at_the_indicators_precision(
    client, login, quarter, people, unit, baseline, target, planned, shown_target
):
    spec = indicator("登记人数", "sum", ["mca", "acwf"], unit=unit)
    spec = dataclasses.replace(spec, baseline_value=Decimal(baseline), target_value=Decimal(target))
    plan = approved_plan(23, "mca", indicators=[spec], people=people)
    key = plan.indicators[0].key
    _report(Q3, "acwf", key, "1234567.5", people["support"])
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}").get_data(as_text=True)
    row = _rows(page)["2024Q3"]
    # the line from baseline (2019-05-01) to target (2027-12-31), read at 2024Q3's end
    line = Decimal(baseline) + (Decimal(target) - Decimal(baseline)) * (
        Decimal((dt.date(2024, 9, 30) - dt.date(2019, 5, 1)).days)
        / Decimal((dt.date(2027, 12, 31) - dt.date(2019, 5, 1)).days)
    )
    places = max(len(planned.split(".")[1]) if "." in planned else 0, 0)
    expected = line.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    assert row["planned"] == f"{expected:,f}" == planned
    # a reported value keeps its decimals, thousands separated
    assert row["combined"].startswith("1,234,567.5")
    target_cell = re.search(r'<tr class="target">.*?data-column="planned">([^<]*)<', page, re.S)
    assert target_cell.group(1) == shown_target
    # the chart's planned line is the rounded value too
    assert _chart(page)["series"][0]["values"][1] == float(expected)


def test_a_people_count_on_the_seeded_plan_reads_as_people(client, login, quarter, people):
    """The user's case: 信息台账登记的农村留守妇女 (人, 0 → 6,000,000) on 2026-09-30."""
    spec = indicator("信息台账登记的农村留守妇女", "sum", ["mca", "acwf"], unit="人")
    spec = dataclasses.replace(spec, target_value=Decimal(6000000))
    plan = approved_plan(23, "mca", indicators=[spec], people=people)
    key = plan.indicators[0].key
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{task(23).id}/indicators/{key}").get_data(as_text=True)
    exact = _planned(dt.date(2024, 9, 30), 6000000)
    assert exact != _whole(exact)  # the line's value has decimals …
    assert _rows(page)["2024Q3"]["planned"] == f"{_whole(exact):,f}"  # … shown as whole people
    assert "." not in _rows(page)["2024Q3"]["planned"]


def test_the_axis_ticks_years_or_over_a_short_line_quarters():
    from tracker.dashboard.trajectory import day, year_ticks

    years = year_ticks(dt.date(2019, 5, 1), dt.date(2027, 12, 31))
    assert [t["label"] for t in years] == [f"{y}年" for y in range(2020, 2028)]
    assert years[0]["value"] == day(dt.date(2020, 1, 1)) == 18262
    short = year_ticks(dt.date(2025, 2, 10), dt.date(2025, 12, 31))
    assert [t["label"] for t in short] == ["2025年第二季度", "2025年第三季度", "2025年第四季度"]
    assert short[0]["value"] == day(dt.date(2025, 4, 1))
