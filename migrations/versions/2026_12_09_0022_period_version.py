"""The dashboard's data versions: ``period_version`` (one row per quarter, and ``*``).

Every change to what the dashboard's aggregate reads gives its quarter's row a new version in
the same transaction, so a cached answer is keyed by a version that moves with the data. A new
table; a quarter's row is created on its first change. The ``*`` row (any quarter) is created
here, with a random version as every bump writes: the dashboard caches nothing while it is
missing, and an existing database may see no catalogue change for a long time.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 08:00:00

"""

import secrets

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
    table = sa.table("period_version", sa.column("period"), sa.column("version"))
    op.bulk_insert(table, [{"period": "*", "version": secrets.randbits(62)}])


def downgrade():
    op.drop_table("period_version")
