"""``flask demo-data``: clearly marked synthetic data, never mixed into a real database."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.catalogue.models import PolicyDocument, Task
from tracker.dashboard.models import Snapshot
from tracker.extensions import db
from tracker.reports.models import Obligation, Report, ReportVersion


def _count(what, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(what).where(*where))


def test_refuses_a_database_with_real_reports(scenario, runner):
    result = runner.invoke(args=["demo-data", "--documents", "2", "--quarters", "1"])
    assert result.exit_code != 0
    assert "数据库中已有 6 份真实报告" in result.output and "拒绝写入演示数据" in result.output
    assert _count(PolicyDocument, PolicyDocument.synthetic.is_(True)) == 0


def test_refuses_a_database_without_departments(app, runner):
    result = runner.invoke(args=["demo-data", "--documents", "1", "--quarters", "1"])
    assert result.exit_code != 0 and "flask --app tracker seed" in result.output


def test_fills_marked_synthetic_quarters(
    app, quarter, runner, client, make_user, login, monkeypatch
):
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", None)  # tracked from the first data
    quarter.at("2024-10-08 14:00")  # 2024Q3 is being reported; 2024Q2 has closed
    args = ["demo-data", "--documents", "3", "--quarters", "2", "--items", "4", "--seed", "7"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "3 件文件，12 项任务" in result.output and "季度 2024Q2–2024Q3" in result.output
    documents = db.session.scalars(
        sa.select(PolicyDocument).where(PolicyDocument.synthetic.is_(True))
    ).all()
    assert [d.number for d in documents] == [
        "演示〔2099〕1号",
        "演示〔2099〕2号",
        "演示〔2099〕3号",
    ]
    assert all(d.title.startswith("【演示数据】") for d in documents)
    synthetic_tasks = sa.select(Task.id).join(PolicyDocument).where(PolicyDocument.synthetic)
    q2 = _count(Obligation, Obligation.period == "2024Q2", Obligation.task_id.in_(synthetic_tasks))
    q3 = _count(Obligation, Obligation.period == "2024Q3", Obligation.task_id.in_(synthetic_tasks))
    assert q2 == q3 > 12
    reports = db.session.scalars(sa.select(Report)).all()
    assert reports and all(r.progress.startswith("【演示数据】") for r in reports)
    assert all(
        r.first_submitted_at is None or r.first_submitted_at <= quarter_now() for r in reports
    )
    assert _count(ReportVersion) >= len(reports)
    assert db.session.scalars(sa.select(Snapshot.period)).all() == ["2024Q2"]

    # A second run adds more documents, numbered on; the real catalogue is untouched.
    assert runner.invoke(args=["demo-data", "--documents", "1", "--quarters", "1"]).exit_code == 0
    assert _count(PolicyDocument, PolicyDocument.synthetic.is_(True)) == 4
    assert _count(PolicyDocument, PolicyDocument.synthetic.is_(False)) == 1

    login(make_user("coordinator", "mca"))
    assert client.get("/dashboard?period=2024Q2").status_code == 200
    html = client.get("/dashboard").get_data(as_text=True)
    assert "演示〔2099〕1号" in html


def _analyses(table: str) -> int:
    """How many times ``table`` was vacuumed and its statistics gathered (VACUUM ANALYZE
    counts once for each)."""
    db.session.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
    return min(
        db.session.scalar(sa.text(f"SELECT pg_stat_get_{kind}_count(CAST(:t AS regclass))"),
                          {"t": table})
        for kind in ("vacuum", "analyze")
    )  # fmt: skip


def test_gathers_the_planners_statistics_after_the_load(app, quarter, runner, monkeypatch):
    """On PostgreSQL the load ends with VACUUM ANALYZE (the planner otherwise guesses the
    new rows and scans every quarter for a few items' reads); SQLite has nothing to gather."""
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", None)
    quarter.at("2024-10-08 14:00")
    postgresql = db.engine.dialect.name == "postgresql"
    before = _analyses("obligation") if postgresql else 0
    db.session.commit()
    args = ["demo-data", "--documents", "2", "--quarters", "1", "--items", "2"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert ("VACUUM ANALYZE" in result.output) is postgresql
    assert result.output.strip().splitlines()[-1].startswith("已写入演示数据")
    if postgresql:
        assert _analyses("obligation") == before + 1
        assert _analyses("report_indicator_value") >= 1


def quarter_now():
    from tracker import clock

    return clock.utcnow()


SNAPSHOT_TABLES = {"dashboard_snapshot", "dashboard_snapshot_cell", "dashboard_snapshot_department"}


def _dump() -> dict[str, list[str]]:
    """Every row of every table but the audit log (its events and chain head), the
    snapshots and the data versions (they count changes, so removing demo data moves them),
    comparable as text."""
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(sa.select(table)))
        for table in db.metadata.sorted_tables
        if table.name not in ("audit_event", "audit_chain", "period_version")
        and table.name not in SNAPSHOT_TABLES
    }


