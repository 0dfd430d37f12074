"""A user's work phone (联系电话), for the contact directory: one nullable column.

A plain ``ADD COLUMN`` / ``DROP COLUMN`` on both backends, never a batch copy of ``user``:
on SQLite a copy would drop and recreate a table that many others reference.

Revision ID: 0012
Revises: 0011s
Create Date: 2026-12-03 03:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011s"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user", sa.Column("phone", sa.String(32), nullable=True))


def downgrade():
    op.drop_column("user", "phone")
