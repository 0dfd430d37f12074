"""提醒报送: a lead department reminds its supporting departments (``support_reminder``), and
the notification kind ``support_reminder``.

The notification kinds are a CHECK constraint (no native enum). PostgreSQL replaces the
constraint in place. SQLite cannot alter one, so the table is copied; dropping the old copy
sets ``reminder_log.notification_id`` to NULL (its foreign key is ON DELETE SET NULL), so those
links are read first and written back after.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_KINDS = ("reminder", "urge", "urge_ack", "extension_request", "extension_decision")
NEW_KINDS = (*OLD_KINDS, "support_reminder")


def upgrade():
    op.create_table(
        "support_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("lead_obligation_id", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligation.id"],
            name=op.f("fk_support_reminder_obligation_id_obligation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_obligation_id"],
            ["obligation.id"],
            name=op.f("fk_support_reminder_lead_obligation_id_obligation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["user.id"],
            name=op.f("fk_support_reminder_sent_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_reminder")),
        sa.UniqueConstraint(
            "obligation_id", "sent_on", name=op.f("uq_support_reminder_obligation_id_sent_on")
        ),
    )
    with op.batch_alter_table("support_reminder") as batch:
        batch.create_index(
            batch.f("ix_support_reminder_lead_obligation_id"), ["lead_obligation_id"]
        )
    _notification_kinds(OLD_KINDS, NEW_KINDS)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'support_reminder'")
    _notification_kinds(NEW_KINDS, OLD_KINDS)
    with op.batch_alter_table("support_reminder") as batch:
        batch.drop_index(batch.f("ix_support_reminder_lead_obligation_id"))
    op.drop_table("support_reminder")


def _kind_type(kinds):
    return sa.Enum(
        *kinds, name="notification_kind", native_enum=False, create_constraint=True, length=32
    )


def _notification_kinds(old, new):
    """Let ``notification.kind`` hold exactly ``new``."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        name = op.f("ck_notification_notification_kind")
        op.drop_constraint(name, "notification", type_="check")
        listed = ", ".join(f"'{kind}'" for kind in new)
        op.create_check_constraint(name, "notification", sa.text(f"kind IN ({listed})"))
        return
    links = bind.execute(
        sa.text("SELECT id, notification_id FROM reminder_log WHERE notification_id IS NOT NULL")
    ).all()
    with op.batch_alter_table("notification", recreate="always") as batch:
        batch.alter_column(
            "kind", existing_type=_kind_type(old), type_=_kind_type(new), existing_nullable=False
        )
    for log_id, notification_id in links:
        bind.execute(
            sa.text("UPDATE reminder_log SET notification_id = :n WHERE id = :id"),
            {"n": notification_id, "id": log_id},
        )
