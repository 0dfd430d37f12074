"""Dashboard: quarter snapshots and synthetic-data markers.

``dashboard_snapshot`` is one closed period's frozen dashboard; ``dashboard_snapshot_cell`` one
obligation's light in it; ``dashboard_snapshot_department`` a department's frozen totals (urges
received, the trend's counts). ``policy_document.synthetic`` marks documents made by
``flask demo-data``, so that demo data is told apart from real documents. The index on
``obligation (task_id, period)`` serves the dashboard's per-item lookups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade():
    """Create the snapshot tables and add the synthetic marker."""
    op.create_table(
        "dashboard_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("cell_count", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshot")),
        sa.UniqueConstraint("period", name=op.f("uq_dashboard_snapshot_period")),
    )
    op.create_table(
        "dashboard_snapshot_department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("obligations", sa.Integer(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("urges", sa.Integer(), nullable=False),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_dashboard_snapshot_department_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dashboard_snapshot.id"],
            name=op.f("fk_dashboard_snapshot_department_snapshot_id_dashboard_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshot_department")),
        sa.UniqueConstraint(
            "snapshot_id",
            "department_id",
            name=op.f("uq_dashboard_snapshot_department_snapshot_id_department_id"),
        ),
    )
    with op.batch_alter_table("dashboard_snapshot_department", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dashboard_snapshot_department_department_id"),
            ["department_id"],
            unique=False,
        )

    op.create_table(
        "dashboard_snapshot_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("role", _enum("snapshot_role", "lead", "support", "joint"), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=True),
        sa.Column(
            "reason",
            _enum(
                "snapshot_reason",
                "waived",
                "accepted",
                "submitted",
                "returned",
                "overdue",
                "due_soon",
                "not_due",
            ),
            nullable=False,
        ),
        sa.Column(
            "rag", _enum("snapshot_rag", "green", "blue", "amber", "red", "grey"), nullable=False
        ),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("days_late", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("returns", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_dashboard_snapshot_cell_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["policy_document.id"],
            name=op.f("fk_dashboard_snapshot_cell_document_id_policy_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligation.id"],
            name=op.f("fk_dashboard_snapshot_cell_obligation_id_obligation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["dashboard_snapshot.id"],
            name=op.f("fk_dashboard_snapshot_cell_snapshot_id_dashboard_snapshot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_dashboard_snapshot_cell_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_snapshot_cell")),
        sa.UniqueConstraint(
            "snapshot_id",
            "obligation_id",
            name=op.f("uq_dashboard_snapshot_cell_snapshot_id_obligation_id"),
        ),
    )
    with op.batch_alter_table("dashboard_snapshot_cell", schema=None) as batch_op:
        for column in ("department_id", "document_id", "obligation_id", "task_id"):
            batch_op.create_index(
                batch_op.f(f"ix_dashboard_snapshot_cell_{column}"), [column], unique=False
            )
        batch_op.create_index(
            "ix_dashboard_snapshot_cell_snapshot_task", ["snapshot_id", "task_id"], unique=False
        )

    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.create_index("ix_obligation_task_id_period", ["task_id", "period"], unique=False)

    # Plain ALTER TABLE (SQLite 3.35+ too): a batch copy of policy_document would cascade
    # through its foreign keys on SQLite.
    op.add_column(
        "policy_document",
        sa.Column("synthetic", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    """Drop the synthetic marker and the snapshot tables, dependants first."""
    op.drop_column("policy_document", "synthetic")
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_index("ix_obligation_task_id_period")

    with op.batch_alter_table("dashboard_snapshot_cell", schema=None) as batch_op:
        batch_op.drop_index("ix_dashboard_snapshot_cell_snapshot_task")
        for column in ("task_id", "obligation_id", "document_id", "department_id"):
            batch_op.drop_index(batch_op.f(f"ix_dashboard_snapshot_cell_{column}"))
    op.drop_table("dashboard_snapshot_cell")

    with op.batch_alter_table("dashboard_snapshot_department", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_snapshot_department_department_id"))
    op.drop_table("dashboard_snapshot_department")
    op.drop_table("dashboard_snapshot")
