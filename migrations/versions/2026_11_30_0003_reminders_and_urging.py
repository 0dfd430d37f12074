"""Reminders, notifications, e-mail outbox, urges (催办) and extension requests.

Placeholder in the linear chain, filled in by the work that needs these tables.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:00:00

"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    """Nothing yet."""


def downgrade():
    """Nothing yet."""
