"""Plan indicators in the quarterly report: typed numbers, stored per report, combined."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import SEED_FILE
from tests.delivery.conftest import approved_plan, indicator, report_form, task
from tracker.delivery import queries
from tracker.delivery.seed import apply_delivery_seed
from tracker.extensions import db
from tracker.reports import queries as report_queries
from tracker.reports.models import IndicatorValue, KeyFigure


@pytest.fixture
def liaisons(people):
    return {"mca": people["lead"], "acwf": people["support"]}


def _file(client, login, quarter, liaisons, code, values, *, submit=True):
    obligation = quarter.obligation(23, code)
    form = report_form(**values)
    if submit:
        form["save_and_submit"] = "1"
    login(liaisons[code])
    return client.post(f"/obligations/{obligation.id}/edit", data=form), obligation


def test_the_seed_writes_item_23s_ledger_once(quarter, people):
    assert apply_delivery_seed(SEED_FILE) == 1
    assert apply_delivery_seed(SEED_FILE) == 0  # a second run changes nothing
    db.session.commit()
    (plan,) = queries.approved_plans(task(23).id)
    assert [i.name for i in plan.indicators] == [
        "已完成摸底排查的县", "信息台账登记的农村留守妇女", "其中生活困难的", "其中残疾的",
        "其中患重病的",
    ]  # fmt: skip
    assert {i.combine.value for i in plan.indicators} == {"sum"}
    assert all(i.baseline_value == 0 and i.baseline_date.isoformat() == "2019-05-01"
               for i in plan.indicators)  # fmt: skip
    assert all(len(i.department_ids) == 2 for i in plan.indicators)


def test_values_are_typed_fields_stored_per_report_and_summed(client, login, quarter, liaisons):
    apply_delivery_seed(SEED_FILE)
    db.session.commit()
    counties, registered = queries.approved_plans(task(23).id)[0].indicators[:2]
    # the edit form offers each indicator with its unit beside it
    login(liaisons["acwf"])
    page = client.get(f"/obligations/{quarter.obligation(23, 'acwf').id}/edit").get_data(
        as_text=True
    )
    assert f'name="indicator_{counties.key}"' in page and "已完成摸底排查的县" in page
    assert '<span class="unit"' in page

    extra = {"figures-0-name": "培训人次", "figures-0-value": "30", "figures-0-unit": "人次"}
    response, _support = _file(client, login, quarter, liaisons, "acwf",
                              {f"indicator_{counties.key}": "1200",
                               f"indicator_{registered.key}": "35000.5", **extra})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    response, _lead = _file(client, login, quarter, liaisons, "mca",
                           {f"indicator_{counties.key}": "1,300"})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)

    db.session.expire_all()
    stored = {(v.report.obligation.department.code, v.indicator_key): v.value
              for v in db.session.scalars(sa.select(IndicatorValue))}  # fmt: skip
    assert stored == {("acwf", counties.key): Decimal("1200"),
                      ("acwf", registered.key): Decimal("35000.5"),
                      ("mca", counties.key): Decimal("1300")}  # fmt: skip
    # the free-form key figures stay as extras
    assert [f.name for f in db.session.scalars(sa.select(KeyFigure))] == ["培训人次"]
    results = dict(report_queries.indicator_results(task(23).id, [quarter.period]))
    assert results[counties][quarter.period.key].combined == Decimal("2500")
    assert results[registered][quarter.period.key].combined == Decimal("35000.5")
    # the report's page shows the department's values with their units
    page = client.get(f"/obligations/{quarter.obligation(23, 'acwf').id}").get_data(as_text=True)
    assert "计划指标" in page and "35000.5" in page and "其他关键数据" in page
    # the item page shows the combined value
    page = client.get(f"/dashboard/items/{task(23).id}").get_data(as_text=True)
    assert "2500" in page and "2 个部门报送" in page
    # against the line from 0 (2019-05-01) to 2800 (2027-12-31): 1,750 by 2024-09-30
    assert (
        "已完成摸底排查的县：2024年第三季度 2500个，按基线至目标的直线应为 1,750个，达到序时进度"
        in page
    )


def test_a_draft_value_counts_only_once_submitted(client, login, quarter, liaisons):
    apply_delivery_seed(SEED_FILE)
    db.session.commit()
    counties = queries.approved_plans(task(23).id)[0].indicators[0]
    response, _ = _file(client, login, quarter, liaisons, "acwf",
                        {f"indicator_{counties.key}": "7"}, submit=False)  # fmt: skip
    assert response.status_code == 302
    results = dict(report_queries.indicator_results(task(23).id, [quarter.period]))
    assert results[counties][quarter.period.key].combined is None


@pytest.mark.parametrize(("rule", "expected"), [("sum", "30"), ("average", "15"), ("latest", "20")])
def test_values_combine_by_the_indicators_rule(client, login, quarter, people, liaisons, rule,
                                               expected):  # fmt: skip
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", rule, ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    # 全国妇联 submits first (10), 民政部 last (20): the latest is 民政部's
    assert (
        _file(client, login, quarter, liaisons, "acwf", {f"indicator_{key}": "10"})[0].status_code
        == 302
    )
    quarter.at("2024-10-06 10:00")
    assert (
        _file(client, login, quarter, liaisons, "mca", {f"indicator_{key}": "20"})[0].status_code
        == 302
    )
    ((_, by_period),) = report_queries.indicator_results(task(23).id, [quarter.period])
    assert by_period[quarter.period.key].combined == Decimal(expected)


def test_only_the_reporting_departments_get_the_field_and_count(client, login, quarter, people,
                                                                liaisons):  # fmt: skip
    plan = approved_plan(23, "mca", indicators=[indicator("仅民政部", "sum", ["mca"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    login(liaisons["acwf"])
    page = client.get(f"/obligations/{quarter.obligation(23, 'acwf').id}/edit").get_data(
        as_text=True
    )
    assert f"indicator_{key}" not in page
    # a forged field of another department's indicator is ignored
    _file(client, login, quarter, liaisons, "acwf", {f"indicator_{key}": "99"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)) == 0


@pytest.mark.parametrize("bad", ["-5", "abc", "1e5", "12.345678", "１２"])
def test_a_bad_value_is_refused_beside_its_field_and_nothing_is_saved(
    client, login, quarter, people, liaisons, bad
):
    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca", "acwf"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    response, obligation = _file(client, login, quarter, liaisons, "acwf",
                                 {f"indicator_{key}": bad, "progress": "我的进展文字"})  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "应为不小于 0 的数字（单位：个，最多 4 位小数）" in page
    assert "我的进展文字" in page and f'value="{bad}"' in page  # input kept
    db.session.expire_all()
    assert obligation.report is None


def test_a_save_without_plan_fields_keeps_what_is_stored(quarter, people):
    """The API and the Excel template carry no plan fields yet: their saves leave the values."""
    from tracker.reports import services

    plan = approved_plan(23, "mca", indicators=[indicator("覆盖县", "sum", ["mca"])],
                         people=people)  # fmt: skip
    key = plan.indicators[0].key
    obligation = quarter.obligation(23, "mca")
    report = services.save_draft(
        obligation, services.ReportInput(progress="一稿", indicator_values={key: Decimal(5)}),
        actor=people["lead"], expected_version=None,
    )  # fmt: skip
    db.session.commit()
    services.save_draft(obligation, services.ReportInput(progress="二稿"), actor=people["lead"],
                        expected_version=report.version)  # fmt: skip
    db.session.commit()
    db.session.expire_all()
    assert [(v.indicator_key, v.value) for v in obligation.report.indicator_values] == [
        (key, Decimal(5))
    ]
    assert obligation.report.progress == "二稿"
