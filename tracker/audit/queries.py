"""Reading the audit trail: one object's events, and the auditor's filtered, keyset-paged list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tracker.audit.models import AuditEvent, Outcome
from tracker.extensions import db

PAGE_SIZE = 50
EXPORT_BATCH = 1000


def events_for(object_type: str, object_id: int) -> sa.Select[AuditEvent]:
    """Every event on one object, oldest first."""
    return (
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )


@dataclass(frozen=True)
class TrailFilter:
    """The auditor's filters: a UTC time range (from inclusive, to exclusive), actor,
    the actor's department, an action (exact: a prefix would make the database sort every
    row under it, see ``bench/audit.py``) and an outcome. ``None`` leaves a filter out."""

    start: datetime | None = None
    end: datetime | None = None
    actor_id: int | None = None
    department_id: int | None = None
    action: str | None = None
    outcome: Outcome | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE terms, each served by an index ``(column, id)`` or ``at``."""
        terms: list[sa.ColumnElement[bool]] = []
        if self.start is not None:
            terms.append(AuditEvent.at >= self.start)
        if self.end is not None:
            terms.append(AuditEvent.at < self.end)
        if self.actor_id is not None:
            terms.append(AuditEvent.actor_id == self.actor_id)
        if self.department_id is not None:
            terms.append(AuditEvent.department_id == self.department_id)
        if self.action:
            terms.append(AuditEvent.action == self.action)
        if self.outcome is not None:
            terms.append(AuditEvent.outcome == self.outcome)
        return terms


@dataclass(frozen=True)
class TrailPage:
    """One page, newest first, and the ``before_id`` of the next (None on the last)."""

    events: list[AuditEvent]
    next_before_id: int | None


def trail(filters: TrailFilter, *, before_id: int | None = None) -> sa.Select[AuditEvent]:
    """The filtered events, newest (highest id) first, below ``before_id``: keyset paging,
    never OFFSET, so a deep page costs what the first does."""
    query = sa.select(AuditEvent).where(*filters.conditions()).order_by(AuditEvent.id.desc())
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return query


def trail_page(filters: TrailFilter, *, before_id: int | None = None) -> TrailPage:
    """One page of :func:`trail` (one query: a row more than the page says whether one follows)."""
    rows = list(db.session.scalars(trail(filters, before_id=before_id).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return TrailPage(rows, rows[-1].id if more and rows else None)


def trail_rows(filters: TrailFilter) -> Iterator[AuditEvent]:
    """Every filtered event, newest first, read in keyset batches (constant memory)."""
    before_id: int | None = None
    while True:
        batch = list(db.session.scalars(trail(filters, before_id=before_id).limit(EXPORT_BATCH)))
        yield from batch
        if len(batch) < EXPORT_BATCH:
            return
        before_id = batch[-1].id
        db.session.expunge_all()  # the batch is written: let it go


def actor_id_named(username: str) -> int | None:
    """The id of the account with this username (any state), or None.

    Read from the ``user`` table by name, as the event's actor relationship does: the audit
    domain sits below nothing that writes accounts, and auth writes audit events.
    """
    users = db.metadata.tables["user"]
    return db.session.scalar(sa.select(users.c.id).where(users.c.username == username))
