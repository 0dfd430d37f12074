"""Reading users."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from tracker import clock
from tracker.auth.models import LoginThrottle, User, UserRole
from tracker.catalogue.models import Department
from tracker.extensions import db


def user_by_username(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username.strip()))


def users_ordered() -> sa.Select[User]:
    return sa.select(User).order_by(User.role, User.username)


def active_users(department_id: int | None = None, role: UserRole | None = None) -> sa.Select[User]:
    """Active users, optionally of one department and role (for notifications)."""
    query = sa.select(User).where(User.active.is_(True))
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    if role is not None:
        query = query.where(User.role == role)
    return query.order_by(User.id)


def locked_usernames() -> dict[str, datetime]:
    """Usernames locked now at some client address, with the moment the last lock ends."""
    rows = db.session.execute(
        sa.select(LoginThrottle.key, LoginThrottle.locked_until).where(
            LoginThrottle.scope == "pair", LoginThrottle.locked_until > clock.utcnow()
        )
    )
    locked: dict[str, datetime] = {}
    for key, until in rows:
        name = key.partition("\n")[2]
        if until is not None and (name not in locked or until > locked[name]):
            locked[name] = until
    return locked


def _active_of(role: UserRole, department_id: int) -> list[User]:
    """A department's active users of one role, in the order they were created."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.active.is_(True),
                User.role == role,
                User.department_id == department_id,
            )
            .order_by(User.id)
        )
    )


def active_approvers(department_id: int) -> list[User]:
    """The department's active approvers (审核人), who sign its reports off."""
    return _active_of(UserRole.APPROVER, department_id)


def active_liaisons(department_id: int) -> list[User]:
    """Who receives a department's urges and extension decisions."""
    return _active_of(UserRole.LIAISON, department_id)


def active_coordinators() -> list[User]:
    """Who receives extension requests."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.active.is_(True), User.role == UserRole.COORDINATOR)
            .order_by(User.id)
        )
    )


CONTACT_ROLES = (UserRole.LIAISON, UserRole.APPROVER, UserRole.VIEWER)


def department_contacts(department_id: int | None = None) -> sa.Select[User]:
    """Active liaisons and viewers of departments (of one, when given), for the directory:
    in the departments' order, liaisons first, then approvers and viewers, then by name."""
    query = (
        sa.select(User)
        .join(User.department)
        .where(User.active.is_(True), User.role.in_(CONTACT_ROLES))
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    rank = sa.case({role: rank for rank, role in enumerate(CONTACT_ROLES)}, value=User.role)
    return query.order_by(Department.position, Department.id, rank, User.display_name)