def test_remove_deletes_exactly_the_demo_rows(quarter, runner):
    from tracker.audit.models import AuditEvent
    from tracker.dashboard.models import SnapshotCell, SnapshotDepartment

    seed_document = db.session.scalar(sa.select(PolicyDocument.id))
    real_q3 = _count(Obligation, Obligation.period == "2024Q3")
    before = _dump()
    args = ["demo-data", "--documents", "2", "--quarters", "2", "--items", "3"]
    assert runner.invoke(args=args).exit_code == 0
    quarter.at("2024-10-25 10:00")  # 2024Q3 has closed: its snapshot holds demo cells too
    assert "2024Q3" in runner.invoke(args=["freeze-snapshots"]).output
    assert _count(SnapshotCell, SnapshotCell.document_id != seed_document) > 0
    demo_versions = _count(ReportVersion)
    assert demo_versions > 0

    result = runner.invoke(args=["demo-data", "--remove"])
    assert result.exit_code == 0, result.output
    assert "已删除演示数据：2 件文件，6 项任务" in result.output
    assert "删除了含演示数据的季度快照 2024Q3；按真实数据重新封存：2024Q3。" in result.output
    db.session.expire_all()
    assert _dump() == before
    cells = db.session.scalars(sa.select(SnapshotCell.document_id)).all()
    assert len(cells) == real_q3 and set(cells) == {seed_document}
    totals = db.session.scalars(sa.select(SnapshotDepartment.obligations)).all()
    assert sum(totals) == real_q3
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "demo.remove" and "demo.generate" in actions


def test_remove_without_demo_data_says_so_and_changes_nothing(quarter, runner):
    before = _dump()
    result = runner.invoke(args=["demo-data", "--remove"])
    assert result.exit_code == 0 and "数据库中没有演示数据，无需删除。" in result.output
    assert _dump() == before


def test_remove_refuses_generation_options(seeded, runner):
    result = runner.invoke(args=["demo-data", "--remove", "--documents", "5"])
    assert result.exit_code == 2
    assert "--remove 不能与 --documents 同时使用" in result.output


def test_every_item_gets_an_approved_plan_and_reports_answer_it(
    app, quarter, runner, client, make_user, login, monkeypatch
):
    from tracker.delivery.models import DeliveryPlan, Indicator, Milestone, PlanState
    from tracker.reports import queries as report_queries
    from tracker.reports.models import IndicatorValue, MilestoneStatus

    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", None)  # tracked from the first data
    quarter.at("2024-10-08 14:00")
    args = ["demo-data", "--documents", "2", "--quarters", "3", "--items", "5", "--seed", "3"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "落实计划 10 个" in result.output
    synthetic = sa.select(Task.id).join(PolicyDocument).where(PolicyDocument.synthetic)
    tasks = set(db.session.scalars(synthetic))
    plans = db.session.scalars(sa.select(DeliveryPlan)).all()
    assert sorted(p.task_id for p in plans) == sorted(tasks)  # one plan per item
    assert {p.state for p in plans} == {PlanState.APPROVED}
    per_plan = {
        p.id: (
            _count(Milestone, Milestone.plan_id == p.id),
            _count(Indicator, Indicator.plan_id == p.id),
        )
        for p in plans
    }
    assert all(2 <= m <= 4 and 1 <= i <= 3 for m, i in per_plan.values()), per_plan
    assert _count(IndicatorValue) > 0 and _count(MilestoneStatus) > 0
    # every value belongs to a department that reports the indicator, and to its item
    for value in db.session.scalars(sa.select(IndicatorValue)):
        obligation = value.report.obligation
        assert obligation.department_id in value.indicator.department_ids
        assert obligation.task_id == value.indicator.plan.task_id
    # a status only for a milestone the department answers for, due by the report's quarter
    for status in db.session.scalars(sa.select(MilestoneStatus)):
        obligation = status.report.obligation
        assert status.milestone.department_id == obligation.department_id
        assert status.milestone.due_period <= obligation.period
    # the item page and the trajectory page read them
    task_id = min(tasks)
    results = report_queries.indicator_results(task_id, report_queries.tracked_periods())
    assert results and any(r.combined is not None for _, by in results for r in by.values())
    login(make_user("coordinator", "mca"))
    assert client.get(f"/dashboard/items/{task_id}").status_code == 200
    key = results[0][0].key
    assert client.get(f"/dashboard/items/{task_id}/indicators/{key}").status_code == 200
