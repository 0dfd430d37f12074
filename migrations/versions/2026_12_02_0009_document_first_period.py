"""Each policy document's own first reporting period.

``policy_document.first_period`` (``2026Q4``): opening an earlier quarter creates none of the
document's obligations. Existing rows are filled with the earliest period the document already
has obligations for (``TRACKER_FIRST_PERIOD`` of the running app cannot be known here, and
those obligations are what it tracked), else the quarter of its creation in Beijing time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00

"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Stored timestamps are UTC; quarters are judged in Beijing time (UTC+8, no daylight saving).
_BEIJING = timedelta(hours=8)


def _quarter_of(created_at: datetime) -> str:
    local = created_at.replace(tzinfo=None) + _BEIJING
    return f"{local.year:04d}Q{(local.month - 1) // 3 + 1}"


def upgrade():
    """Add the column and fill it for every existing document."""
    op.add_column("policy_document", sa.Column("first_period", sa.String(length=6), nullable=True))
    bind = op.get_bind()
    document = sa.table(
        "policy_document",
        sa.column("id", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("first_period", sa.String),
    )
    task = sa.table("task", sa.column("id", sa.Integer), sa.column("document_id", sa.Integer))
    obligation = sa.table(
        "obligation", sa.column("task_id", sa.Integer), sa.column("period", sa.String)
    )
    earliest = dict(
        bind.execute(
            sa.select(task.c.document_id, sa.func.min(obligation.c.period))
            .select_from(obligation.join(task, obligation.c.task_id == task.c.id))
            .group_by(task.c.document_id)
        ).all()
    )
    for document_id, created_at in bind.execute(
        sa.select(document.c.id, document.c.created_at)
    ).all():
        first = earliest.get(document_id) or _quarter_of(created_at)
        bind.execute(
            document.update().where(document.c.id == document_id).values(first_period=first)
        )


def downgrade():
    """Drop the column (documents are then tracked from the global first period again).

    A plain ALTER TABLE … DROP COLUMN (SQLite 3.35 and later have it), never a batch copy: on
    SQLite a batch drops and recreates the table, and with foreign keys on, dropping
    ``policy_document`` would delete every task, obligation and report that cascades from it.
    """
    op.drop_column("policy_document", "first_period")
