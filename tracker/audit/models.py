"""The audit trail's models: the events, chained by hash, and the chain's head and anchor."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import UTCDateTime, enum_column, utcnow
from tracker.extensions import Model

# The longest user agent kept; browsers send 100-300 characters, the rest is noise.
USER_AGENT_LENGTH = 256
ADDRESS_LENGTH = 45  # an IPv6 address in full text form


class Outcome(enum.StrEnum):
    """How the event ended: done, failed (a wrong password), or refused (403, a lock)."""

    SUCCESS = "success"
    FAILURE = "failure"
    REFUSED = "refused"


class AuditEvent(Model):
    """One recorded event: who (actor and their department then), when (UTC), from where
    (client address, user agent), what (action, object, before/after) and how it ended.

    ``chain_seq``, ``prev_hash`` and ``row_hash`` chain the rows (see
    :mod:`tracker.audit.chain`); they are set when the event's transaction commits.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[int | None] = mapped_column(sa.Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The actor's department when the event happened (not a foreign key: a department may
    # go, its audit rows stay), for the auditor's filter.
    department_id: Mapped[int | None] = mapped_column(sa.Integer)
    client_address: Mapped[str | None] = mapped_column(sa.String(ADDRESS_LENGTH))
    user_agent: Mapped[str | None] = mapped_column(sa.String(USER_AGENT_LENGTH))
    outcome: Mapped[Outcome] = mapped_column(
        enum_column(Outcome, "audit_outcome"), default=Outcome.SUCCESS
    )
    chain_seq: Mapped[int | None] = mapped_column(sa.BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    row_hash: Mapped[str | None] = mapped_column(sa.String(64))

    actor = relationship("User", lazy="joined")

    __table_args__ = (
        sa.Index("ix_audit_event_object", "object_type", "object_id"),
        sa.Index("uq_audit_event_chain_seq", "chain_seq", unique=True),
        # The auditor's page pages by id, newest first, under each filter (keyset).
        sa.Index("ix_audit_event_actor_page", "actor_id", "id"),
        sa.Index("ix_audit_event_department_page", "department_id", "id"),
        sa.Index("ix_audit_event_action_page", "action", "id"),
        sa.Index("ix_audit_event_outcome_page", "outcome", "id"),
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.object_type}:{self.object_id}>"


class AuditChain(Model):
    """The chain's one row: its head (the last sealed row) and its anchor (where the rows
    still in the table start: after an archive, the archived range's last row).

    Writers lock this row (``SELECT … FOR UPDATE``) while they seal, so concurrent
    transactions append one after another; the head also tells ``verify`` that rows at the
    end are missing.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    head_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    anchor_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    anchor_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    # The fingerprint (tracker.audit.chain.fingerprint) of the key that sealed the head row;
    # empty until the first seal after this column came.
    key_fingerprint: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")
