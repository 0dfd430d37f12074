"""The cascade: ``department.central_code``; at the centre ``federation_member`` and
``federation_rollup``; at a province ``federation_adoption``, ``federation_item`` and the push
outbox ``federation_push``.

One nullable column and new tables; nothing existing changes.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-10 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("central_code", sa.String(length=32), nullable=True))
    op.create_table(
        "federation_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_member")),
        sa.UniqueConstraint("code", name=op.f("uq_federation_member_code")),
        sa.UniqueConstraint("prefix", name=op.f("uq_federation_member_prefix")),
    )
    op.create_table(
        "federation_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=96), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["federation_member.id"],
            name=op.f("fk_federation_rollup_member_id_federation_member"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_rollup")),
        sa.UniqueConstraint(
            "member_id", "document_number", "period", "revision",
            name=op.f("uq_federation_rollup_member_id_document_number_period_revision"),
        ),
    )  # fmt: skip
    op.create_index(
        "ix_federation_rollup_document_period", "federation_rollup", ["document_number", "period"]
    )
    op.create_table(
        "federation_adoption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("source_code", sa.String(length=6), nullable=False),
        sa.Column("source_name", sa.String(length=64), nullable=False),
        sa.Column("central_number", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("pending_revision", sa.String(length=64), nullable=True),
        sa.Column("pending_content", sa.JSON(), nullable=True),
        sa.Column("adopted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["policy_document.id"],
            name=op.f("fk_federation_adoption_document_id_policy_document"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_adoption")),
        sa.UniqueConstraint("document_id", name=op.f("uq_federation_adoption_document_id")),
    )  # fmt: skip
    op.create_table(
        "federation_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("central_item_number", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("parent_task_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adoption_id"], ["federation_adoption.id"],
            name=op.f("fk_federation_item_adoption_id_federation_adoption"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_federation_item_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_task_id"], ["task.id"], name=op.f("fk_federation_item_parent_task_id_task"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_item")),
        sa.UniqueConstraint("task_id", name=op.f("uq_federation_item_task_id")),
    )  # fmt: skip
    op.create_index("ix_federation_item_adoption_id", "federation_item", ["adoption_id"])
    op.create_index("ix_federation_item_parent_task_id", "federation_item", ["parent_task_id"])
    op.create_table(
        "federation_push",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("adoption_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sending", "delivered", "refused", "gave_up", name="push_status",
                    native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["adoption_id"], ["federation_adoption.id"],
            name=op.f("fk_federation_push_adoption_id_federation_adoption"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_federation_push_created_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_push")),
        sa.UniqueConstraint(
            "adoption_id", "period", "revision",
            name=op.f("uq_federation_push_adoption_id_period_revision"),
        ),
    )  # fmt: skip
    op.create_index("ix_federation_push_due", "federation_push", ["status", "next_attempt_at"])


def downgrade():
    op.drop_index("ix_federation_push_due", table_name="federation_push")
    op.drop_table("federation_push")
    op.drop_index("ix_federation_item_parent_task_id", table_name="federation_item")
    op.drop_index("ix_federation_item_adoption_id", table_name="federation_item")
    op.drop_table("federation_item")
    op.drop_table("federation_adoption")
    op.drop_index("ix_federation_rollup_document_period", table_name="federation_rollup")
    op.drop_table("federation_rollup")
    op.drop_table("federation_member")
    with op.batch_alter_table("department") as batch:
        batch.drop_column("central_code")
