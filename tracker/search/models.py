"""The search indexes. Search has no table of its own: it indexes the text where it is stored.

- SQLite: FTS5 tables with the ``trigram`` tokenizer over ``report``, ``key_figure`` and
  ``task`` (external content: the FTS table holds only the index, the text stays in the
  source row), kept in step by triggers on the source tables, so every write (the ORM, bulk
  inserts of demo data, cascades) updates the index in the same transaction.
- PostgreSQL: GIN indexes with ``gin_trgm_ops`` (the ``pg_trgm`` extension) over the same text,
  which the planner uses for ``ILIKE '%…%'`` of three characters or more; an index is always
  in step by definition.

Neither needs a word segmenter: trigrams are taken over characters, which suits Chinese.
Migration 0011s creates the same objects for an existing database; here they are attached to
the metadata (``after_create`` / ``before_drop``), so that ``create_all`` builds them too.
Alembic cannot describe virtual tables, triggers or expression indexes, so autogenerate and the
migrations test leave these names alone (:func:`is_search_index_object`).
"""

from __future__ import annotations

import sqlalchemy as sa

from tracker.catalogue.models import Task
from tracker.reports.models import KeyFigure, Report

# The narrative a report's readers all read (the lead of the item included): the five text
# fields and the coordinator's review comment. The return reason is indexed apart, since a lead
# reading a supporting department's submitted report never sees its earlier return reason.
REPORT_NARRATIVE_COLUMNS = (
    "progress",
    "problems",
    "practices",
    "suggestions",
    "next_steps",
    "review_comment",
)
REPORT_COLUMNS = (*REPORT_NARRATIVE_COLUMNS, "return_reason")
TASK_COLUMNS = ("text", "clause", "main_text_note")

# PostgreSQL index expressions; queries use the very same SQL so that the planner matches them.
PG_REPORT_NARRATIVE = (
    "(report.progress || ' ' || report.problems || ' ' || report.practices || ' ' || "
    "report.suggestions || ' ' || report.next_steps || ' ' || "
    "coalesce(report.review_comment, ''))"
)
PG_TASK_TEXT = "(task.text || ' ' || task.clause || ' ' || coalesce(task.main_text_note, ''))"

SEARCH_FTS_TABLES = ("search_report_fts", "search_figure_fts", "search_task_fts")
PG_INDEXES = (
    "ix_search_report_narrative",
    "ix_search_report_return_reason",
    "ix_search_figure_name",
    "ix_search_task_text",
)
FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config", "_content")


def is_search_index_object(name: str | None, type_: str) -> bool:
    """Is this a search index object (FTS table, its shadow tables, a trigram index)?"""
    if not name:
        return False
    if type_ == "table":
        return any(name == t or name in {t + s for s in FTS_SHADOW_SUFFIXES}
                   for t in SEARCH_FTS_TABLES)  # fmt: skip
    return type_ == "index" and name in PG_INDEXES


def _fts_sqlite(fts: str, table: str, columns: tuple[str, ...]) -> list[str]:
    """An external-content trigram FTS5 table over ``table`` and the triggers that keep it."""
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    # Names only from this module's constants: nothing here comes from a user.
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"  # noqa: S608
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608
    ]


def sqlite_statements() -> dict[str, list[str]]:
    """The SQLite statements per source table (the migration holds a copy of the same)."""
    return {
        "report": _fts_sqlite("search_report_fts", "report", REPORT_COLUMNS),
        "key_figure": _fts_sqlite("search_figure_fts", "key_figure", ("name",)),
        "task": _fts_sqlite("search_task_fts", "task", TASK_COLUMNS),
    }


def postgresql_statements() -> dict[str, list[str]]:
    """The PostgreSQL indexes per source table (``pg_trgm`` must be installed first)."""
    unqualified = {"report": PG_REPORT_NARRATIVE.replace("report.", ""),
                   "task": PG_TASK_TEXT.replace("task.", "")}  # fmt: skip
    return {
        "report": [
            "CREATE INDEX ix_search_report_narrative ON report USING gin "
            f"({unqualified['report']} gin_trgm_ops)",
            "CREATE INDEX ix_search_report_return_reason ON report USING gin "
            "(return_reason gin_trgm_ops)",
        ],
        "key_figure": [
            "CREATE INDEX ix_search_figure_name ON key_figure USING gin (name gin_trgm_ops)"
        ],
        "task": [
            f"CREATE INDEX ix_search_task_text ON task USING gin "
            f"({unqualified['task']} gin_trgm_ops)"
        ],
    }


def _ddl(statement: str) -> sa.DDL:
    """``sa.DDL(statement)``; SQLAlchemy leaves its constructor unannotated."""
    return sa.DDL(statement)  # type: ignore[no-untyped-call]


def _attach() -> None:
    """Build the indexes whenever ``create_all`` builds their tables (tests, new databases)."""
    sqlite_fts = {"report": "search_report_fts", "key_figure": "search_figure_fts",
                  "task": "search_task_fts"}  # fmt: skip
    tables = {"report": Report.__table__, "key_figure": KeyFigure.__table__,
              "task": Task.__table__}  # fmt: skip
    extension = _ddl("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table in tables.items():
        sa.event.listen(table, "after_create", extension.execute_if(dialect="postgresql"))
        for statement in postgresql_statements()[name]:
            sa.event.listen(table, "after_create", _ddl(statement).execute_if(dialect="postgresql"))
        for statement in sqlite_statements()[name]:
            sa.event.listen(table, "after_create", _ddl(statement).execute_if(dialect="sqlite"))
        # Dropping a table drops its triggers and indexes; the FTS table goes first.
        drop = _ddl(f"DROP TABLE IF EXISTS {sqlite_fts[name]}")
        sa.event.listen(table, "before_drop", drop.execute_if(dialect="sqlite"))


_attach()
