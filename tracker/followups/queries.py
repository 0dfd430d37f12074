"""Reading urges and extension requests.

Two functions here are for other domains: :func:`urge_counts` (the department scorecard) and
:func:`urges_for_period` (the 催办记录 sheet of the quarterly workbook).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from tracker.auth.models import User
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.extensions import db
from tracker.followups.models import ExtensionRequest, ExtensionState, SupportReminder, Urge
from tracker.reports.models import Obligation


def urges_of(obligation_id: int) -> list[Urge]:
    """An obligation's urges, newest first, with who urged and who acknowledged."""
    return list(
        db.session.scalars(
            sa.select(Urge)
            .where(Urge.obligation_id == obligation_id)
            .options(joinedload(Urge.urged_by), joinedload(Urge.acknowledged_by))
            .order_by(Urge.created_at.desc(), Urge.id.desc())
        )
    )


def urges_of_obligations(obligation_ids: Iterable[int]) -> list[Urge]:
    """Every urge of the given obligations, oldest first, with its obligation and acknowledger."""
    ids = sorted(set(obligation_ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Urge)
            .where(Urge.obligation_id.in_(ids))
            .options(joinedload(Urge.obligation), joinedload(Urge.acknowledged_by))
            .order_by(Urge.created_at, Urge.id)
        )
    )


def support_reminders_of(obligation_id: int) -> list[SupportReminder]:
    """提醒报送 sent to (a supporting obligation) or from (a lead obligation) it, newest first."""
    return list(
        db.session.scalars(
            sa.select(SupportReminder)
            .where(
                sa.or_(
                    SupportReminder.obligation_id == obligation_id,
                    SupportReminder.lead_obligation_id == obligation_id,
                )
            )
            .options(joinedload(SupportReminder.sent_by), joinedload(SupportReminder.obligation))
            .order_by(SupportReminder.created_at.desc(), SupportReminder.id.desc())
        )
    )


def support_reminder_on(obligation_id: int, day: date) -> SupportReminder | None:
    """The 提醒报送 a supporting obligation received on a local day, if any."""
    return db.session.scalar(
        sa.select(SupportReminder).where(
            SupportReminder.obligation_id == obligation_id, SupportReminder.sent_on == day
        )
    )


def latest_urge_at(obligation_id: int) -> datetime | None:
    """When the obligation was last urged (None: never); the minimum interval counts from it."""
    return db.session.scalar(
        sa.select(sa.func.max(Urge.created_at)).where(Urge.obligation_id == obligation_id)
    )


def urge_counts(
    period_key: str,
    *,
    obligation_ids: sa.Select[int] | None = None,
    as_of: datetime | None = None,
) -> dict[int, tuple[int, int]]:
    """For the scorecard: ``{department_id: (urges, acknowledged)}`` of one period, one query.

    ``obligation_ids`` (a select of obligation ids) narrows the count to the obligations a
    filtered scorecard covers (one document, one part, one role); ``as_of`` counts only urges
    made, and acknowledgements given, by then (a frozen quarter). Departments that were never
    urged are absent (read them as ``(0, 0)``).
    """
    acknowledged: sa.SQLColumnExpression[Any] = Urge.acknowledged_at
    if as_of is not None:
        acknowledged = sa.case((Urge.acknowledged_at <= as_of, 1))
    query = (
        sa.select(Obligation.department_id, sa.func.count(Urge.id), sa.func.count(acknowledged))
        .join(Obligation, Obligation.id == Urge.obligation_id)
        .where(Obligation.period == period_key)
        .group_by(Obligation.department_id)
    )
    if obligation_ids is not None:
        query = query.where(Urge.obligation_id.in_(obligation_ids))
    if as_of is not None:
        query = query.where(Urge.created_at <= as_of)
    rows = db.session.execute(query)
    return {department_id: (count, acked) for department_id, count, acked in rows}


# Built once: an alias costs more to build than the whole query takes to run on a quarter.
_URGER = aliased(User, name="urger")


