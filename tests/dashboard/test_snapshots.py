"""Quarter snapshots: frozen at the close, unmoved by late reports, which still show as late."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import accept, submit
from tracker.dashboard import queries, services
from tracker.dashboard.models import Snapshot, SnapshotCell, SnapshotDepartment, SnapshotImmutable
from tracker.dashboard.queries.cell import cells_with_tasks
from tracker.dashboard.rag import Rag
from tracker.extensions import db
from tracker.periods import Period

Q3 = Period(2024, 3)


def _cell(cells, number, code):
    codes = {d.id: d.code for d in queries.department_refs()}
    return next(c for c, t in cells if t.number == number and codes[c.department_id] == code)


def _frozen_cells():
    scope = queries.make_scope(Q3)
    return cells_with_tasks(scope)


def test_period_closes_five_working_days_after_its_due_date(quarter):
    # Due Thu 10-10; then 10-11, Sat 10-12 (a make-up working day), 10-14, 10-15, 10-16.
    assert services.closing_day(Q3) == date(2024, 10, 16)
    quarter.at("2024-10-16 23:00")
    assert services.freeze_due_snapshots() == {}
    quarter.at("2024-10-17 08:00")
    assert list(services.freeze_due_snapshots()) == ["2024Q3"]


def test_snapshot_freezes_and_ignores_late_reports(scenario):
    quarter, liaisons = scenario["quarter"], scenario
    quarter.at("2024-10-17 09:00")
    live_at_close = queries.headline(Q3, today=date(2024, 10, 16), snapshot=None)
    snapshot = services.freeze_due_snapshots()["2024Q3"]
    db.session.commit()
    assert (snapshot.closes_on, snapshot.cell_count) == (date(2024, 10, 16), 74)
    frozen = queries.headline(Q3)
    assert frozen == live_at_close  # nothing changed between the close and the freezing
    assert (frozen.overdue, frozen.submitted) == (8 + 61 - 1 - 1, 5)
    before = [(r.department.code, r.rank, r.on_time_rate) for r in queries.scorecard(Q3)]

    quarter.at("2024-10-18 10:00")  # a late report after the close
    submit(quarter.obligation(3, "mct"), liaisons["mct"])
    assert queries.headline(Q3) == frozen
    assert [(r.department.code, r.rank, r.on_time_rate) for r in queries.scorecard(Q3)] == before
    cell = _cell(_frozen_cells(), 3, "mct")
    assert cell.rag == Rag.RED and cell.light.days_late == 7  # 10-08 → 10-16, Sat 10-12 worked
    assert cell.arrived_late == date(2024, 10, 18)
    assert cell.label == "逾期未报（7个工作日） · 2024-10-18补报"

    assert services.freeze_due_snapshots()["2024Q3"].id == snapshot.id  # idempotent
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Snapshot)) == 1


def test_freezing_late_reconstructs_the_close(scenario, make_user):
    """Frozen months later, the snapshot still shows the quarter as it stood at the close."""
    quarter, liaisons, coordinator = scenario["quarter"], scenario, scenario["coordinator"]
    lead = make_user("liaison", "mohrss")
    quarter.at("2024-10-10 10:00")
    submit(quarter.obligation(3, "mct"), liaisons["mct"])  # item 3's last supporting input
    submit(quarter.obligation(3, "mohrss"), lead)  # the lead's report, on its due date
    quarter.at("2024-10-25 10:00")  # after the close (10-16)
    submit(quarter.obligation(7, "acwf"), liaisons["acwf"])
    accept(quarter.obligation(3, "mohrss"), coordinator)
    quarter.at("2024-12-01 10:00")
    services.freeze_due_snapshots()
    cells = _frozen_cells()
    assert _cell(cells, 3, "mohrss").rag == Rag.BLUE  # accepted only after the close
    assert _cell(cells, 3, "mct").light.label == "已报送待审核 · 迟报2个工作日"
    late = _cell(cells, 7, "acwf")
    assert late.rag == Rag.RED and late.arrived_late == date(2024, 10, 25)


def test_snapshot_rows_cannot_be_changed(scenario):
    scenario["quarter"].at("2024-10-17 09:00")
    services.freeze_due_snapshots()
    db.session.commit()
    cell = db.session.scalars(sa.select(SnapshotCell)).first()
    cell.rag = Rag.GREEN
    with pytest.raises(SnapshotImmutable):
        db.session.flush()
    db.session.rollback()
    totals = db.session.scalars(sa.select(SnapshotDepartment)).first()
    db.session.delete(totals)
    with pytest.raises(SnapshotImmutable):
        db.session.flush()
    db.session.rollback()


def test_frozen_totals_keep_urges(scenario):
    scenario["quarter"].at("2024-10-17 09:00")
    services.freeze_due_snapshots()
    db.session.commit()
    rows = {r.department.code: r for r in queries.scorecard(Q3)}
    assert rows["cdpf"].urges == 1
    snapshot = queries.snapshot_for(Q3)
    trend = queries.trend([Q3])
    acwf = next(d for d in trend.departments if d.code == "acwf")
    assert trend.frozen == [True] and snapshot is not None
    assert trend.rates[acwf.id] == [rows["acwf"].on_time_rate]


def test_freeze_command(scenario, runner):
    scenario["quarter"].at("2024-10-17 09:00")
    result = runner.invoke(args=["freeze-snapshots"])
    assert result.exit_code == 0 and "2024Q3" in result.output
    result = runner.invoke(args=["freeze-snapshots", "--today", "2024-10-16"])
    assert result.exit_code == 0  # nothing more to freeze; the frozen quarter is listed
