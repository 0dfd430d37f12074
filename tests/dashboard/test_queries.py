"""The constructed quarter: every colour, the headline, the scorecard and its ranks, exactly."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.catalogue.models import Department
from tracker.dashboard import queries
from tracker.dashboard.queries.cell import cells_with_tasks
from tracker.dashboard.rag import Rag
from tracker.extensions import db
from tracker.periods import Period

Q3 = Period(2024, 3)


def _codes():
    return {d.id: d.code for d in db.session.query(Department)}


def _matrix():
    codes = _codes()
    scope = queries.make_scope(Q3)
    rows = cells_with_tasks(scope)
    return {(task.number, codes[c.department_id]): c for c, task in rows}


def test_every_colour_with_its_text_label(scenario):
    cells = _matrix()
    seen = {key: (c.rag.value, c.role.short, c.light.short, c.label) for key, c in cells.items()}
    assert seen[(3, "acwf")] == ("green", "配", "通过", "已审核通过")
    assert seen[(3, "moa")] == ("blue", "配", "待审", "已报送待审核")
    assert seen[(3, "mct")] == ("red", "配", "逾期2", "逾期未报（2个工作日）")
    assert seen[(3, "mohrss")] == ("amber", "牵", "临期", "临近截止（今日截止）")
    assert seen[(11, "moj")] == ("green", "配", "通过·迟", "已审核通过 · 迟报2个工作日")
    assert seen[(11, "moa")] == ("grey", "配", "豁免", "已豁免")
    assert seen[(11, "acwf")] == ("amber", "配", "退回·迟", "已退回 · 迟报1个工作日")
    assert seen[(5, "mca")] == ("blue", "牵", "待审", "已报送待审核")
    assert seen[(1, "mca")] == ("amber", "共", "临期", "临近截止（今日截止）")
    assert seen[(2, "moa")] == ("grey", "共", "未到期", "未到期")
    assert Counter(c.rag for c in cells.values()) == {
        Rag.AMBER: 60, Rag.RED: 8, Rag.GREEN: 2, Rag.BLUE: 2, Rag.GREY: 2,
    }  # fmt: skip
    reds = sorted(key for key, c in cells.items() if c.rag == Rag.RED)
    assert reds == [(3, "mct"), (10, "acwf"), (10, "mca"), (18, "cpad"), (18, "mca"),
                    (18, "moa"), (18, "nwccw"), (23, "acwf")]  # fmt: skip


def test_headline(scenario):
    h = queries.headline(Q3)
    assert (h.obligations, h.waived, h.submitted, h.accepted, h.pending_review) == (73, 1, 5, 2, 2)
    assert (h.on_time, h.judged, h.overdue, h.returned, h.due_soon) == (3, 13, 8, 1, 59)
    assert h.on_time_rate == pytest.approx(3 / 13)
    assert h.avg_days_late == pytest.approx(19 / 10)  # (2 + 1 + 8 × 2) / 10


def test_scorecard_figures_and_ranks(scenario):
    rows = queries.scorecard(Q3)
    table = [
        (r.rank, r.department.code, r.obligations, r.on_time, r.judged,
         None if r.avg_days_late is None else round(r.avg_days_late, 3), r.returns, r.urges,
         r.overdue)
        for r in rows
    ]  # fmt: skip
    assert table == [
        (1, "moa", 6, 1, 2, 2.0, 0, 0, 1),
        (2, "mca", 16, 1, 3, 2.0, 0, 0, 2),
        (3, "acwf", 18, 1, 4, 1.667, 1, 0, 2),
        (4, "moj", 4, 0, 1, 2.0, 0, 0, 0),
        (5, "nwccw", 7, 0, 1, 2.0, 0, 0, 1),
        (6, "mct", 4, 0, 1, 2.0, 0, 0, 1),
        (7, "cpad", 3, 0, 1, 2.0, 0, 0, 1),
        (8, "mps", 2, 0, 0, None, 0, 0, 0),
        (8, "mof", 2, 0, 0, None, 0, 0, 0),
        (8, "mohrss", 3, 0, 0, None, 0, 0, 0),
        (8, "nhc", 4, 0, 0, None, 0, 0, 0),
        (8, "sport", 2, 0, 0, None, 0, 0, 0),
        (13, "cdpf", 2, 0, 0, None, 0, 1, 0),
    ]
    by_code = {r.department.code: r for r in rows}
    assert by_code["moa"].on_time_rate == 0.5 and by_code["moa"].red_share == pytest.approx(1 / 6)
    assert by_code["acwf"].red_share == pytest.approx(2 / 18)
    assert by_code["mohrss"].on_time_rate is None and by_code["mohrss"].red_share == 0


def test_lead_departments_behind(scenario):
    leads = [
        (s.department.code, s.items, s.behind, s.by_rag.get(Rag.BLUE, 0), s.support_pending)
        for s in queries.lead_summary(Q3)
    ]
    # 全国妇联 leads items 7, 16, 18, 20 (all due soon) and waits on four inputs of item 18;
    # 司法部 waits on two of item 10; 民政部's item 5 is in, item 23 waits on 全国妇联.
    assert leads == [
        ("acwf", 4, 4, 0, 4),
        ("moj", 1, 1, 0, 2),
        ("mca", 2, 1, 1, 1),
        ("mps", 1, 1, 0, 1),  # item 11: 全国妇联's input was returned
        ("mohrss", 1, 1, 0, 1),  # item 3: 文化和旅游部 is overdue
    ]


def test_lead_items_show_each_supporting_input(scenario):
    codes = _codes()
    items = queries.lead_items(Q3, next(i for i, c in codes.items() if c == "mps"))
    assert [item.task.number for item in items] == [11]
    item = items[0]
    assert item.lead.rag == Rag.AMBER and item.behind
    inputs = {codes[c.department_id]: c.light.label for c in item.supporting}
    assert inputs == {
        "moj": "已审核通过 · 迟报2个工作日",
        "moa": "已豁免",
        "acwf": "已退回 · 迟报1个工作日",
    }


def test_department_limits_keep_the_global_rank(scenario):
    acwf = next(i for i, c in _codes().items() if c == "acwf")
    rows = queries.scorecard(Q3, department_ids={acwf})
    assert [(r.department.code, r.rank) for r in rows] == [("acwf", 3)]
    head = queries.headline(Q3, department_ids={acwf})
    assert (head.obligations, head.overdue, head.submitted, head.returned) == (18, 2, 2, 1)
    assert {c.department_id for c in queries.cells(Q3, department_ids={acwf})} == {acwf}


def test_dashboard_data_is_json_ready(scenario):
    import json

    data = queries.dashboard_data(Q3)
    assert json.loads(json.dumps(data)) == data
    assert (data["period"], data["frozen"], data["judged_on"]) == ("2024Q3", False, "2024-10-10")
    assert data["headline"]["overdue"] == 8 and len(data["scorecard"]) == 13
    cell = next(c for c in data["cells"] if c["task_number"] == 3 and c["department"] == "mct")
    assert cell | {"obligation_id": 0, "task_id": 0} == {
        "obligation_id": 0, "task_id": 0, "task_number": 3, "document": "民发〔2019〕86号",
        "section": "二(一)", "department": "mct", "role": "support", "state": "overdue",
        "rag": "red", "label": "逾期未报（2个工作日）", "due_date": "2024-10-08", "days_late": 2,
        "late": False, "arrived_late": None,
    }  # fmt: skip


def test_matrix_pages(scenario):
    first = queries.matrix(Q3, per_page=10)
    assert (first.items, first.pages, first.page) == (23, 3, 1)
    assert [row.task.number for row in first.rows] == list(range(1, 11))
    last = queries.matrix(Q3, per_page=10, page=3)
    assert [row.task.number for row in last.rows] == [21, 22, 23]
    beyond = queries.matrix(Q3, per_page=10, page=9)  # past the end: the first page
    assert beyond.page == 1
    red = queries.matrix(Q3, rag="red")
    assert [row.task.number for row in red.rows] == [3, 10, 18, 23]
    assert {c.rag for row in red.rows for c in row.cells.values()} == {Rag.RED}


# -- urges follow the scorecard's filters ------------------------------------------------------


@pytest.fixture
def urged(quarter, make_user):
    """民政部 urged three times in 2024Q3: item 5 (lead) and item 1 (joint) of 民发〔2019〕86号,
    and the one item it leads in a second document; 公安部 once, on item 22 (joint)."""
    from datetime import date

    import sqlalchemy as sa

    from tracker.catalogue.models import Assignment, Jurisdiction, PolicyDocument, Task
    from tracker.followups import services as reminders
    from tracker.reports import services
    from tracker.reports.models import Obligation

    mca = db.session.scalar(sa.select(Department).where(Department.code == "mca"))
    other = PolicyDocument(number="民发〔2020〕1号", title="另一件文件", issuer="民政部",
                           issued=date(2020, 1, 1))  # fmt: skip
    task = Task(document=other, number=1, text="另一项任务", clause="民政部负责", section="二")
    db.session.add_all([other, task])
    db.session.flush()
    db.session.add(Assignment(task=task, department_id=mca.id,
                              jurisdiction_id=db.session.scalar(sa.select(Jurisdiction.id)),
                              role="lead"))  # fmt: skip
    services.open_period(Q3)
    coordinator = make_user("coordinator", "mca")
    elsewhere = db.session.scalar(sa.select(Obligation).where(Obligation.task_id == task.id))
    for obligation in (quarter.obligation(5, "mca"), quarter.obligation(1, "mca"), elsewhere,
                       quarter.obligation(22, "mps")):  # fmt: skip
        reminders.urge_obligation(obligation, actor=coordinator)
    db.session.commit()
    return {"first": quarter.obligation(5, "mca").task.document_id, "second": other.id,
            "coordinator": coordinator}  # fmt: skip


def _urges(**filters) -> dict[str, int]:
    codes = _codes()
    return {codes[r.department.id]: r.urges for r in queries.scorecard(Q3, **filters) if r.urges}


def test_urges_count_only_on_the_obligations_the_scorecard_covers(urged):
    assert _urges() == {"mca": 3, "mps": 1}
    assert _urges(document_id=urged["first"]) == {"mca": 2, "mps": 1}
    assert _urges(document_id=urged["second"]) == {"mca": 1}
    assert _urges(role="lead") == {"mca": 2}
    assert _urges(role="joint", document_id=urged["first"]) == {"mca": 1, "mps": 1}


def test_a_frozen_quarter_counts_the_urges_made_by_its_freezing(urged, quarter, make_user):
    import sqlalchemy as sa

    from tracker.dashboard import services
    from tracker.followups import services as reminders
    from tracker.followups.models import Urge

    services.freeze_snapshot(Q3)
    db.session.commit()
    quarter.at("2024-10-30 10:00")
    reminders.urge_obligation(quarter.obligation(12, "mca"), actor=urged["coordinator"])
    for urge in db.session.scalars(sa.select(Urge)):
        if urge.acknowledged_at is None and urge.obligation.department.code == "mca":
            reminders.acknowledge_urge(urge, actor=make_user("liaison", "mca"))
    db.session.commit()
    assert _urges() == {"mca": 3, "mps": 1}  # the totals kept in the snapshot
    assert _urges(document_id=urged["first"]) == {"mca": 2, "mps": 1}
    assert _urges(role="joint") == {"mca": 1, "mps": 1}
    rows = queries.scorecard(Q3, document_id=urged["first"])
    assert all(row.acknowledged == 0 for row in rows)  # acknowledged after the freezing
    live = queries.scorecard(Period(2024, 3), document_id=urged["first"], snapshot=None)
    assert {_codes()[r.department.id]: r.acknowledged for r in live if r.urges} == {
        "mca": 3,
        "mps": 0,
    }
