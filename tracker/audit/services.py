"""Writing audit events. Called by other domains' services inside their transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import has_request_context, request
from sqlalchemy.orm import Session, object_session, scoped_session

from tracker.audit import chain
from tracker.audit.models import ADDRESS_LENGTH, USER_AGENT_LENGTH, AuditEvent, Outcome
from tracker.extensions import db

if TYPE_CHECKING:
    from tracker.auth.models import User


def client_context() -> tuple[str | None, str | None]:
    """The request's client address and user agent (truncated), or ``(None, None)`` outside
    a request (commands, the scheduler).

    The address is the socket's, or the one a trusted proxy forwarded: ``tracker.proxy``
    rewrites ``REMOTE_ADDR`` only for connections from ``TRACKER_TRUSTED_PROXIES``.
    """
    if not has_request_context():
        return None, None
    address = (request.remote_addr or "")[:ADDRESS_LENGTH] or None
    agent = (request.user_agent.string or "")[:USER_AGENT_LENGTH] or None
    return address, agent


def record_event(
    action: str,
    obj: Any = None,
    *,
    actor: User | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: Outcome = Outcome.SUCCESS,
    session: Session | None = None,
) -> AuditEvent:
    """Add an audit event to the session (flushed, never committed here).

    Inside a request the client address and user agent are filled in; the actor's department
    is kept as it is now. The event is chained when its transaction commits
    (:mod:`tracker.audit.chain`).

    ``session`` is the request's session unless a caller records something that must outlive
    the request's transaction in one of its own (a failed sign-in, a refusal).
    """
    target: Session | scoped_session[Any] = session or db.session
    if obj is not None:
        target.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    address, agent = client_context()
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        department_id=getattr(actor, "department_id", None),
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        before=before,
        after=after,
        outcome=outcome,
        client_address=address,
        user_agent=agent,
    )
    target.add(event)
    target.flush()
    real = object_session(event)
    assert real is not None
    chain.note_pending(real, event)
    return event


def record_apart(
    action: str,
    *,
    actor: User | None = None,
    object_type: str = "",
    object_id: int | None = None,
    after: dict[str, Any] | None = None,
    outcome: Outcome,
) -> None:
    """Record and commit an event in a transaction of its own: for what must stay although
    the request's transaction is rolled back (a refusal answers 403, a failure 4xx)."""
    with Session(db.engine) as session, session.begin():
        record_event(
            action, actor=actor, object_type=object_type, object_id=object_id, after=after,
            outcome=outcome, session=session,
        )  # fmt: skip
