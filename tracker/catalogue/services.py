"""Changing the catalogue: loading a validated seed, creating documents from imports."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tracker import clock
from tracker.audit.services import record_event
from tracker.catalogue.models import (
    NATIONAL_JURISDICTION,
    Assignment,
    Department,
    Jurisdiction,
    PolicyDocument,
    Role,
    Task,
)
from tracker.catalogue.seedfile import SeedCatalogue, SeedDepartment, SeedDocument, SeedTask
from tracker.errors import Invalid
from tracker.extensions import db
from tracker.periods import Period

if TYPE_CHECKING:
    from tracker.auth.models import User


class CatalogueError(Invalid):
    """A catalogue change that is refused; ``problems`` says why, in full."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


# Other domains register functions telling which assignments already carry reports, so that
# the catalogue never deletes an obligation with history behind it.
InUseCheck = Callable[[Iterable[int]], set[int]]
_in_use_checks: list[InUseCheck] = []


def register_in_use_check(check: InUseCheck) -> None:
    """Register ``check(assignment_ids) -> ids with reports`` (idempotent)."""
    if check not in _in_use_checks:
        _in_use_checks.append(check)


def assignments_in_use(assignment_ids: Iterable[int]) -> set[int]:
    ids = list(assignment_ids)
    used: set[int] = set()
    if ids:
        for check in _in_use_checks:
            used |= check(ids)
    return used


@dataclass
class SeedSummary:
    """What a seed run changed; all zero on a second run of the same file."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: str, kind: str) -> None:
        target = getattr(self, bucket)
        target[kind] = target.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def national_jurisdiction() -> Jurisdiction:
    """The national jurisdiction, created on first use."""
    found = db.session.scalar(
        sa.select(Jurisdiction).where(Jurisdiction.code == NATIONAL_JURISDICTION)
    )
    if found is None:
        found = Jurisdiction(code=NATIONAL_JURISDICTION, name="全国")
        db.session.add(found)
        db.session.flush()
    return found


def apply_seed(catalogue: SeedCatalogue, *, actor: User | None = None) -> SeedSummary:
    """Bring the database in line with a validated seed: idempotent, audited, flushed only.

    Raises :class:`CatalogueError` (leaving the caller to roll back) when the change would
    delete an assignment that already has reports.
    """
    summary = SeedSummary()
    jurisdiction = national_jurisdiction()
    departments = {d.code: _upsert_department(d, summary, actor) for d in catalogue.departments}
    document = _upsert_document(catalogue.document, summary, actor)
    problems: list[str] = []
    seen_numbers: set[int] = set()
    for seed_task in catalogue.tasks:
        seen_numbers.add(seed_task.number)
        task = _upsert_task(document, seed_task, summary, actor)
        _sync_assignments(task, seed_task, departments, jurisdiction, summary, problems, actor)
    for task in list(document.tasks):
        if task.number not in seen_numbers:
            _remove_task(task, summary, problems, actor)
    if problems:
        raise CatalogueError(problems)
    db.session.flush()
    return summary


def _upsert_department(
    seed: SeedDepartment, summary: SeedSummary, actor: User | None
) -> Department:
    dept = db.session.scalar(sa.select(Department).where(Department.code == seed.code))
    values = {
        "name": seed.name,
        "short_name": seed.short_name,
        "aliases": list(seed.aliases),
        "position": seed.position,
    }
    if dept is None:
        dept = Department(code=seed.code, **values)
        db.session.add(dept)
        record_event("department.create", dept, actor=actor, after=values)
        summary.count("created", "department")
        return dept
    before = {key: getattr(dept, key) for key in values}
    if before != values:
        for key, value in values.items():
            setattr(dept, key, value)
        record_event("department.update", dept, actor=actor, before=before, after=values)
        summary.count("updated", "department")
    return dept


def _upsert_document(
    seed: SeedDocument, summary: SeedSummary, actor: User | None
) -> PolicyDocument:
    document = db.session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.number == seed.number)
    )
    values: dict[str, Any] = {"title": seed.title, "issuer": seed.issuer, "issued": seed.issued}
    if seed.first_period is not None:
        values["first_period"] = seed.first_period
    if document is None:
        if seed.first_period is None and _catalogue_has_documents():
            # A later document from a seed file starts in its own quarter, like an import;
            # the founding one follows the installation's first period (None).
            values["first_period"] = current_quarter_key()
        document = PolicyDocument(number=seed.number, **values)
        db.session.add(document)
        record_event("document.create", document, actor=actor, after=_jsonable(values))
        summary.count("created", "document")
        return document
    before = {key: getattr(document, key) for key in values}
    if before != values:
        for key, value in values.items():
            setattr(document, key, value)
        record_event(
            "document.update",
            document,
            actor=actor,
            before=_jsonable(before),
            after=_jsonable(values),
        )
        summary.count("updated", "document")
    return document


def _upsert_task(
    document: PolicyDocument, seed: SeedTask, summary: SeedSummary, actor: User | None
) -> Task:
    task = next((t for t in document.tasks if t.number == seed.number), None)
    values = {
        "section": seed.section,
        "text": seed.text,
        "clause": seed.clause,
        "main_text_note": seed.main_text_note,
        "all_departments": seed.all_departments,
    }
    if task is None:
        task = Task(number=seed.number, **values)
        document.tasks.append(task)
        record_event("task.create", task, actor=actor, after={"number": seed.number, **values})
        summary.count("created", "task")
        return task
    before = {key: getattr(task, key) for key in values}
    if before != values:
        changed = [key for key in values if before[key] != values[key]]
        for key in changed:
            setattr(task, key, values[key])
        record_event(
            "task.update",
            task,
            actor=actor,
            before={k: before[k] for k in changed},
            after={k: values[k] for k in changed},
        )
        summary.count("updated", "task")
    return task


def _sync_assignments(
    task: Task,
    seed: SeedTask,
    departments: dict[str, Department],
    jurisdiction: Jurisdiction,
    summary: SeedSummary,
    problems: list[str],
    actor: User | None,
) -> None:
    db.session.flush()  # departments created in this run need their ids
    wanted = {
        departments[code].id: (Role(role), position)
        for position, (code, role) in enumerate(seed.assignments)
    }
    existing = {a.department_id: a for a in task.assignments}
    stale = [a for dept_id, a in existing.items() if dept_id not in wanted]
    in_use = assignments_in_use(a.id for a in stale)
    for old in stale:
        if old.id in in_use:
            problems.append(f"第{task.number}项：{old.department.name}的分工已有进展报告，不能删除")
            continue
        record_event("assignment.delete", old, actor=actor, before=_assignment(old))
        task.assignments.remove(old)
        summary.count("deleted", "assignment")
    for dept_id, (role, position) in wanted.items():
        assignment = existing.get(dept_id)
        if assignment is None:
            assignment = Assignment(
                department_id=dept_id, jurisdiction=jurisdiction, role=role, position=position
            )
            task.assignments.append(assignment)
            record_event(
                "assignment.create", assignment, actor=actor, after=_assignment(assignment)
            )
            summary.count("created", "assignment")
        elif (assignment.role, assignment.position) != (role, position):
            before = _assignment(assignment)
            assignment.role, assignment.position = role, position
            record_event(
                "assignment.update",
                assignment,
                actor=actor,
                before=before,
                after=_assignment(assignment),
            )
            summary.count("updated", "assignment")


def _remove_task(task: Task, summary: SeedSummary, problems: list[str], actor: User | None) -> None:
    in_use = assignments_in_use(a.id for a in task.assignments)
    if in_use:
        problems.append(f"第{task.number}项：已有进展报告，不能从目录中删除")
        return
    record_event(
        "task.delete", task, actor=actor, before={"number": task.number, "text": task.text}
    )
    db.session.delete(task)
    summary.count("deleted", "task")


def _assignment(assignment: Assignment) -> dict[str, Any]:
    return {
        "task_id": assignment.task_id,
        "department_id": assignment.department_id,
        "role": assignment.role.value,
        "position": assignment.position,
    }


def current_quarter_key() -> str:
    """The quarter containing today (Beijing time): a new document's default first period."""
    return Period.containing(clock.local_today()).key