_ACKNOWLEDGER = aliased(User, name="acknowledger")


def urges_for_period(
    period_key: str, department_ids: Iterable[int] | None = None
) -> list[sa.Row[str, int, str, datetime, str | None, str, datetime | None, str | None]]:
    """For the 催办记录 sheet: one row per urge of a period, in item and department order.

    Each row has ``document_number``, ``task_number``, ``department`` (name), ``urged_at``,
    ``urged_by``, ``message``, ``acknowledged_at`` and ``acknowledged_by`` (display names;
    times are aware UTC, ``acknowledged_*`` None while not acknowledged). ``department_ids``
    restricts the rows to what the reader may see (None: all).
    """
    query = (
        sa.select(
            PolicyDocument.number.label("document_number"),
            Task.number.label("task_number"),
            Department.name.label("department"),
            Urge.created_at.label("urged_at"),
            _URGER.display_name.label("urged_by"),
            Urge.message.label("message"),
            Urge.acknowledged_at.label("acknowledged_at"),
            _ACKNOWLEDGER.display_name.label("acknowledged_by"),
        )
        .select_from(Urge)
        .join(Obligation, Obligation.id == Urge.obligation_id)
        .join(Task, Task.id == Obligation.task_id)
        .join(PolicyDocument, PolicyDocument.id == Task.document_id)
        .join(Department, Department.id == Obligation.department_id)
        .outerjoin(_URGER, _URGER.id == Urge.urged_by_id)
        .outerjoin(_ACKNOWLEDGER, _ACKNOWLEDGER.id == Urge.acknowledged_by_id)
        .where(Obligation.period == period_key)
        .order_by(
            PolicyDocument.id,
            Task.number,
            Department.position,
            Department.id,
            Urge.created_at,
            Urge.id,
        )
    )
    if department_ids is not None:
        query = query.where(Obligation.department_id.in_(list(department_ids)))
    return list(db.session.execute(query))


def extension_requests_of(obligation_id: int) -> list[ExtensionRequest]:
    """An obligation's extension requests, newest first, for its page."""
    return list(
        db.session.scalars(
            sa.select(ExtensionRequest)
            .where(ExtensionRequest.obligation_id == obligation_id)
            .options(
                joinedload(ExtensionRequest.requested_by), joinedload(ExtensionRequest.decided_by)
            )
            .order_by(ExtensionRequest.created_at.desc(), ExtensionRequest.id.desc())
        )
    )


def pending_extension(obligation_id: int) -> ExtensionRequest | None:
    """The obligation's undecided request, if any (there is at most one)."""
    return db.session.scalar(
        sa.select(ExtensionRequest).where(
            ExtensionRequest.obligation_id == obligation_id,
            ExtensionRequest.state == ExtensionState.PENDING,
        )
    )


def extension_requests_query(state: ExtensionState | None) -> sa.Select[ExtensionRequest]:
    """Requests for the coordinators' list, ``state`` or (None) every decided one: pending
    oldest first, decided newest first."""
    order = (
        (ExtensionRequest.created_at, ExtensionRequest.id)
        if state == ExtensionState.PENDING
        else (ExtensionRequest.decided_at.desc(), ExtensionRequest.id.desc())
    )
    query = (
        sa.select(ExtensionRequest)
        .options(
            joinedload(ExtensionRequest.obligation)
            .joinedload(Obligation.task)
            .joinedload(Task.document),
            joinedload(ExtensionRequest.requested_by),
            joinedload(ExtensionRequest.decided_by),
        )
        .order_by(*order)
    )
    if state is None:
        return query.where(ExtensionRequest.state != ExtensionState.PENDING)
    return query.where(ExtensionRequest.state == state)


def extension_requests(state: ExtensionState | None) -> list[ExtensionRequest]:
    """Every request in ``state`` (the pending ones are the coordinators' to-do: all shown)."""
    return list(db.session.scalars(extension_requests_query(state)).unique())
