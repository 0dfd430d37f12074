"""Received roll-ups in a compact per-item form: ``federation_rollup_item``.

The provinces matrix read each member's latest roll-up with its whole body (23 items with
narratives, milestone notes and indicators, some 9 KB of JSON) and parsing the bodies was most
of its CPU. A new table holds, per item of each received revision, what the matrix and its
totals take: the units reporting, the keys of the milestones said to be done, the indicator
values as sent, and the narrative. The rows of every roll-up already received are filled in
here from its stored body, in batches; the bodies stay as they are.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-11 00:32:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

BATCH = 200  # roll-ups read per batch (a body is some 9 KB)


def upgrade():
    op.create_table(
        "federation_rollup_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollup_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_number", sa.Integer(), nullable=False),
        sa.Column("units_reporting", sa.Integer(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("done", sa.JSON(), nullable=True),
        sa.Column("indicators", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rollup_id"], ["federation_rollup.id"],
            name=op.f("fk_federation_rollup_item_rollup_id_federation_rollup"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federation_rollup_item")),
    )  # fmt: skip
    op.create_index(
        "ix_federation_rollup_item_rollup", "federation_rollup_item", ["rollup_id", "position"]
    )
    _backfill()


def _backfill():
    """Every stored roll-up's items, read from its body (as ``receive_rollup`` now writes
    them, by ``RollupItem.rows_of``; copied here, a migration never imports the models)."""
    bind = op.get_bind()
    rollups = sa.table("federation_rollup", sa.column("id", sa.Integer), sa.column("body", sa.JSON))
    items = sa.table(
        "federation_rollup_item",
        *(sa.column(name, sa.Integer)
          for name in ("rollup_id", "position", "item_number", "units_reporting")),
        sa.column("narrative", sa.Text), sa.column("done", sa.JSON(none_as_null=True)),
        sa.column("indicators", sa.JSON(none_as_null=True)),
    )  # fmt: skip
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rollups.c.id, rollups.c.body)
            .where(rollups.c.id > last)
            .order_by(rollups.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        rows = [row for rollup_id, body in batch for row in _rows_of(rollup_id, body)]
        if rows:
            bind.execute(sa.insert(items), rows)
        last = batch[-1][0]


def _rows_of(rollup_id, body):
    rows = []
    for position, item in enumerate((body or {}).get("items", [])):
        done = [m["key"] for m in item.get("milestones", []) if m.get("status") == "done"]
        rows.append(
            {
                "rollup_id": rollup_id,
                "position": position,
                "item_number": item["item_number"],
                "units_reporting": item.get("units_reporting", 0),
                "narrative": item.get("narrative", ""),
                "done": done or None,
                "indicators": item.get("indicators") or None,
            }
        )
    return rows


def downgrade():
    op.drop_index("ix_federation_rollup_item_rollup", table_name="federation_rollup_item")
    op.drop_table("federation_rollup_item")
