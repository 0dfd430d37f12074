"""A and B liaisons: which of a department's liaisons is its main (A角) and its alternate (B角).

One nullable column on ``user`` and a unique index over (department, slot), so that each
department has at most one of each; NULLs (every other user) never clash. A plain
``ADD COLUMN`` on both databases: nothing is copied.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user", sa.Column("liaison_slot", sa.String(length=16), nullable=True))
    op.create_index(
        "uq_user_department_liaison_slot", "user", ["department_id", "liaison_slot"], unique=True
    )


def downgrade():
    op.drop_index("uq_user_department_liaison_slot", table_name="user")
    op.drop_column("user", "liaison_slot")  # SQLite 3.35+ drops a column in place
