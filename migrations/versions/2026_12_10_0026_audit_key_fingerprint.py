"""The audit chain's head remembers which key sealed it: ``audit_chain.key_fingerprint``.

A writer sealing with another key appends an ``audit.key_rotate`` row first (see
tracker/audit/chain.py). Existing heads start empty: the first seal after the upgrade records
the key in force then, without a rotation row. No table copy, every row kept.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-10 00:26:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_chain") as batch:
        batch.add_column(
            sa.Column("key_fingerprint", sa.String(length=16), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("audit_chain") as batch:
        batch.drop_column("key_fingerprint")
