"""What a draft save sends to the database beside the report itself: no data version (a draft
counts in no figure until it is submitted; the submission bumps its period, found without a
look-up), the audit chain's head locked without an insert once it exists."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.dashboard.models import PeriodVersion
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


def _versions() -> dict[str, int]:
    rows = db.session.execute(sa.select(PeriodVersion.period, PeriodVersion.version))
    return {period: version for period, version in rows}


def test_a_save_bumps_nothing_a_submission_its_period_and_the_chain_is_locked_in_few_statements(
    quarter, make_user, count_queries
):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(
        obligation, ReportInput(progress="第一稿"), actor=liaison, expected_version=None
    )
    db.session.commit()  # the chain's head and the period's version exist from here on
    before = _versions()
    with count_queries() as counter:
        services.save_draft(
            obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress="第二稿"),
            actor=liaison, expected_version=report.version,
        )  # fmt: skip
        db.session.commit()
    assert _versions() == before
    assert not any(s.startswith("INSERT INTO period_version") for s in counter.statements)
    assert not any(s.startswith("INSERT INTO audit_chain") for s in counter.statements)
    with count_queries() as counter:
        services.submit_report(report, actor=liaison)
        db.session.commit()
    after = _versions()
    assert {k for k in after if after[k] != before.get(k)} == {"2024Q3"}
    lookups = [s for s in counter.statements if "obligation.period" in s and "UNION" in s]
    assert lookups == [] and not any(
        "FROM obligation" in s and "IN (" in s for s in counter.statements
    )
    assert sum(s.startswith("INSERT INTO period_version") for s in counter.statements) == 1


def test_a_save_through_the_form_reads_the_plans_in_force_once(
    client, quarter, make_user, login, count_queries
):
    """The form is built from the plans in force and the save checks against the same lists:
    one read of the plans (and one each of their milestones and indicators) per request."""
    from tracker import resources
    from tracker.delivery.seed import apply_delivery_seed

    apply_delivery_seed(resources.seed_file())  # item 23's plan: 民政部 reports its indicators
    db.session.commit()
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(23, "mca")
    login(liaison)
    form = {"status": "in_progress", "progress": "第一稿", "problems": "", "practices": "",
            "suggestions": "", "next_steps": "", "version": ""}  # fmt: skip
    with count_queries() as counter:
        response = client.post(f"/obligations/{obligation.id}/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    plans = [s for s in counter.statements if "FROM delivery_plan" in s]
    assert len(plans) == 1, plans
    indicators = [s for s in counter.statements if "FROM delivery_indicator" in s]
    assert len(indicators) == 1, indicators
    db.session.expire_all()
    assert obligation.report is not None and obligation.report.progress == "第一稿"
