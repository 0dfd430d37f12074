"""Sign-in lockout.

``login_throttle`` counts recent failed sign-ins per username as typed (whether or not an
account has that name) and holds the lock they led to; a successful sign-in deletes the row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    """Create the throttle table."""
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttle")),
    )


def downgrade():
    """Drop the throttle table."""
    op.drop_table("login_throttle")
