"""Removed evidence stays as a tombstone: when and by whom it was removed.

Two nullable columns on ``evidence``. On SQLite the foreign key needs a batch copy of the
table; nothing references ``evidence``, so the copy loses no rows of another table.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 06:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("removed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_evidence_removed_by_id_user"), "user", ["removed_by_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_evidence_removed_by_id_user"), type_="foreignkey")
        batch_op.drop_column("removed_by_id")
        batch_op.drop_column("removed_at")
