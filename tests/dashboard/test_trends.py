"""Two quarters: the on-time trend per department and each item's change of state."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import accept, submit
from tracker.catalogue.models import Department, Task
from tracker.dashboard import queries, services
from tracker.dashboard.queries import Change
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services as report_services
from tracker.reports.models import Obligation

Q2, Q3 = Period(2024, 2), Period(2024, 3)


def _q2(number: int, code: str) -> Obligation:
    return db.session.scalar(
        sa.select(Obligation)
        .join(Task, Obligation.task_id == Task.id)
        .join(Department, Obligation.department_id == Department.id)
        .where(Task.number == number, Department.code == code, Obligation.period == Q2.key)
    )


@pytest.fixture
def two_quarters(app, scenario, monkeypatch):
    """2024Q2 (due 07-10) with item 10 fully reported on time; the scenario's 2024Q3."""
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q2")
    quarter = scenario["quarter"]
    quarter.at("2024-06-28 10:00")
    report_services.open_period(Q2)
    db.session.commit()
    for code in ("acwf", "mca", "moj"):  # supporting inputs first, then the lead (司法部)
        submit(_q2(10, code), scenario[code])
        accept(_q2(10, code), scenario["coordinator"])
    quarter.at("2024-10-10 14:00")
    return scenario


def test_items_change_since_last_quarter(two_quarters, client, login):
    matrix = queries.matrix(Q3)
    changes = {row.task.number: row.change for row in matrix.rows}
    assert changes[10] == Change.WORSE  # all green in Q2; two supporting inputs red now
    assert changes[5] == Change.BETTER  # red in Q2 (nothing filed); awaiting review now
    assert changes[3] == Change.SAME  # red then, red now (文化和旅游部)
    assert changes[1] == Change.BETTER  # red then; amber (due soon) now
    login(two_quarters["coordinator"])
    html = client.get("/dashboard").get_data(as_text=True)
    assert "↓ 退步" in html and "↑ 好转" in html


def test_trend_reads_frozen_quarters_from_their_snapshot(two_quarters):
    assert list(services.freeze_due_snapshots()) == ["2024Q2"]  # closed on 07-17
    trend = queries.trend([Q2, Q3])
    assert [p.key for p in trend.periods] == ["2024Q2", "2024Q3"]
    assert trend.frozen == [True, False]
    rates = {d.code: trend.rates[d.id] for d in trend.departments}
    assert rates["moj"] == [pytest.approx(1 / 4), 0.0]  # Q2: item 10 on time of 4 overdue-or-in
    assert rates["acwf"] == [pytest.approx(1 / 18), pytest.approx(1 / 4)]
    assert rates["mps"] == [0.0, None]  # nothing judged yet in Q3
    assert trend.overall[1] == pytest.approx(3 / 13)


def test_item_history(two_quarters, client, login):
    task = db.session.scalar(sa.select(Task).where(Task.number == 10))
    services.freeze_due_snapshots()
    db.session.commit()
    history = queries.item_history(task.id, [Q2, Q3])
    codes = [d.code for d, _ in history.departments]
    assert codes[0] == "moj"  # the lead first
    assert history.changes == {"2024Q3": Change.WORSE}
    by_code = {d.code: d.id for d, _ in history.departments}
    assert history.cells[("2024Q2", by_code["acwf"])].light.label == "已审核通过"
    assert history.cells[("2024Q3", by_code["acwf"])].light.label == "逾期未报（2个工作日）"
    assert history.department_changes[("2024Q3", by_code["acwf"])] == Change.WORSE
    login(two_quarters["moj"])
    html = client.get(f"/dashboard/items/{task.id}").get_data(as_text=True)
    assert "已封存" in html and "退步" in html
