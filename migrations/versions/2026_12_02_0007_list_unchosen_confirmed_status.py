"""List accepted reports whose confirmed status may be one nobody chose.

Until this release the accept form's 核定状态 started as 未启动 (``not_started``) instead of
the department's own rating, so a coordinator who accepted without touching it confirmed
``not_started`` for a report the department rated otherwise. Which of those were meant cannot
be told from the data, so this revision changes nothing: it writes each such report (report
id, obligation, department, period, the self-rating) to the migration log, for coordinators
to check and, where wrong, reopen and accept with the right status. Its downgrade does
nothing either.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00

"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

logger = logging.getLogger("alembic.runtime.migration")

SUSPECT_REPORTS = sa.text(
    """
    SELECT r.id AS report_id, o.id AS obligation_id, pd.number AS document,
           t.number AS item, d.name AS department, o.period AS period, r.status AS status
      FROM report r
      JOIN obligation o ON o.id = r.obligation_id
      JOIN task t ON t.id = o.task_id
      JOIN policy_document pd ON pd.id = t.document_id
      JOIN department d ON d.id = o.department_id
     WHERE r.state = 'accepted'
       AND r.confirmed_status = 'not_started'
       AND r.status IS NOT NULL
       AND r.status <> 'not_started'
     ORDER BY o.period, t.number, d.name, r.id
    """
)


def upgrade():
    """Log every accepted report confirmed as not started against its self-rating."""
    rows = op.get_bind().execute(SUSPECT_REPORTS).all()
    if not rows:
        logger.info("0007: no accepted report confirmed as not_started against its self-rating")
        return
    logger.warning(
        "0007: %d accepted report(s) confirmed as not_started (未启动) while the department "
        "rated them otherwise; please check each and reopen it where the rating is wrong:",
        len(rows),
    )
    for row in rows:
        logger.warning(
            "0007: report %s, obligation %s (%s item %s), department %s, period %s, self-rating %s",
            row.report_id,
            row.obligation_id,
            row.document,
            row.item,
            row.department,
            row.period,
            row.status,
        )


def downgrade():
    """Nothing to undo: the upgrade only wrote to the log."""
