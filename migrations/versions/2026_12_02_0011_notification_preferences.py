"""Notification preferences and the daily digest: ``notification_preference`` (per user and
kind: in the app only, or also by e-mail), ``mail_setting`` (each time or a daily digest),
``mail_digest`` (one per user and day, under a unique key) and ``digest_entry`` (what waits for
the next digest).

Only new tables: nothing existing is copied, so on SQLite no ON DELETE CASCADE / SET NULL of
another table fires.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = (
    "reminder",
    "urge",
    "urge_ack",
    "extension_request",
    "extension_decision",
    "support_reminder",
)


def _enum(name, values, length):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _user_fk(table):
    return sa.ForeignKeyConstraint(
        ["user_id"], ["user.id"], name=op.f(f"fk_{table}_user_id_user"), ondelete="CASCADE"
    )


def upgrade():
    op.create_table(
        "notification_preference",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("notification_preference_kind", KINDS, 32), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _user_fk("notification_preference"),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preference")),
    )
    op.create_table(
        "mail_setting",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mode", _enum("mail_mode", ("each", "digest"), 16), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _user_fk("mail_setting"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_setting")),
    )
    op.create_table(
        "mail_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("outbox_message_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _user_fk("mail_digest"),
        sa.ForeignKeyConstraint(
            ["outbox_message_id"],
            ["outbox_message.id"],
            name=op.f("fk_mail_digest_outbox_message_id_outbox_message"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_digest")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_mail_digest_user_id_day")),
    )
    op.create_table(
        "digest_entry",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_digest_entry_notification_id_notification"),
            ondelete="CASCADE",
        ),
        _user_fk("digest_entry"),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["mail_digest.id"],
            name=op.f("fk_digest_entry_digest_id_mail_digest"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_digest_entry")),
    )
    op.create_index(
        "ix_digest_entry_user_pending", "digest_entry", ["user_id", "digest_id"], unique=False
    )


def downgrade():
    op.drop_index("ix_digest_entry_user_pending", table_name="digest_entry")
    op.drop_table("digest_entry")
    op.drop_table("mail_digest")
    op.drop_table("mail_setting")
    op.drop_table("notification_preference")
