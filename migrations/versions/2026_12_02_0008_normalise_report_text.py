"""Normalise the free text of stored reports and of their versions once.

Reports saved through the browser kept its CRLF line breaks (and any spaces at the ends of
lines), while a workbook gives LF back, so an untouched template looked changed. Text now
enters normalised (``tracker.reports.limits.normalise_text``); this revision brings what was
stored before into the same form: the narrative and review fields of ``report`` and the same
keys inside each ``report_version.content``. Rows are read in batches by id and only those
whose text changes are written, so the revision works on SQLite and PostgreSQL alike and can
run again without effect.

The rule is copied here rather than imported: a revision must keep doing what it did when it
was written, whatever later becomes of the application's code.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 09:00:00

"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 500
TEXT_FIELDS = (
    "progress",
    "problems",
    "practices",
    "suggestions",
    "next_steps",
    "return_reason",
    "review_comment",
)

report = sa.table(
    "report", sa.column("id", sa.Integer), *(sa.column(n, sa.Text) for n in TEXT_FIELDS)
)
report_version = sa.table(
    "report_version", sa.column("id", sa.Integer), sa.column("content", sa.JSON)
)


def normalise_text(value: str) -> str:
    """LF line breaks, no trailing white space on any line or at the end, no leading blank
    lines; indentation kept (the rule of ``normalise_text`` when this revision was written)."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip().lstrip("\n")


def _normalised(row: Any) -> dict[str, Any]:
    """The text fields of ``row`` (a mapping) that change when normalised, with new values."""
    return {
        name: normalise_text(row[name])
        for name in TEXT_FIELDS
        if isinstance(row.get(name), str) and normalise_text(row[name]) != row[name]
    }


def _batches(table: sa.TableClause, *columns: sa.ColumnClause[Any]):
    """The table's rows in id order, BATCH at a time (keyset paging: no OFFSET rescans)."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = (
            connection.execute(
                sa.select(table.c.id, *columns)
                .where(table.c.id > last)
                .order_by(table.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def upgrade():
    """Rewrite the report text and the version contents that are not normalised yet."""
    connection = op.get_bind()
    for rows in _batches(report, *(report.c[name] for name in TEXT_FIELDS)):
        for row in rows:
            changed = _normalised(row)
            if changed:
                connection.execute(
                    report.update().where(report.c.id == row["id"]).values(**changed)
                )
    for rows in _batches(report_version, report_version.c.content):
        for row in rows:
            content = row["content"]
            changed = _normalised(content) if isinstance(content, dict) else {}
            if changed:
                connection.execute(
                    report_version.update()
                    .where(report_version.c.id == row["id"])
                    .values(content={**content, **changed})
                )


def downgrade():
    """Nothing to undo: the normalised text means what it meant before (the original line
    breaks and trailing spaces are not kept anywhere), and the schema did not change."""
