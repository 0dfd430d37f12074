"""Three separated administrators: the role column admits security_admin and auditor.

The role is a non-native enum guarded by the CHECK constraint ``ck_user_user_role``; the
constraint is dropped and created again with the two new values. On SQLite this is a batch
copy of ``user``. The downgrade refuses while accounts hold a new role, rather than losing
them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLD = ("admin", "coordinator", "liaison", "viewer")
NEW = ("admin", "security_admin", "auditor", "coordinator", "liaison", "viewer")


def _replace(new):
    allowed = ", ".join(f"'{value}'" for value in new)
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The batch copy drops ``user``, which every other table references; SQLite would
        # refuse the drop while foreign keys are checked. The copy keeps every id, so the
        # references hold again once it has taken the old table's name.
        op.execute("PRAGMA foreign_keys=OFF")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_user_role"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_user_role"), f"role IN ({allowed})")
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    _replace(NEW)


def downgrade():
    held = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM \"user\" WHERE role IN ('security_admin', 'auditor')")
    )
    if held:
        raise RuntimeError("accounts still hold security_admin or auditor; change them first")
    _replace(OLD)
