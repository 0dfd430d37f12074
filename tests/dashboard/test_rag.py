"""The RAG rule: the decision table, its labels, and the SQL copy agreeing with Python."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tracker.dashboard.rag import Rag, Reason, Thresholds, overdue_sql, rag_for, reason_sql
from tracker.extensions import db
from tracker.reports.models import ReportState
from tracker.workdays import WorkingCalendar

CAL = WorkingCalendar()
TODAY = date(2024, 9, 23)  # Monday; 09-29 is a make-up working day, 10-01..07 a holiday
DUE = date(2024, 9, 27)


A, S, R, D = ReportState.ACCEPTED, ReportState.SUBMITTED, ReportState.RETURNED, ReportState.DRAFT


@pytest.mark.parametrize(
    ("state", "submitted", "waived", "today", "expected"),
    [
        (None, None, True, TODAY, (Rag.GREY, "已豁免", 0, False)),
        (A, date(2024, 9, 26), False, TODAY, (Rag.GREEN, "已审核通过", 0, False)),
        (A, date(2024, 9, 30), False, TODAY, (Rag.GREEN, "已审核通过 · 迟报2个工作日", 2, True)),
        (S, date(2024, 9, 27), False, TODAY, (Rag.BLUE, "已报送待审核", 0, False)),
        (R, date(2024, 9, 20), False, TODAY, (Rag.AMBER, "已退回", 0, False)),
        (D, None, False, TODAY, (Rag.AMBER, "临近截止（剩4个工作日）", 0, False)),
        (None, None, False, DUE, (Rag.AMBER, "临近截止（今日截止）", 0, False)),
        (None, None, False, date(2024, 9, 28), (Rag.RED, "逾期未报（1个工作日）", 1, False)),
        (D, None, False, date(2024, 10, 8), (Rag.RED, "逾期未报（3个工作日）", 3, False)),
        (None, None, False, date(2024, 9, 16), (Rag.GREY, "未到期", 0, False)),
    ],
)
def test_decision_table(state, submitted, waived, today, expected):
    light = rag_for(state, submitted, waived, DUE, today, CAL)
    assert (light.rag, light.label, light.days_late, light.late) == expected


def test_due_within_five_working_days_is_amber_six_is_grey():
    # From Fri 09-20: 09-23..27 are five working days, 09-29 (Sunday, make-up) the sixth.
    assert rag_for(None, None, False, date(2024, 9, 27), date(2024, 9, 20), CAL).rag == Rag.AMBER
    assert rag_for(None, None, False, date(2024, 9, 29), date(2024, 9, 20), CAL).rag == Rag.GREY
    assert rag_for(None, None, False, date(2024, 9, 29), date(2024, 9, 20), CAL,
                   amber_days=6).rag == Rag.AMBER  # fmt: skip


def test_every_colour_has_a_label_and_a_class():
    for rag in Rag:
        assert rag.label.startswith(rag.name_cn + "：") and rag.css_class == f"state-{rag.value}"
    assert {reason.rag for reason in Reason} == set(Rag)


def test_sql_case_agrees_with_python(app):
    """Every state × waiver × due date around a holiday, judged by SQL and by Python."""
    table = sa.Table(
        "rag_probe",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(16)),
        sa.Column("waived", sa.Boolean),
        sa.Column("due_date", sa.Date),
    )
    states = [None, *(s.value for s in ReportState)]
    dues = [TODAY + timedelta(days=d) for d in range(-5, 20)]
    rows = [
        {"id": i, "state": s, "waived": w, "due_date": d}
        for i, (s, w, d) in enumerate(itertools.product(states, (False, True), dues))
    ]
    thresholds = Thresholds.on(TODAY, CAL)
    with db.engine.begin() as conn:
        table.create(conn)
        try:
            conn.execute(table.insert(), rows)
            query = sa.select(
                table.c.id,
                reason_sql(table.c.state, table.c.waived, table.c.due_date, thresholds),
            )
            from_sql = dict(conn.execute(query).all())
            overdue = overdue_sql(table.c.state, table.c.waived, table.c.due_date, thresholds)
            overdue_ids = set(conn.scalars(sa.select(table.c.id).where(overdue)))
        finally:
            table.drop(conn)
    for row in rows:
        light = rag_for(row["state"], None, row["waived"], row["due_date"], thresholds=thresholds)
        assert from_sql[row["id"]] == light.reason.value, row
        assert (row["id"] in overdue_ids) == (light.reason == Reason.OVERDUE), row
