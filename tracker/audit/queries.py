"""Reading the audit trail."""

from __future__ import annotations

import sqlalchemy as sa

from tracker.audit.models import AuditEvent


def events_for(object_type: str, object_id: int) -> sa.Select[AuditEvent]:
    """Every event on one object, oldest first."""
    return (
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
