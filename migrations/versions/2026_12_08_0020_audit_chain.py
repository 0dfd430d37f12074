"""The audit trail for 等保 2.0 三级: client address, user agent, outcome and the actor's
department on every event, a hash chain over the rows, and the chain's head and anchor.

``audit_event`` gains nullable columns and ``outcome`` (``success`` by default, with its
CHECK). On SQLite these are plain ``ADD COLUMN``s, the CHECK written inline (as 0019 does:
nothing is copied). The rows already there are chained here, in id order, with the key the
application uses (``tracker.audit.chain``), and ``audit_chain`` holds the head, so
``flask audit verify`` passes right after the upgrade. Their address, agent and department
stay empty: they were never recorded.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OUTCOMES = ("success", "failure", "refused")
COLUMNS = (
    ("department_id", sa.Integer()),
    ("client_address", sa.String(length=45)),
    ("user_agent", sa.String(length=256)),
    ("chain_seq", sa.BigInteger()),
    ("prev_hash", sa.String(length=64)),
    ("row_hash", sa.String(length=64)),
)
PAGE_INDEXES = (
    ("ix_audit_event_actor_page", "actor_id"),
    ("ix_audit_event_department_page", "department_id"),
    ("ix_audit_event_action_page", "action"),
    ("ix_audit_event_outcome_page", "outcome"),
)
CHECK = "ck_audit_event_audit_outcome"


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, type_ in COLUMNS:
        op.add_column("audit_event", sa.Column(name, type_, nullable=True))
    listed = ", ".join(f"'{value}'" for value in OUTCOMES)
    if sqlite:
        op.execute(
            "ALTER TABLE audit_event ADD COLUMN outcome VARCHAR(16) NOT NULL DEFAULT 'success' "
            f"CONSTRAINT {CHECK} CHECK (outcome IN ({listed}))"
        )
    else:
        op.add_column(
            "audit_event",
            sa.Column("outcome", sa.String(16), nullable=False, server_default="success"),
        )
        op.alter_column("audit_event", "outcome", server_default=None)
        op.create_check_constraint(op.f(CHECK), "audit_event", sa.text(f"outcome IN ({listed})"))
    op.create_index("uq_audit_event_chain_seq", "audit_event", ["chain_seq"], unique=True)
    for index, column in PAGE_INDEXES:
        op.create_index(index, "audit_event", [column, "id"])
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    _chain_existing_rows()


def _chain_existing_rows():
    """Seal every row in id order and write the head (the application's own hash)."""
    from tracker.audit.chain import HASHED, HEAD_ID, audit_key, row_hash
    from tracker.db import UTCDateTime

    bind = op.get_bind()
    events = sa.table(
        "audit_event",
        *(sa.column(name) for name in HASHED if name not in ("at", "before", "after")),
        sa.column("at", UTCDateTime()),
        sa.column("before", sa.JSON()),
        sa.column("after", sa.JSON()),
        sa.column("prev_hash"),
        sa.column("row_hash"),
    )
    key = audit_key()
    rows = bind.execute(
        sa.select(*(events.c[name] for name in HASHED if name != "chain_seq")).order_by(events.c.id)
    ).mappings()
    seq, prev, updates = 0, "", []
    for row in rows.all():
        seq += 1
        content = {**row, "chain_seq": seq}
        digest = row_hash(key, content, prev)
        updates.append({"row_id": row["id"], "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    if updates:
        bind.execute(
            sa.update(events)
            .where(events.c.id == sa.bindparam("row_id"))
            .values(
                chain_seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                row_hash=sa.bindparam("digest"),
            ),
            updates,
        )
    chain = sa.table(
        "audit_chain", sa.column("id"), sa.column("head_seq"), sa.column("head_hash"),
        sa.column("anchor_seq"), sa.column("anchor_hash"),
    )  # fmt: skip
    bind.execute(
        sa.insert(chain).values(
            id=HEAD_ID, head_seq=seq, head_hash=prev, anchor_seq=0, anchor_hash=""
        )
    )


def downgrade():
    op.drop_table("audit_chain")
    for index, _ in reversed(PAGE_INDEXES):
        op.drop_index(index, table_name="audit_event")
    op.drop_index("uq_audit_event_chain_seq", table_name="audit_event")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(CHECK), "audit_event", type_="check")
    # SQLite 3.35+ drops a column in place; its inline CHECK names only that column.
    op.drop_column("audit_event", "outcome")
    for name, _ in reversed(COLUMNS):
        op.drop_column("audit_event", name)
