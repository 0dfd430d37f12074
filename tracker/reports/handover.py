"""What a liaison holds in the reports domain, for the handover when they leave.

A liaison "holds" the open reports of their department they were the last to edit: drafts
not yet submitted and reports returned for revision. Any liaison of the department may edit
them; the handover names the successor who takes them up, one audit event per report
(``report.handover``), so the record says who answers for each from then on. Registered with
:mod:`tracker.auth.liaisons` at import (this module is imported by the reports routes).
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.audit.services import record_event
from tracker.auth import liaisons
from tracker.auth.models import User
from tracker.extensions import db
from tracker.periods import period_label
from tracker.reports.models import Obligation, Report, ReportState

OPEN_STATES = (ReportState.DRAFT, ReportState.RETURNED)
LISTED = 10


def open_reports_held_by(user: User) -> list[Report]:
    """Open reports (drafts, returned) of the user's department last edited by the user."""
    if user.department_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Report)
            .join(Report.obligation)
            .where(
                Report.updated_by_id == user.id,
                Report.state.in_(OPEN_STATES),
                Obligation.department_id == user.department_id,
            )
            .order_by(Obligation.due_date, Report.id)
        )
    )


def describe(user: User) -> list[str]:
    reports = open_reports_held_by(user)
    if not reports:
        return []
    names = [
        f"第{r.obligation.task.number}项（{period_label(r.obligation.period)}，{r.state.label}）"
        for r in reports[:LISTED]
    ]
    more = f"等 {len(reports)} 份" if len(reports) > LISTED else f"共 {len(reports)} 份"
    return [f"其最后编辑的未报送报告：{'、'.join(names)}{more}"]


def hand_over(user: User, successor: User, actor: User | None) -> int:
    reports = open_reports_held_by(user)
    for report in reports:
        record_event(
            "report.handover", report, actor=actor,
            before={"holder": user.username}, after={"holder": successor.username},
        )  # fmt: skip
    return len(reports)


liaisons.on_holdings(describe, hand_over)
