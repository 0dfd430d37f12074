"""A save no figure counts bumps nothing: drafts typed by liaisons keep the dashboards cached.

A draft, or a returned report not yet resubmitted, counts by its state alone (its text,
self-rating, indicator values and milestone statuses count once it is submitted). Each test
warms the cache, makes such a save, and checks that no data version moved and that what the
cache serves still equals a recount; then a write that does count (a submission, a sign-off
request) bumps the quarter and shows at once.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa

from tests.dashboard.conftest import FILLED, draft
from tests.delivery.conftest import approved_plan, indicator
from tracker.dashboard import queries
from tracker.dashboard.models import PeriodVersion
from tracker.dashboard.queries.cache import answer_cache
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services
from tracker.reports.models import IndicatorValue, ReportState

Q3 = Period(2024, 3)


def versions() -> dict[str, int]:
    return dict(db.session.execute(sa.select(PeriodVersion.period, PeriodVersion.version)).all())


def shown() -> dict:
    """The page's figures and every item's delivery light, through the cache."""
    db.session.rollback()  # a new transaction, as a new request has
    page = queries.dashboard(queries.make_scope(Q3), previous=None, per_page=100)
    data = queries.dashboard_data(Q3)
    db.session.rollback()
    return {"page": page.headline, "rows": page.matrix.rows, "delivery": page.delivery,
            "cells": data["cells"], "scorecard": data["scorecard"]}  # fmt: skip


def recounted() -> dict:
    answer_cache().clear()
    return shown()


def _still_cached(before: dict, versions_before: dict[str, int]) -> None:
    hits = answer_cache().hits
    assert versions() == versions_before, "a save no figure counts moved a data version"
    assert shown() == before and answer_cache().hits > hits  # served from the cache …
    assert recounted() == before  # … and still true


def test_a_first_draft_and_its_edits_bump_nothing(scenario):
    before, at = shown(), versions()
    obligation = scenario["quarter"].obligation(3, "mct")  # nothing filed yet: red
    draft(obligation, scenario["mct"])
    db.session.commit()
    assert obligation.report.state is ReportState.DRAFT
    _still_cached(before, at)
    draft(obligation, scenario["mct"], replace(FILLED, progress="第二稿：补充了培训情况。"))
    db.session.commit()
    assert obligation.report.version == 2
    _still_cached(before, at)
    services.submit_report(obligation.report, actor=scenario["mct"])
    db.session.commit()
    assert versions()[Q3.key] != at[Q3.key]
    after = shown()
    assert after == recounted() and after != before


def test_a_returned_reports_edit_bumps_nothing_until_it_is_resubmitted(scenario):
    before, at = shown(), versions()
    obligation = scenario["quarter"].obligation(11, "acwf")  # returned: amber
    assert obligation.report.state is ReportState.RETURNED
    draft(obligation, scenario["acwf"], replace(FILLED, progress="已按要求补充数据。"))
    db.session.commit()
    assert obligation.report.state is ReportState.RETURNED
    _still_cached(before, at)
    services.submit_report(obligation.report, actor=scenario["acwf"])
    db.session.commit()
    after = shown()
    assert versions()[Q3.key] != at[Q3.key] and after == recounted() and after != before


def test_a_drafts_indicator_values_bump_nothing_until_submitted(scenario):
    people = {"lead": scenario["mca"], "coordinator": scenario["coordinator"]}
    counties = indicator("已完成摸底排查的县", "sum", ["mca", "acwf"])
    plan = approved_plan(23, "mca", indicators=[counties], people=people)
    key = plan.indicators[0].key
    before, at = shown(), versions()
    obligation = scenario["quarter"].obligation(23, "acwf")  # supporting, reports it too
    draft(obligation, scenario["acwf"], replace(FILLED, indicator_values={key: Decimal(1)}))
    db.session.commit()
    _still_cached(before, at)
    # a value taken out of the draft again (its row deleted) still changes no figure
    draft(obligation, scenario["acwf"], replace(FILLED, indicator_values={}))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IndicatorValue)) == 0
    _still_cached(before, at)
    draft(obligation, scenario["acwf"], replace(FILLED, indicator_values={key: Decimal(1)}))
    services.submit_report(obligation.report, actor=scenario["acwf"])
    db.session.commit()
    after = shown()
    assert versions()[Q3.key] != at[Q3.key] and after == recounted()
    task_id = obligation.task_id
    # the submitted value, far below the planned line, now lights item 23 as lagging
    assert after["delivery"][task_id] != before["delivery"][task_id]


def test_a_change_beyond_the_text_of_a_draft_still_bumps(scenario):
    """Anything but the text and self-rating (here the sign-off request's columns) counts."""
    obligation = scenario["quarter"].obligation(1, "mca")  # a draft
    at = versions()
    obligation.report.approval_requested_at = obligation.report.updated_at
    db.session.commit()
    assert versions()[Q3.key] != at[Q3.key]
