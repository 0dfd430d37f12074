"""The compact per-item form of received roll-ups (``federation_rollup_item``): written with
each receipt, and the provinces matrix and its totals read it, never the bodies, and give the
answer the bodies gave."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import sqlalchemy as sa

from tests.conftest import beijing
from tests.federation.conftest import SEED_NUMBER, rollup_body, seed_document
from tests.federation.provinces import receive, register
from tracker import clock
from tracker.catalogue.models import Task
from tracker.dashboard.delivery_light import SUGGESTED_STEP, delivery_light
from tracker.extensions import db
from tracker.federation import queries, services
from tracker.federation.models import ReceivedRollup, RollupItem


def _indicator_keys() -> list[str]:
    return [
        i["key"]
        for p in queries.export_document(seed_document())["plans"]
        if p["item_number"] == 23
        for i in p["indicators"]
    ]


def _items(revision: int, values: list[str], status: str, counties: dict | None = None):
    """Item 1 with a narrative only, item 23 with every indicator of its plan and the centre's
    milestone, and item 23 named a second time (the later one is the one that counts)."""
    keys = _indicator_keys()
    indicators = [{"key": k, "value": v} for k, v in zip(keys, values, strict=False)]
    if counties:
        indicators[0]["counties"] = counties
    return [
        {"item_number": 1, "narrative": f"第{revision}版：已部署。", "milestones": [],
         "indicators": [], "units_reporting": 1},
        {"item_number": 23, "narrative": "先报的一条，被后一条取代。",
         "milestones": [{"key": "m-ledger", "status": "not_done", "note": ""}],
         "indicators": [{"key": keys[0], "value": "999"}], "units_reporting": 9},
        {"item_number": 23, "narrative": "全省完成摸底排查。\n分两批推进。",
         "milestones": [{"key": "m-ledger", "status": status, "note": "备注"}],
         "indicators": indicators, "units_reporting": 3},
    ]  # fmt: skip


def _realistic_cascade() -> dict:
    """河北 a first revision and a correction (other values, the milestone now done, a
    county-counted value); 山西 one revision; 辽宁 nothing; 吉林 a roll-up, then revoked
    (still listed); 兵团 revoked with nothing (not listed)."""
    members = register()
    counted = {"reporting": 4, "of": 5}
    receive(members["130000"], 1, "2024-10-09 10:00",
            items=_items(1, ["100", "20", "3.5", "7", "0"], "partly"))  # fmt: skip
    receive(members["130000"], 2, "2024-10-15 09:00",
            items=_items(2, ["150", "25", "4", "8", "1"], "done", counted))  # fmt: skip
    receive(members["140000"], 1, "2024-10-14 09:00",
            items=_items(1, ["50", "5", "1.25", "2", "0"], "not_done"))  # fmt: skip
    receive(members["220000"], 1, "2024-10-10 09:00",
            items=_items(1, ["10", "1", "2", "1", "0"], "done"))  # fmt: skip
    services.revoke_member(members["220000"], actor=None)
    services.revoke_member(members["650000"], actor=None)
    db.session.commit()
    return members


def _matrix_from_bodies(period: str) -> queries.Matrix:
    """The matrix as it was computed before the compact form: each member's latest revision
    with its whole body, each item's cell from the body's item (a later one of the same number
    winning), the totals over those cells."""
    document = seed_document()
    tasks = db.session.execute(
        sa.select(Task.id, Task.number).where(Task.document_id == document.id).order_by(Task.number)
    ).all()
    due = queries._due_milestones(tasks, period)
    latest: dict[int, ReceivedRollup] = {}
    for row in db.session.scalars(sa.select(ReceivedRollup).where(ReceivedRollup.period == period)):
        if row.member_id not in latest or row.revision > latest[row.member_id].revision:
            latest[row.member_id] = row
    rows = []
    for member in queries.members():
        if member.revoked_at is not None and member.id not in latest:
            continue
        row = queries.ProvinceRow(member, latest.get(member.id))
        if row.rollup is not None:
            for item in row.rollup.body["items"]:
                keys = due.get(item["item_number"], [])
                said = {m["key"] for m in item["milestones"] if m["status"] == "done"}
                done = sum(1 for key in keys if key in said)
                step = SUGGESTED_STEP[delivery_light(len(keys), done, []).rag] if keys else None
                row.items[item["item_number"]] = queries.MatrixCell(
                    item["indicators"], item["units_reporting"], len(keys), done, step,
                )  # fmt: skip
        rows.append(row)
    numbers = [number for _, number in tasks]
    return queries.Matrix(document, period, numbers, rows, queries._totals(document, rows))


def _shape(matrix: queries.Matrix) -> list:
    return [
        (row.member.code, row.rollup.id if row.rollup else None,
         row.rollup.revision if row.rollup else None, dict(row.items))
        for row in matrix.rows
    ]  # fmt: skip


def test_each_receipt_stores_its_items_in_the_compact_form_in_the_same_transaction(centre):
    members = register()
    row = receive(members["130000"], 1, "2024-10-09 10:00",
                  items=_items(1, ["100", "20", "3.5", "7", "0"], "done"))  # fmt: skip
    stored = db.session.execute(
        sa.select(RollupItem.position, RollupItem.item_number, RollupItem.units_reporting,
                  RollupItem.narrative, RollupItem.done, RollupItem.indicators)
        .where(RollupItem.rollup_id == row.id)
        .order_by(RollupItem.position)
    ).all()  # fmt: skip
    keys = _indicator_keys()
    assert stored == [
        (0, 1, 1, "第1版：已部署。", None, None),
        (1, 23, 9, "先报的一条，被后一条取代。", None,
         [{"key": keys[0], "value": "999", "counties": None}]),
        (2, 23, 3, "全省完成摸底排查。\n分两批推进。", ["m-ledger"],
         [{"key": k, "value": v, "counties": None}
          for k, v in zip(keys, ["100", "20", "3.5", "7", "0"], strict=False)]),
    ]  # fmt: skip
    # A refused receipt leaves no compact row behind.
    before = db.session.scalar(sa.select(sa.func.count()).select_from(RollupItem))
    bad = rollup_body(2, code="130000")
    bad["items"][0]["item_number"] = 99
    data = services.wire.canonical(bad)
    try:
        services.receive_rollup(members["130000"], data, services.wire.Rollup.model_validate(bad))
    except services.BadSubmission:
        db.session.rollback()
    else:  # pragma: no cover - the centre has no item 99
        raise AssertionError("item 99 was accepted")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RollupItem)) == before


def test_the_matrix_from_the_compact_form_is_the_matrix_from_the_bodies(centre):
    _realistic_cascade()
    with clock.frozen(beijing("2024-11-20 10:00")):  # 2024Q3 has passed: m-ledger is due
        compact = queries.provinces_matrix(seed_document(), "2024Q3")
        bodies = _matrix_from_bodies("2024Q3")
    assert _shape(compact) == _shape(bodies)
    assert compact.totals == bodies.totals and compact.item_numbers == bodies.item_numbers
    # and the answer is the one expected, not merely the same twice
    assert [code for code, *_ in _shape(compact)] == ["130000", "140000", "210000", "220000"]
    hebei = compact.rows[0]
    assert hebei.rollup.revision == 2 and hebei.items[23].units_reporting == 3
    assert (hebei.items[23].done, hebei.items[23].due) == (1, 1)
    assert hebei.items[23].delivery.value == "on_pace" and hebei.items[1].delivery is None
    shanxi = compact.rows[1].items[23]
    assert (shanxi.done, shanxi.due, shanxi.delivery.value) == (0, 1, "behind")
    assert compact.rows[2].rollup is None and compact.rows[2].items == {}
    first = compact.totals[0]
    assert first.item_number == 23 and first.total == Decimal("210")  # 150 + 50 + 10
    assert [(s.name, s.value, s.counties) for s in first.shares] == [
        ("河北省", Decimal("150"), {"reporting": 4, "of": 5}),
        ("山西省", Decimal("50"), None),
        ("吉林省", Decimal("10"), None),
    ]


def test_the_matrix_page_never_selects_a_body(client, centre, make_user, login, count_queries):
    _realistic_cascade()
    login(make_user("coordinator", "mca"))
    with count_queries() as counter:
        page = client.get(
            "/federation/provinces", query_string={"document": SEED_NUMBER, "period": "2024Q3"}
        )
    assert page.status_code == 200
    assert "已报 第2版" in page.get_data(as_text=True)
    assert any("federation_rollup_item" in s for s in counter.statements)
    assert not [s for s in counter.statements if "federation_rollup.body" in s]


def test_a_member_deleted_takes_its_compact_rows_with_it(centre):
    members = _realistic_cascade()
    kept = defaultdict(int)
    for _rollup_id, member_id in db.session.execute(
        sa.select(RollupItem.rollup_id, ReceivedRollup.member_id).join(
            ReceivedRollup, RollupItem.rollup_id == ReceivedRollup.id
        )
    ):
        kept[member_id] += 1
    assert kept[members["130000"].id] == 6  # two revisions of three items
    db.session.execute(
        sa.delete(ReceivedRollup).where(ReceivedRollup.member_id == members["130000"].id)
    )
    db.session.commit()
    left = db.session.scalar(sa.select(sa.func.count()).select_from(RollupItem))
    assert left == sum(kept.values()) - 6
