"""Counties and the aggregate ledger: the county table, county accounts' scope and the
counties' counts; the role column admits ``county`` (县级填报员).

The role is a non-native enum guarded by ``ck_user_user_role``; as in 0016 the constraint is
dropped and created again (a batch copy of ``user`` on SQLite). The downgrade refuses while
an account holds the county role, rather than losing it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-10 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

OLD = ("admin", "security_admin", "auditor", "coordinator", "liaison", "approver", "viewer")
NEW = (*OLD, "county")


def _replace(roles):
    allowed = ", ".join(f"'{value}'" for value in roles)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The batch copy drops ``user``, which other tables reference (see 0016).
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_user_role"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_user_role"), f"role IN ({allowed})")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    _replace(NEW)
    op.create_table(
        "county",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefecture", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_county")),
        sa.UniqueConstraint("code", name=op.f("uq_county_code")),
    )
    op.create_table(
        "county_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_county_account_county_id_county"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_county_account_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_county_account")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_county_account_county_id"), "county_account", ["county_id"], unique=False
    )
    op.create_table(
        "county_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_id", sa.Integer(), nullable=False),
        sa.Column("indicator_key", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_county_value_value_not_negative")),
        sa.ForeignKeyConstraint(
            ["county_id"], ["county.id"], name=op.f("fk_county_value_county_id_county"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["user.id"], name=op.f("fk_county_value_entered_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_county_value")),
        sa.UniqueConstraint(
            "county_id", "indicator_key", "period",
            name=op.f("uq_county_value_county_id_indicator_key_period"),
        ),
    )  # fmt: skip
    op.create_index("ix_county_value_indicator_period", "county_value", ["indicator_key", "period"])


def downgrade():
    held = op.get_bind().scalar(sa.text("SELECT count(*) FROM \"user\" WHERE role = 'county'"))
    if held:
        raise RuntimeError("accounts still hold the county role; change them first")
    op.drop_index("ix_county_value_indicator_period", table_name="county_value")
    op.drop_table("county_value")
    op.drop_index(op.f("ix_county_account_county_id"), table_name="county_account")
    op.drop_table("county_account")
    op.drop_table("county")
    _replace(OLD)
