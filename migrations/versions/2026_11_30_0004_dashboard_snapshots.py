"""Dashboard: quarter snapshots and synthetic-data markers.

Placeholder in the linear chain, filled in by the work that needs these tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:00:00

"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    """Nothing yet."""


def downgrade():
    """Nothing yet."""
