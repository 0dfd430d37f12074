"""Background exports: ``export_job``, a workbook queued by a page and written by the scheduler.

A new table only; nothing existing changes.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-09 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("download_name", sa.String(length=255), nullable=False),
        sa.Column(
            "state",
            sa.Enum("queued", "running", "done", "failed", "expired", name="export_state",
                    native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=128), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_export_job_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
    )  # fmt: skip
    op.create_index("ix_export_job_user", "export_job", ["user_id", "id"])
    op.create_index("ix_export_job_state", "export_job", ["state", "id"])


def downgrade():
    op.drop_index("ix_export_job_state", table_name="export_job")
    op.drop_index("ix_export_job_user", table_name="export_job")
    op.drop_table("export_job")
