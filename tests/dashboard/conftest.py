"""Fixtures for the dashboard: a constructed quarter showing every colour (the query counter,
``count_queries``, is in tests/conftest.py)."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput

FILLED = ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展培训 3 期。")


def draft(obligation, liaison, data=FILLED):
    report = obligation.report
    return services.save_draft(
        obligation, data, actor=liaison, expected_version=report.version if report else None
    )


def report_value(obligation, key, value, liaison, *, submit=True):
    """The obligation's report carrying ``value`` for plan indicator ``key`` (submitted unless
    ``submit`` is false; committed)."""
    from dataclasses import replace
    from decimal import Decimal

    report = obligation.report
    report = services.save_draft(
        obligation, replace(FILLED, indicator_values={key: Decimal(value)}), actor=liaison,
        expected_version=report.version if report else None,
    )  # fmt: skip
    if submit:
        services.submit_report(report, actor=liaison)
    db.session.commit()
    return report


def submit(obligation, liaison):
    report = draft(obligation, liaison)
    services.submit_report(report, actor=liaison)
    db.session.commit()
    return report


def accept(obligation, coordinator):
    services.accept_report(
        obligation.report, actor=coordinator, confirmed_status=ProgressStatus.IN_PROGRESS
    )
    db.session.commit()


@pytest.fixture
def scenario(quarter, make_user):
    """The constructed quarter (see :func:`build_scenario`)."""
    return build_scenario(quarter, make_user)


def build_scenario(quarter, make_user) -> dict:
    """2024Q3 judged on Thu 2024-10-10 14:00 (Beijing), with every colour on the matrix.

    Supporting input was due Tue 10-08, lead and joint reports are due Thu 10-10 (today):

    * item 3: 全国妇联 (support) on time, accepted → green; 农业农村部 on time → blue;
      文化和旅游部 nothing → red, 2 working days late (10-09, 10-10).
    * item 11: 司法部 (support) 2 working days late, accepted → green + 迟报; 农业农村部 waived →
      grey; 全国妇联 1 working day late (Wed 10-09), returned → amber + 迟报.
    * item 5: 民政部 (sole lead) on time, awaiting review → blue.
    * item 1: 民政部 (joint) a draft only → amber (due today, 0 working days left).
    * item 2: 农业农村部 (joint) extended to 10-31 → grey, not yet due.
    * item 22: 中国残联 urged once.
    * every other supporting obligation is red (2 days late), every other lead or joint
      obligation amber (due within 5 working days).
    """
    from tracker.followups import services as reminders

    codes = ("acwf", "moa", "mct", "moj", "mca", "cdpf")
    liaisons = {code: make_user("liaison", code) for code in codes}
    coordinator = make_user("coordinator", "mca")
    o = quarter.obligation

    quarter.at("2024-09-25 10:00")
    submit(o(3, "acwf"), liaisons["acwf"])
    quarter.at("2024-09-26 10:00")
    accept(o(3, "acwf"), coordinator)
    submit(o(3, "moa"), liaisons["moa"])
    quarter.at("2024-10-09 10:00")
    submit(o(11, "acwf"), liaisons["acwf"])
    quarter.at("2024-10-10 09:00")
    submit(o(11, "moj"), liaisons["moj"])
    accept(o(11, "moj"), coordinator)
    services.return_report(o(11, "acwf").report, actor=coordinator, reason="请补充数据。")
    services.waive_obligation(o(11, "moa"), actor=coordinator, reason="本期无相关工作。")
    db.session.commit()
    quarter.at("2024-10-10 10:00")
    submit(o(5, "mca"), liaisons["mca"])
    draft(o(1, "mca"), liaisons["mca"])
    request = reminders.request_extension(
        o(2, "moa"), actor=liaisons["moa"], requested_due_date=date(2024, 10, 31), reason="调研"
    )
    reminders.approve_extension(request, actor=coordinator)
    reminders.urge_obligation(o(22, "cdpf"), actor=coordinator, message="请尽快报送。")
    db.session.commit()
    quarter.at("2024-10-10 14:00")
    return {"quarter": quarter, "coordinator": coordinator, **liaisons}
