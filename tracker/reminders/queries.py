"""Reading what the reminder pass needs: the due dates it judges, and the reminders it owes.

The pass never loads the unsubmitted obligations of all history: it asks for their distinct
due dates (a handful per quarter), computes each date's rung in Python, and lets the database
return only the (obligation, due date, rung, recipient) reminders not yet in the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Task
from tracker.extensions import db
from tracker.reminders.ladder import Rung
from tracker.reminders.models import ReminderLog
from tracker.reports.models import Obligation, Report, ReportState

# The roles of a rung's audience, in the order their members are reached; ``per_department``
# says whether the role is matched to the obligation's department (coordinators see all).
AUDIENCE_ROLES: tuple[tuple[str, UserRole, bool], ...] = (
    ("liaison", UserRole.LIAISON, True),
    ("coordinator", UserRole.COORDINATOR, False),
    ("viewer", UserRole.VIEWER, True),
    ("approver", UserRole.APPROVER, True),
)


@dataclass(frozen=True, order=True)
class Owed:
    """One reminder the ladder names today and the log does not hold yet."""

    recipient_id: int
    obligation_id: int
    due_date: date
    rung: str


def _unsubmitted(period_keys: Sequence[str]) -> sa.Select[date]:
    """Obligations of these periods never submitted and not waived (their due dates).

    "Submitted" is ``first_submitted_at``: a report returned for revision has been reported,
    and the review workflow, not the ladder, follows it up.
    """
    return (
        sa.select(Obligation.due_date)
        .select_from(Obligation)
        .outerjoin(Report, Report.obligation_id == Obligation.id)
        .where(
            Obligation.period.in_(list(period_keys)),
            Obligation.waived.is_(False),
            Report.first_submitted_at.is_(None),
        )
    )


def _awaiting_approval() -> sa.ColumnElement[bool]:
    """:attr:`Report.awaiting_approval` in SQL."""
    return sa.and_(
        Report.approval_requested_at.is_not(None),
        Report.state.in_([ReportState.DRAFT, ReportState.RETURNED]),
    )


def unsubmitted_due_dates(period_keys: Sequence[str]) -> list[date]:
    """The distinct due dates of the unsubmitted, unwaived obligations of these periods."""
    query = _unsubmitted(period_keys).distinct().order_by(Obligation.due_date)
    return list(db.session.scalars(query))


def awaiting_approval_due_dates(period_keys: Sequence[str]) -> list[date]:
    """The distinct due dates of those among them whose draft waits for the approver."""
    query = (
        _unsubmitted(period_keys)
        .where(_awaiting_approval())
        .distinct()
        .order_by(Obligation.due_date)
    )
    return list(db.session.scalars(query))


def owed_reminders(
    period_keys: Sequence[str],
    rungs: Mapping[date, Rung],
    *,
    awaiting_approval: bool = False,
) -> list[Owed]:
    """The reminders owed today: for each unsubmitted obligation whose due date has a rung in
    ``rungs``, each active member of that rung's audience not yet sent it (per the log).

    One query per role of the audiences (four at most), whatever the number of obligations:
    the rung of each due date is a ``CASE`` over the due date, and the log is an anti-join on
    its unique key. ``awaiting_approval`` keeps only drafts waiting for the approver (the
    approval rung). Users without a department are reached only as coordinators; deactivated
    users never.
    """
    owed: list[Owed] = []
    if not rungs:
        return owed
    rung_name = sa.case(
        {due: rung.name for due, rung in rungs.items()}, value=Obligation.due_date
    ).label("rung")
    for audience, role, per_department in AUDIENCE_ROLES:
        dates = [due for due, rung in rungs.items() if audience in rung.audience]
        if not dates:
            continue
        member = sa.and_(User.role == role, User.active.is_(True))
        if per_department:
            member = sa.and_(member, User.department_id == Obligation.department_id)
        sent = sa.exists().where(
            ReminderLog.obligation_id == Obligation.id,
            ReminderLog.due_date == Obligation.due_date,
            ReminderLog.rung == rung_name,
            ReminderLog.recipient_id == User.id,
        )
        query = (
            _unsubmitted(period_keys)
            .with_only_columns(User.id, Obligation.id, Obligation.due_date, rung_name)
            .join(User, member)
            .where(Obligation.due_date.in_(dates), ~sent)
        )
        if awaiting_approval:
            query = query.where(_awaiting_approval())
        owed += [Owed(*row) for row in db.session.execute(query)]
    return sorted(owed)


def recipients(user_ids: Iterable[int]) -> dict[int, User]:
    """The users these reminders go to, by id."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def obligations_for_messages(obligation_ids: Iterable[int]) -> dict[int, Obligation]:
    """Obligations by id, with what the reminder's words need (item, document, report)."""
    ids = sorted(set(obligation_ids))
    found: dict[int, Obligation] = {}
    for start in range(0, len(ids), 2000):  # within every backend's limit of bound parameters
        query = (
            sa.select(Obligation)
            .where(Obligation.id.in_(ids[start : start + 2000]))
            .options(
                joinedload(Obligation.task).joinedload(Task.document),
                joinedload(Obligation.report),
            )
        )
        found.update((o.id, o) for o in db.session.scalars(query).unique())
    return found
