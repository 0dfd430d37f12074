"""Sign-off inside the department (审核签发): the approver role, the notification kind
``signoff``, a per-department switch and the sign-off columns of ``report``.

Two CHECK constraints admit a new value: ``user.role`` (``approver``) and the notification
kinds (``signoff``, on ``notification`` and ``notification_preference``). PostgreSQL replaces
them in place. On SQLite a table copy would be needed to alter a constraint, and dropping the
old copy of ``user``, ``notification`` or ``report`` fires the ON DELETE actions of every table
that references it (sessions, digests, versions, evidence) unless foreign keys are off, which
cannot be switched inside the migration's transaction. So SQLite's constraints are widened by
rewriting the table's stored definition (``PRAGMA writable_schema``), the procedure SQLite's
documentation gives for changes that leave the stored rows as they are: every existing row
satisfies the wider CHECK. The new columns of ``report`` are plain ``ADD COLUMN``s there,
their foreign keys written inline. The downgrade refuses while a row holds a new value.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 07:00:00

"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "security_admin", "auditor", "coordinator", "liaison", "viewer")
NEW_ROLES = (*OLD_ROLES, "approver")
OLD_KINDS = (
    "reminder", "urge", "urge_ack", "extension_request", "extension_decision",
    "support_reminder",
)  # fmt: skip
NEW_KINDS = (*OLD_KINDS, "signoff")
# (table, constraint, column) of each CHECK that lists the allowed values.
ROLE_CHECK = ("user", "ck_user_user_role", "role")
KIND_CHECKS = (
    ("notification", "ck_notification_notification_kind", "kind"),
    ("notification_preference", "ck_notification_preference_notification_preference_kind", "kind"),
)
# The new columns of report: (name, type, whether it references a user).
REPORT_COLUMNS = (
    ("approval_requested_at", sa.DateTime(), False),
    ("approval_requested_by_id", sa.Integer(), True),
    ("approved_at", sa.DateTime(), False),
    ("approved_by_id", sa.Integer(), True),
    ("signoff_return_reason", sa.Text(), False),
)


def upgrade():
    _allow(ROLE_CHECK, NEW_ROLES)
    for check in KIND_CHECKS:
        _allow(check, NEW_KINDS)
    op.add_column("department", sa.Column("signoff_required", sa.Boolean(), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, type_, references_user in REPORT_COLUMNS:
        if sqlite and references_user:
            # Inline, named as the models name it; ADD COLUMN admits a REFERENCES clause.
            op.execute(
                f"ALTER TABLE report ADD COLUMN {name} INTEGER "
                f'CONSTRAINT fk_report_{name}_user REFERENCES "user" (id)'
            )
            continue
        op.add_column("report", sa.Column(name, type_, nullable=True))
        if references_user:
            op.create_foreign_key(op.f(f"fk_report_{name}_user"), "report", "user", [name], ["id"])


def downgrade():
    bind = op.get_bind()
    if bind.scalar(sa.text("SELECT count(*) FROM \"user\" WHERE role = 'approver'")):
        raise RuntimeError("accounts still hold the approver role; change them first")
    bind.execute(sa.text("DELETE FROM notification WHERE kind = 'signoff'"))
    bind.execute(sa.text("DELETE FROM notification_preference WHERE kind = 'signoff'"))
    sqlite = bind.dialect.name == "sqlite"
    for name, _, references_user in reversed(REPORT_COLUMNS):
        if references_user and not sqlite:
            op.drop_constraint(op.f(f"fk_report_{name}_user"), "report", type_="foreignkey")
        if sqlite and references_user:
            # SQLite drops no column that a foreign key names; the batch copy of report
            # would empty its versions, figures and evidence. Rewrite its definition instead.
            _sqlite_drop_inline_reference("report", name)
        op.drop_column("report", name)  # SQLite 3.35+ drops a column in place
    op.drop_column("department", "signoff_required")
    for check in KIND_CHECKS:
        _allow(check, OLD_KINDS)
    _allow(ROLE_CHECK, OLD_ROLES)


def _allow(check, values):
    """Let the CHECK ``check`` (table, constraint, column) admit exactly ``values``."""
    table, constraint, column = check
    listed = ", ".join(f"'{value}'" for value in values)
    expression = f"{column} IN ({listed})"
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(constraint), table, type_="check")
        op.create_check_constraint(op.f(constraint), table, sa.text(expression))
        return
    sql = _stored_definition(table)
    start = re.search(rf"CONSTRAINT\s+\"?{re.escape(constraint)}\"?\s+CHECK\s*\(", sql)
    if start is None:
        raise RuntimeError(f"{table}: no CHECK constraint {constraint} to widen")
    end, depth = start.end(), 1
    while depth:
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        end += 1
    _rewrite_definition(table, f"{sql[: start.end()]}{expression}){sql[end:]}")


def _sqlite_drop_inline_reference(table, column):
    sql = _stored_definition(table)
    pattern = rf"\s+CONSTRAINT\s+\"?fk_{table}_{column}_user\"?\s+REFERENCES\s+\"user\"\s*\(id\)"
    rewritten, count = re.subn(pattern, "", sql)
    if count != 1:
        raise RuntimeError(f"{table}.{column}: its foreign key is not where 0019 wrote it")
    _rewrite_definition(table, rewritten)


def _stored_definition(table):
    return op.get_bind().scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    )


def _rewrite_definition(table, sql):
    """SQLite: replace a table's stored CREATE TABLE text (rows untouched), then make every
    connection read the schema again (a new schema version)."""
    bind = op.get_bind()
    version = bind.scalar(sa.text("PRAGMA schema_version"))
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": sql, "name": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    check = bind.scalar(sa.text("PRAGMA integrity_check"))
    if check != "ok":
        raise RuntimeError(f"{table}: the rewritten definition fails the integrity check: {check}")
