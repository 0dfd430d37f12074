"""Search indexes over tasks, reports and key figures (no new table).

SQLite: external-content FTS5 tables with the trigram tokenizer (``search_report_fts``,
``search_figure_fts``, ``search_task_fts``), filled from the rows already stored
(``'rebuild'``) and kept in step by triggers on ``report``, ``key_figure`` and ``task``.

PostgreSQL: the ``pg_trgm`` extension and GIN ``gin_trgm_ops`` indexes over the same text. The
extension is created when missing; a role that may not create it gets a message saying what to
ask the database administrator for, and nothing is changed. Downgrade drops the indexes and
leaves the extension, which other databases' objects or tools may use.

The statements are the ones ``tracker/search/models.py`` attaches to ``create_all``; a test
compares what the two build.

Revision ID: 0011s
Revises: 0011
Create Date: 2026-12-02 18:00:00

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0011s"
down_revision = "0011"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

REPORT_COLUMNS = ("progress", "problems", "practices", "suggestions", "next_steps",
                  "review_comment", "return_reason")  # fmt: skip
FTS = {
    "search_report_fts": ("report", REPORT_COLUMNS),
    "search_figure_fts": ("key_figure", ("name",)),
    "search_task_fts": ("task", ("text", "clause", "main_text_note")),
}
PG_INDEXES = {
    "ix_search_report_narrative": (
        "report",
        "(progress || ' ' || problems || ' ' || practices || ' ' || suggestions || ' ' || "
        "next_steps || ' ' || coalesce(review_comment, ''))",
    ),
    "ix_search_report_return_reason": ("report", "return_reason"),
    "ix_search_figure_name": ("key_figure", "name"),
    "ix_search_task_text": (
        "task",
        "(text || ' ' || clause || ' ' || coalesce(main_text_note, ''))",
    ),
}

NO_PRIVILEGE = (
    "0011s: the PostgreSQL extension pg_trgm is not installed in this database and the role "
    "running the migration may not create it. Ask the database administrator to run, in this "
    "database: CREATE EXTENSION pg_trgm;  (or to grant this role CREATE on the database: "
    "pg_trgm is a trusted extension), then run the upgrade again. Nothing was changed."
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        return
    for fts in FTS:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")


def _upgrade_sqlite():
    for fts, (table, columns) in FTS.items():
        cols = ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        # Names only from the constants above: nothing here comes from a user.
        delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"  # noqa: S608
        insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"  # noqa: S608
        op.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
            f"content_rowid='id', tokenize='trigram')"
        )
        op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END")
        op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END")
        op.execute(
            f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END"
        )
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")  # noqa: S608


def _upgrade_postgresql():
    bind = op.get_bind()
    installed = bind.scalar(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
    if not installed:
        allowed = bind.scalar(
            sa.text(
                "SELECT rolsuper OR has_database_privilege(current_database(), 'CREATE') "
                "FROM pg_roles WHERE rolname = current_user"
            )
        )
        if not allowed:
            raise RuntimeError(NO_PRIVILEGE)
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    if not bind.scalar(sa.text("SELECT array_length(show_trgm('留守妇女'), 1)")):
        log.warning(
            "0011s: pg_trgm finds no trigram in Chinese text: the database's LC_CTYPE (%s) "
            "does not class Chinese characters as letters. Search still finds every match, "
            "but without the index; use a UTF-8 LC_CTYPE (C.UTF-8, zh_CN.UTF-8).",
            bind.scalar(sa.text("SHOW lc_ctype")),
        )
    for name, (table, expression) in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} USING gin ({expression} gin_trgm_ops)")
