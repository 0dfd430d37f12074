"""Departments an administrator manages: ``active`` (已停用 when false) and ``managed``.

``active`` is true for every existing department; ``managed`` (changed by an administrator,
so the seed leaves the department alone) is false for all of them. Plain ``ADD COLUMN`` /
``DROP COLUMN`` on both backends, never a batch copy of ``department``, which many tables
reference.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "department",
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column(
        "department",
        sa.Column("managed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    op.drop_column("department", "managed")
    op.drop_column("department", "active")
