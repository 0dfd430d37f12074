"""Reading the catalogue: documents, tasks with their assignments, departments."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.extensions import db

SECTION_PARTS = ("二", "三", "四")


def documents() -> list[PolicyDocument]:
    """Every policy document, newest issue first."""
    return list(
        db.session.scalars(
            sa.select(PolicyDocument).order_by(
                PolicyDocument.issued.desc().nulls_last(), PolicyDocument.id
            )
        )
    )


def departments() -> list[Department]:
    """Every department in the order of the documents' opening list."""
    return list(
        db.session.scalars(sa.select(Department).order_by(Department.position, Department.id))
    )


def assignable_departments(keep: Department | None = None) -> list[Department]:
    """The departments offered for a new account or assignment: the active ones, in list
    order, plus ``keep`` (an account's current department, even if it was deactivated)."""
    return [d for d in departments() if d.active or (keep is not None and d.id == keep.id)]


def department_by_code(code: str) -> Department | None:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def department_by_name_or_code(text: str) -> Department | None:
    """The department a person names: by code (``mps``), full or short name, or an alias."""
    wanted = text.strip()
    if not wanted:
        return None
    found = db.session.scalar(
        sa.select(Department).where(
            sa.or_(
                Department.code == wanted,
                Department.name == wanted,
                Department.short_name == wanted,
            )
        )
    )
    if found is not None:
        return found
    return next((d for d in departments() if wanted in (d.aliases or [])), None)


def document_by_number(number: str) -> PolicyDocument | None:
    return db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number == number))


def task_counts(tasks: sa.Select[Task]) -> dict[int, int]:
    """How many of the tasks a :func:`tasks_query` selects belong to each document."""
    query = (
        tasks.with_only_columns(Task.document_id, sa.func.count(Task.id))
        .group_by(Task.document_id)
        .order_by(None)
    )
    return {document_id: count for document_id, count in db.session.execute(query)}


def tasks_query(
    *,
    document_id: int | None = None,
    department_id: int | None = None,
    section: str | None = None,
    role: Role | None = None,
) -> sa.Select[Task]:
    """Tasks with assignments and departments loaded, filtered, in document and item order."""
    query = (
        sa.select(Task)
        .join(Task.document)
        .options(
            selectinload(Task.assignments).joinedload(Assignment.department),
            selectinload(Task.document),
        )
        .order_by(PolicyDocument.issued.desc().nulls_last(), PolicyDocument.id, Task.number)
    )
    if document_id is not None:
        query = query.where(Task.document_id == document_id)
    if section:
        query = query.where(sa.or_(Task.section == section, Task.section.startswith(section + "(")))
    if department_id is not None or role is not None:
        match = sa.select(Assignment.id).where(Assignment.task_id == Task.id)
        if department_id is not None:
            match = match.where(Assignment.department_id == department_id)
        if role is not None:
            match = match.where(Assignment.role == role)
        query = query.where(match.exists())
    return query


def task_with_assignments(task_id: int) -> Task | None:
    return db.session.scalar(
        sa.select(Task)
        .where(Task.id == task_id)
        .options(selectinload(Task.assignments).joinedload(Assignment.department))
    )


def department_assignments(department_id: int) -> list[Assignment]:
    """A department's assignments with their tasks, grouped by role in the caller."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .join(Assignment.task)
            .join(Task.document)
            .where(Assignment.department_id == department_id)
            .options(selectinload(Assignment.task).selectinload(Task.document))
            .order_by(PolicyDocument.id, Task.number)
        )
    )


def department_role_counts() -> dict[int, dict[Role, int]]:
    """Per department, how many items it leads, supports and shares (one GROUP BY)."""
    rows = db.session.execute(
        sa.select(Assignment.department_id, Assignment.role, sa.func.count()).group_by(
            Assignment.department_id, Assignment.role
        )
    )
    counts: dict[int, dict[Role, int]] = {}
    for department_id, role, count in rows:
        counts.setdefault(department_id, {})[Role(role)] = count
    return counts