def _catalogue_has_documents() -> bool:
    return db.session.scalar(sa.select(PolicyDocument.id).limit(1)) is not None


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def create_document(
    document: SeedDocument,
    tasks: list[SeedTask],
    *,
    actor: User | None = None,
    action: str = "document.import",
) -> PolicyDocument:
    """Add a new document with its items and their assignments: audited, flushed only.

    Assignments name existing departments by code; a document never creates departments.
    Raises :class:`CatalogueError` with every problem, before anything is added, when the
    number is already in the catalogue, there are no items, an item number repeats or a
    department code is unknown.
    """
    codes = {code for seed_task in tasks for code, _role in seed_task.assignments}
    departments = {
        d.code: d
        for d in db.session.scalars(sa.select(Department).where(Department.code.in_(codes)))
    }
    problems = _new_document_problems(document, tasks, codes - set(departments))
    if problems:
        raise CatalogueError(problems)
    values = {
        "title": document.title,
        "issuer": document.issuer,
        "issued": document.issued,
        "first_period": document.first_period or current_quarter_key(),
    }
    created = PolicyDocument(number=document.number, **values)
    db.session.add(created)
    record_event(
        action,
        created,
        actor=actor,
        after={"number": document.number, **_jsonable(values), "tasks": len(tasks)},
    )
    summary, jurisdiction = SeedSummary(), national_jurisdiction()
    for seed_task in tasks:
        task = _upsert_task(created, seed_task, summary, actor)
        _sync_assignments(task, seed_task, departments, jurisdiction, summary, problems, actor)
    db.session.flush()
    return created


def _new_document_problems(
    document: SeedDocument, tasks: list[SeedTask], unknown_codes: set[str]
) -> list[str]:
    problems: list[str] = []
    existing = db.session.scalar(
        sa.select(PolicyDocument.id).where(PolicyDocument.number == document.number)
    )
    if existing is not None:
        problems.append(f"文号为「{document.number}」的文件已在目录中，不能重复导入")
    if not tasks:
        problems.append("文件没有任何任务事项")
    numbers = [seed_task.number for seed_task in tasks]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        problems.append(f"第{number}项：编号重复")
    problems.extend(f"未知部门代码「{code}」：导入不会新建部门" for code in sorted(unknown_codes))
    return problems
