"""The dashboard's data versions: ``period_version`` (one row per quarter, and ``*``).

Every change to what the dashboard's aggregate reads bumps its quarter's row in the same
transaction, so a cached answer is keyed by a version that moves with the data. A new table;
rows are created on the first change, so nothing needs filling.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 08:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "period_version",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_period_version")),
    )


def downgrade():
    op.drop_table("period_version")
