"""A quarter's county counts by their own index: ``county_value (period, indicator_key,
county_id, value)``.

The county ledger, the totals by prefecture and the province's totals read one quarter's counts;
with the index on ``(indicator_key, period)`` and the unique one led by ``county_id``, both
backends scanned every quarter's counts (150 counties × 23 indicators × 20 quarters: 69,000 rows
to find 3,450). The new index leads with the quarter and covers the columns those reads take.
No table copy, every row kept.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-11 00:31:00

"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_county_value_period_indicator",
        "county_value",
        ["period", "indicator_key", "county_id", "value"],
    )


def downgrade():
    op.drop_index("ix_county_value_period_indicator", table_name="county_value")
