"""Writing audit events. Called by other domains' services inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, scoped_session

from tracker.audit.models import AuditEvent
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.auth.models import User


def record_event(
    action: str,
    obj: Any = None,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    session: Session | None = None,
) -> AuditEvent:
    """Add an audit event to the session (flushed, never committed here).

    ``session`` is the request's session unless a caller records something that must outlive
    the request's transaction in one of its own (a failed sign-in).
    """
    target: Session | scoped_session[Any] = session or db.session
    if obj is not None:
        target.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        before=before,
        after=after,
    )
    target.add(event)
    target.flush()
    return event
