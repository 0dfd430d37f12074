"""The coordinator's delivery judgement per item and quarter, and the delivery light kept in
quarter snapshots.

A new table ``delivery_judgement`` (one row per item and quarter: the step on the five-step
scale, the suggestion at judging time, the reason, who and when, an optimistic revision), and
two nullable columns on ``dashboard_snapshot_cell`` for the item's suggested and judged step at
freezing. Snapshots frozen before keep NULL there (they show no delivery light); nothing else
is touched. The downgrade drops the columns and the table.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-10 00:29:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

STEPS = ("on_pace", "mostly", "at_risk", "behind", "severe")


def _step(name=None):
    # The snapshot's columns carry no CHECK constraint (a filled table gains them; the
    # freezing code is their one writer), the new table's do.
    return sa.Enum(
        *STEPS, name=name, native_enum=False, create_constraint=name is not None, length=16
    )


def upgrade():
    op.create_table(
        "delivery_judgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("step", _step("delivery_step"), nullable=False),
        sa.Column("suggested", _step("delivery_suggested_step"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("judged_by_id", sa.Integer(), nullable=True),
        sa.Column("judged_at", sa.DateTime(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["judged_by_id"], ["user.id"], name=op.f("fk_delivery_judgement_judged_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["task.id"],
            name=op.f("fk_delivery_judgement_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_judgement")),
        sa.UniqueConstraint("task_id", "period", name=op.f("uq_delivery_judgement_task_id_period")),
    )
    with op.batch_alter_table("delivery_judgement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_judgement_period"), ["period"], unique=False)
    with op.batch_alter_table("dashboard_snapshot_cell", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_suggested", _step(), nullable=True))
        batch_op.add_column(sa.Column("delivery_judged", _step(), nullable=True))


def downgrade():
    with op.batch_alter_table("dashboard_snapshot_cell", schema=None) as batch_op:
        batch_op.drop_column("delivery_judged")
        batch_op.drop_column("delivery_suggested")
    with op.batch_alter_table("delivery_judgement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_judgement_period"))
    op.drop_table("delivery_judgement")
