"""Delivery plans (序时进度): versioned plans per item and department, their milestones and
indicators, and per report the indicators' typed values and the milestones' status.

New tables only: nothing existing is touched, and the downgrade drops them (children first).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "delivery_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "proposed",
                "returned",
                "approved",
                "superseded",
                name="plan_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("change_reason", sa.Text(), nullable=True),
        sa.Column("return_reason", sa.Text(), nullable=True),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("proposed_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_delivery_plan_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_delivery_plan_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"], ["user.id"], name=op.f("fk_delivery_plan_proposed_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_delivery_plan_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_plan")),
        sa.UniqueConstraint(
            "task_id",
            "department_id",
            "number",
            name=op.f("uq_delivery_plan_task_id_department_id_number"),
        ),
    )
    with op.batch_alter_table("delivery_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_plan_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_delivery_plan_task_id"), ["task_id"], unique=False)

    op.create_table(
        "delivery_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "higher",
                "lower",
                name="indicator_direction",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("baseline_value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("baseline_date", sa.Date(), nullable=False),
        sa.Column("target_value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=False),
        sa.Column(
            "combine",
            sa.Enum(
                "sum",
                "average",
                "latest",
                name="indicator_combine",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("department_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["delivery_plan.id"],
            name=op.f("fk_delivery_indicator_plan_id_delivery_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_indicator")),
    )
    with op.batch_alter_table("delivery_indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_indicator_key"), ["key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_indicator_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "delivery_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("due_period", sa.String(length=6), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_delivery_milestone_department_id_department"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["delivery_plan.id"],
            name=op.f("fk_delivery_milestone_plan_id_delivery_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_milestone")),
    )
    with op.batch_alter_table("delivery_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_milestone_key"), ["key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_delivery_milestone_plan_id"), ["plan_id"], unique=False
        )

    op.create_table(
        "report_indicator_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("indicator_key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Numeric(precision=20, scale=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["delivery_indicator.id"],
            name=op.f("fk_report_indicator_value_indicator_id_delivery_indicator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_indicator_value_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_indicator_value")),
        sa.UniqueConstraint(
            "report_id",
            "indicator_key",
            name=op.f("uq_report_indicator_value_report_id_indicator_key"),
        ),
    )
    with op.batch_alter_table("report_indicator_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_indicator_value_indicator_id"), ["indicator_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_indicator_value_indicator_key"), ["indicator_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_indicator_value_report_id"), ["report_id"], unique=False
        )

    op.create_table(
        "report_milestone_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("milestone_key", sa.String(length=32), nullable=False),
        sa.Column(
            "progress",
            sa.Enum(
                "done",
                "partly",
                "not_done",
                name="milestone_progress",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["delivery_milestone.id"],
            name=op.f("fk_report_milestone_status_milestone_id_delivery_milestone"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_report_milestone_status_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_milestone_status")),
        sa.UniqueConstraint(
            "report_id",
            "milestone_key",
            name=op.f("uq_report_milestone_status_report_id_milestone_key"),
        ),
    )
    with op.batch_alter_table("report_milestone_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_milestone_status_milestone_id"), ["milestone_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_milestone_status_milestone_key"), ["milestone_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_milestone_status_report_id"), ["report_id"], unique=False
        )


def downgrade():
    # Children first; a table's indexes go with it.
    for table in (
        "report_milestone_status",
        "report_indicator_value",
        "delivery_milestone",
        "delivery_indicator",
        "delivery_plan",
    ):
        op.drop_table(table)
