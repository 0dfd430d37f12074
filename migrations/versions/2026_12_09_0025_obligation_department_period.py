"""A department's obligations of one quarter: an index on ``obligation (department_id, period)``.

The liaison's ``/reports`` page and the department's to-do block read one department's
obligations of one or a few quarters; by the period's index alone they probed every department's
obligations of the quarter. No table copy, every row kept.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-09 00:25:00

"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_obligation_department_id_period", "obligation", ["department_id", "period"])


def downgrade():
    op.drop_index("ix_obligation_department_id_period", table_name="obligation")
