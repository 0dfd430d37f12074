"""Reading what the reminder pass needs: recipients, unsubmitted obligations, rungs sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Task
from tracker.extensions import db
from tracker.reminders.models import ReminderLog
from tracker.reports.models import Obligation, Report

# What a reminder is sent for, once: (obligation id, due date, rung, recipient id).
ReminderKey = tuple[int, date, str, int]


@dataclass
class Recipients:
    """Active users who can receive reminders, grouped the way the ladder addresses them."""

    coordinators: list[User] = field(default_factory=list)
    liaisons: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    viewers: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))
    approvers: dict[int, list[User]] = field(default_factory=lambda: defaultdict(list))

    def for_audience(self, audience: Iterable[str], department_id: int) -> list[User]:
        """The users of a rung's audience for one department's obligation, in a stable order."""
        users: list[User] = []
        if "liaison" in audience:
            users += self.liaisons.get(department_id, [])
        if "coordinator" in audience:
            users += self.coordinators
        if "viewer" in audience:
            users += self.viewers.get(department_id, [])
        if "approver" in audience:
            users += self.approvers.get(department_id, [])
        return users


def reminder_recipients() -> Recipients:
    """Every active liaison, coordinator, department viewer and approver, in one query.

    Viewers without a department (leaders of the whole effort) read the dashboards and are not
    on the ladder; deactivated users receive nothing.
    """
    recipients = Recipients()
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.role.in_(
                [UserRole.LIAISON, UserRole.COORDINATOR, UserRole.VIEWER, UserRole.APPROVER]
            ),
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
        elif user.role == UserRole.APPROVER:
            recipients.approvers[user.department_id].append(user)
        else:
            recipients.viewers[user.department_id].append(user)
    return recipients


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


def sent_reminder_keys(period_keys: Iterable[str]) -> set[ReminderKey]:
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
    return {(obligation_id, due, rung, recipient) for obligation_id, due, rung, recipient in rows}
