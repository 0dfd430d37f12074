"""Directory sign-on: ``user.directory_dn`` marks the accounts the directory manages.

A plain nullable column: ``ADD COLUMN`` on both databases, no table copy, every row kept.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user", sa.Column("directory_dn", sa.String(length=255), nullable=True))


def downgrade():
    held = op.get_bind().scalar(
        sa.text('SELECT count(*) FROM "user" WHERE directory_dn IS NOT NULL')
    )
    if held:
        raise RuntimeError(
            "directory accounts exist; downgrading would turn them into local accounts without "
            "a password anyone knows: deactivate or remove them first"
        )
    with op.batch_alter_table("user", recreate="never") as batch_op:
        batch_op.drop_column("directory_dn")
