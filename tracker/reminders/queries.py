"""Reading notifications, the outbox, urges and extension requests.

Two functions here are for other domains: :func:`urge_counts` (the department scorecard) and
:func:`urges_for_period` (the 催办记录 sheet of the quarterly workbook).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.extensions import db
from tracker.reminders.models import (
    ExtensionRequest,
    ExtensionState,
    Notification,
    OutboxMessage,
    OutboxStatus,
    ReminderLog,
    Urge,
)
from tracker.reports.models import Obligation, Report

# -- notifications ---------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    """The number on the bell."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def notifications_for(user_id: int, *, unread_only: bool = False) -> sa.Select:
    """A user's notifications, newest first."""
    query = (
        sa.select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


def notification_of(notification_id: int, user_id: int) -> Notification | None:
    """One notification, only if it is the user's own (others' are as good as missing)."""
    return db.session.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id
        )
    )


# -- the reminder pass -----------------------------------------------------------------------


@dataclass
class Recipients:
    """Active users who can receive reminders, grouped the way the ladder addresses them."""

    coordinators: list[User] = field(default_factory=list)
    liaisons: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    viewers: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    def for_audience(self, audience: Iterable[str], department_id: int) -> list[User]:
        """The users of a rung's audience for one department's obligation, in a stable order."""
        users: list[User] = []
        if "liaison" in audience:
            users += self.liaisons.get(department_id, [])
        if "coordinator" in audience:
            users += self.coordinators
        if "viewer" in audience:
            users += self.viewers.get(department_id, [])
        return users


def reminder_recipients() -> Recipients:
    """Every active liaison, coordinator and department viewer, in one query.

    Viewers without a department (leaders of the whole effort) read the dashboards and are not
    on the ladder; deactivated users receive nothing.
    """
    recipients = Recipients()
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_([UserRole.LIAISON, UserRole.COORDINATOR, UserRole.VIEWER]),
        )
        .order_by(User.id)
    )
    for user in users:
        if user.role == UserRole.COORDINATOR:
            recipients.coordinators.append(user)
        elif user.department_id is None:
            continue
        elif user.role == UserRole.LIAISON:
            recipients.liaisons[user.department_id].append(user)
        else:
            recipients.viewers[user.department_id].append(user)
    return recipients


def active_liaisons(department_id: int) -> list[User]:
    """Who receives a department's urges and extension decisions."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.active.is_(True),
                User.role == UserRole.LIAISON,
                User.department_id == department_id,
            )
            .order_by(User.id)
        )
    )


def active_coordinators() -> list[User]:
    """Who receives extension requests."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role == UserRole.COORDINATOR)
            .order_by(User.id)
        )
    )


def unsubmitted_obligations(period_keys: Iterable[str]) -> list[Obligation]:
    """Obligations of these periods never submitted and not waived, with what messages need.

    "Submitted" is ``first_submitted_at``: a report returned for revision has been reported,
    and the review workflow, not the ladder, follows it up.
    """
    return list(
        db.session.scalars(
            sa.select(Obligation)
            .outerjoin(Obligation.report)
            .where(
                Obligation.period.in_(list(period_keys)),
                Obligation.waived.is_(False),
                Report.first_submitted_at.is_(None),
            )
            .options(
                joinedload(Obligation.task).joinedload(Task.document),
                joinedload(Obligation.report),
            )
            .order_by(Obligation.id)
        ).unique()
    )


def sent_reminder_keys(period_keys: Iterable[str]) -> set[tuple]:
    """(obligation id, due date, rung, recipient id) of every reminder sent for these periods."""
    rows = db.session.execute(
        sa.select(
            ReminderLog.obligation_id,
            ReminderLog.due_date,
            ReminderLog.rung,
            ReminderLog.recipient_id,
        )
        .join(Obligation, Obligation.id == ReminderLog.obligation_id)
        .where(Obligation.period.in_(list(period_keys)))
    )
    return {tuple(row) for row in rows}


# -- the outbox ------------------------------------------------------------------------------


def due_outbox_ids(now: datetime, limit: int = 100) -> list[int]:
    """Messages to attempt now: pending and due, or claimed by a sender whose claim lapsed."""
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(
                sa.or_(
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.next_attempt_at <= now,
                    ),
                    sa.and_(
                        OutboxMessage.status == OutboxStatus.SENDING,
                        OutboxMessage.locked_until < now,
                    ),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def outbox_page(status: OutboxStatus | None = None, limit: int = 200) -> list[OutboxMessage]:
    """The admin's view of the outbox, newest first."""
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(db.session.scalars(query))


def outbox_counts() -> dict[OutboxStatus, int]:
    """How many messages are in each state (every state present, zero included)."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


# -- urges -----------------------------------------------------------------------------------


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


def latest_urge_at(obligation_id: int) -> datetime | None:
    """When the obligation was last urged (None: never); the minimum interval counts from it."""
    return db.session.scalar(
        sa.select(sa.func.max(Urge.created_at)).where(Urge.obligation_id == obligation_id)
    )


def urge_counts(
    period_key: str,
    *,
    obligation_ids: sa.Select | None = None,
    as_of: datetime | None = None,
) -> dict[int, tuple[int, int]]:
    """For the scorecard: ``{department_id: (urges, acknowledged)}`` of one period, one query.

    ``obligation_ids`` (a select of obligation ids) narrows the count to the obligations a
    filtered scorecard covers (one document, one part, one role); ``as_of`` counts only urges
    made, and acknowledgements given, by then (a frozen quarter). Departments that were never
    urged are absent (read them as ``(0, 0)``).
    """
    acknowledged = Urge.acknowledged_at
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


def urges_for_period(period_key: str, department_ids: Iterable[int] | None = None) -> list[sa.Row]:
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


# -- extension requests ----------------------------------------------------------------------


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


def extension_requests(state: ExtensionState | None, limit: int = 200) -> list[ExtensionRequest]:
    """Requests for the coordinators' list: pending oldest first, decided newest first."""
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
        .limit(limit)
    )
    if state is None:
        query = query.where(ExtensionRequest.state != ExtensionState.PENDING)
    else:
        query = query.where(ExtensionRequest.state == state)
    return list(db.session.scalars(query).unique())
