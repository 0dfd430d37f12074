"""The delivery lights of a whole quarter (what freezing a snapshot reads) from demo plans:
the same answer item by item and all at once, and on SQLite read from the items' side, never
by walking every submitted report of history (which took minutes at portfolio scale)."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from tracker.catalogue.models import PolicyDocument, Task
from tracker.dashboard.queries.delivery import item_deliveries
from tracker.extensions import db
from tracker.reports import queries as report_queries


@contextmanager
def statements():
    """Every SELECT sent while it listens, with its parameters."""
    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


def _demo(app, quarter, runner, monkeypatch) -> list[int]:
    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", None)
    quarter.at("2024-10-08 14:00")
    args = ["demo-data", "--documents", "2", "--quarters", "4", "--items", "6", "--seed", "5"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    synthetic = sa.select(Task.id).join(PolicyDocument).where(PolicyDocument.synthetic)
    return sorted(db.session.scalars(synthetic))


def test_a_quarter_at_once_is_each_item_alone(app, quarter, runner, monkeypatch):
    task_ids = _demo(app, quarter, runner, monkeypatch)
    periods = report_queries.tracked_periods()
    latest = max(periods)
    together = item_deliveries(task_ids, [latest])
    assert {d.suggested for d in together.values()} - {None}, "demo plans suggest something"
    for task_id in task_ids:
        alone = item_deliveries([task_id], [latest])
        for key in (latest.key, latest.previous().key):
            assert alone[(task_id, key)] == together[(task_id, key)], (task_id, key)


def test_on_sqlite_the_plan_reads_start_from_the_items(app, quarter, runner, monkeypatch):
    task_ids = _demo(app, quarter, runner, monkeypatch)
    latest = max(report_queries.tracked_periods())
    with statements() as seen:
        item_deliveries(task_ids, [latest])
        report_queries.overdue_milestones()
        report_queries.indicator_results(task_ids[0], report_queries.tracked_periods())
    reads = [(s, p) for s, p in seen if "report_milestone_status" in s or "indicator_value" in s]
    assert len(reads) >= 4, reads
    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL plans from the statistics it keeps; nothing to read here
    for statement, parameters in reads:
        plan = _plan(statement, parameters)
        assert "ix_report_state" not in plan, plan


def _plan(statement: str, parameters) -> str:
    raw = db.session.connection().connection.driver_connection
    rows = raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


def test_chunks_cut_in_order():
    from tracker.db import chunked

    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


def test_a_portfolio_read_in_chunks_gives_the_same_lights(app, quarter, runner, monkeypatch):
    """Long IN lists go in several statements (SQLite takes 32,766 parameters at most): cut
    into chunks of three items, the lights are the same as read at once."""
    import importlib

    import tracker.dashboard.queries.delivery as delivery

    db_module = importlib.import_module("tracker.db")  # ``tracker.db`` names the extension
    task_ids = _demo(app, quarter, runner, monkeypatch)
    latest = max(report_queries.tracked_periods())
    periods = {latest.key: None}
    at_once = item_deliveries(task_ids, [latest], periods)
    monkeypatch.setattr(db_module, "IN_CHUNK", 3)
    monkeypatch.setattr(delivery, "IN_CHUNK", 8)  # values: two items a statement
    with statements() as seen:
        chunked = item_deliveries(task_ids, [latest], periods)
    assert chunked == at_once
    assert len(seen) > 2 * len(task_ids) // 3  # it did cut them
