"""JSON API tokens.

Placeholder in the linear chain, filled in by the work that needs these tables.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:00:00

"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    """Nothing yet."""


def downgrade():
    """Nothing yet."""
