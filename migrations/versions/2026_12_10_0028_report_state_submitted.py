"""The review queue by its index: ``report (state, submitted_at)``.

The coordinator's to-do block counts the reports waiting for review and lists the five
submitted longest ago. With no index on the state, both read every report of every quarter
(305,931 at portfolio scale) to find the waiting ones; with this one the count reads the
waiting reports' index entries only and the first five are the index's first five. No table
copy, every row kept.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-10 00:28:00

"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_report_state_submitted_at", "report", ["state", "submitted_at"])


def downgrade():
    op.drop_index("ix_report_state_submitted_at", table_name="report")
