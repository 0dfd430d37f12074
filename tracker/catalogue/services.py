"""Changing the catalogue: loading a validated seed, creating documents from imports."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

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
from tracker.errors import Conflict, Invalid
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
        clash = db.session.scalar(sa.select(Department).where(Department.name == seed.name))
        if clash is not None:
            raise CatalogueError(
                [f"部门「{seed.name}」（{seed.code}）：该名称已属于部门「{clash.code}」，未新建"]
            )
        dept = Department(code=seed.code, **values)
        db.session.add(dept)
        record_event("department.create", dept, actor=actor, after=values)
        summary.count("created", "department")
        return dept
    if dept.managed:
        # An administrator created or changed it (renamed, reordered, deactivated, ...): the
        # seed file no longer speaks for it, and never undoes the administrator's change.
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


# -- departments an administrator manages ------------------------------------------------------

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
CODE_MESSAGE = "部门代码只能含小写字母、数字和“-”，以字母开头，不超过 32 个字符，如 mca"
ALIAS_SEPARATORS = re.compile(r"[、，,;；\n]+")
OPEN_OBLIGATIONS_LISTED = 10  # a refusal names this many open obligations, then "等"

# Reports register a function telling a department's open obligations (an opened period's
# obligation whose report is neither accepted nor waived), as lines for a refusal, oldest
# first; the catalogue cannot read reports itself (they sit a layer above).
OpenObligations = Callable[[int], list[str]]
_open_obligation_checks: list[OpenObligations] = []


def register_open_obligations_check(check: OpenObligations) -> None:
    """Register ``check(department_id) -> lines, one per open obligation`` (idempotent)."""
    if check not in _open_obligation_checks:
        _open_obligation_checks.append(check)


def open_obligations(department: Department) -> list[str]:
    """The department's open obligations, one line each (empty: it may be deactivated)."""
    lines: list[str] = []
    for check in _open_obligation_checks:
        lines.extend(check(department.id))
    return lines


def split_aliases(text: str | None) -> list[str]:
    """``甲、乙，丙`` (or one per line) → ``["甲", "乙", "丙"]``, blanks and repeats dropped."""
    aliases: list[str] = []
    for alias in ALIAS_SEPARATORS.split(text or ""):
        alias = alias.strip()
        if alias and alias not in aliases:
            aliases.append(alias)
    return aliases


@dataclass
class DepartmentInput:
    """What an administrator types for a department (the code only when creating)."""

    name: str
    short_name: str = ""
    aliases: list[str] = field(default_factory=list)
    position: int | None = None
    # Sign-off inside the department (审核签发): "on", "off", "default" (follow
    # TRACKER_SIGNOFF_REQUIRED), or None to leave it as it is.
    signoff: str | None = None


SIGNOFF_VALUES: dict[str, bool | None] = {"on": True, "off": False, "default": None}


def signoff_required(department: Department) -> bool:
    """Whether the department's reports need its approver's sign-off (审核签发): as an
    administrator set the department, else ``TRACKER_SIGNOFF_REQUIRED``."""
    if department.signoff_required is not None:
        return department.signoff_required
    return bool(current_app.config["TRACKER_SIGNOFF_REQUIRED"])


def _department_values(data: DepartmentInput) -> dict[str, Any]:
    name = data.name.strip()
    short_name = data.short_name.strip() or name
    if not name:
        raise Invalid("请填写部门全称", field="name")
    if len(name) > 64:
        raise Invalid("部门全称不能超过 64 个字符", field="name")
    if len(short_name) > 32:
        raise Invalid("简称不能超过 32 个字符", field="short_name")
    aliases = [a for a in dict.fromkeys(a.strip() for a in data.aliases) if a and a != name]
    for alias in aliases:
        if len(alias) > 64:
            raise Invalid(f"别称「{alias[:20]}……」超过 64 个字符", field="aliases")
    if data.position is not None and not 0 <= data.position <= 9999:
        raise Invalid("排序号应为 0 到 9999 之间的整数", field="position")
    return {"name": name, "short_name": short_name, "aliases": aliases}


def _check_unique(values: dict[str, Any], code: str | None, department: Department | None) -> None:
    """No spelling of this department may name another one (names, short names, aliases and
    codes of every department, inactive ones included: their history still imports)."""
    taken: dict[str, Department] = {}
    for other in db.session.scalars(sa.select(Department)):
        if department is not None and other.id == department.id:
            continue
        for spelling in [other.code, *other.spellings]:
            taken.setdefault(spelling, other)
    if code is not None and code in taken:
        raise Invalid(f"部门代码「{code}」已被「{taken[code].name}」使用", field="code")
    checks = [("name", values["name"], "部门全称"), ("short_name", values["short_name"], "简称")]
    checks += [("aliases", alias, "别称") for alias in values["aliases"]]
    for field_name, spelling, label in checks:
        owner = taken.get(spelling)
        if owner is None:
            continue
        other = owner
        how = "简称或别称"
        if spelling in (other.name, other.code):
            how = "全称" if spelling == other.name else "代码"
        raise Invalid(
            f"{label}「{spelling}」已是部门「{other.name}」的{how}，一个名称只能指向一个部门",
            field=field_name,
        )


def _snapshot(department: Department) -> dict[str, Any]:
    return {
        "code": department.code,
        "name": department.name,
        "short_name": department.short_name,
        "aliases": list(department.aliases or []),
        "position": department.position,
        "active": department.active,
        "signoff_required": department.signoff_required,
    }


def propose_codes(count: int) -> list[str]:
    """Free codes for departments created from an import: ``dept14``, ``dept15``, …"""
    codes = set(db.session.scalars(sa.select(Department.code)))
    proposed: list[str] = []
    number = len(codes) + 1
    while len(proposed) < count:
        if f"dept{number}" not in codes:
            proposed.append(f"dept{number}")
        number += 1
    return proposed


def create_department(
    code: str,
    data: DepartmentInput,
    *,
    actor: User | None = None,
    action: str = "department.create",
) -> Department:
    """Add an active department (audited as ``action``, flushed only); :class:`Invalid`, with
    the field, when the code is malformed or taken or a spelling names another department."""
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise Invalid(CODE_MESSAGE, field="code")
    values = _department_values(data)
    _check_unique(values, code, None)
    position = data.position
    if position is None:
        last = db.session.scalar(sa.select(sa.func.max(Department.position)))
        position = (last or 0) + 1
    if data.signoff is not None and data.signoff not in SIGNOFF_VALUES:
        raise Invalid("审核签发须为开启、关闭或按系统默认", field="signoff")
    department = Department(code=code, position=position, active=True, managed=True, **values)
    department.signoff_required = SIGNOFF_VALUES.get(data.signoff or "default")
    db.session.add(department)
    db.session.flush()
    record_event(action, department, actor=actor, after=_snapshot(department))
    return department


def edit_department(
    department: Department, data: DepartmentInput, *, actor: User | None = None
) -> bool:
    """Rename a department, change its short name, aliases or place; whether anything changed.

    A new full name keeps the old one as an alias, so that documents spelling it the old way
    still import. Audited as ``department.edit`` with before and after.
    """
    values = _department_values(data)
    if values["name"] != department.name and department.name not in values["aliases"]:
        values["aliases"] = [*values["aliases"], department.name]
    values["aliases"] = [a for a in values["aliases"] if a != values["name"]]
    _check_unique(values, None, department)
    before = _snapshot(department)
    department.name = values["name"]
    department.short_name = values["short_name"]
    department.aliases = values["aliases"]
    if data.position is not None:
        department.position = data.position
    if data.signoff is not None:
        if data.signoff not in SIGNOFF_VALUES:
            raise Invalid("审核签发须为开启、关闭或按系统默认", field="signoff")
        department.signoff_required = SIGNOFF_VALUES[data.signoff]
    after = _snapshot(department)
    if after == before:
        return False
    department.managed = True
    db.session.flush()
    record_event("department.edit", department, actor=actor, before=before, after=after)
    return True


def deactivation_refusal(department: Department) -> str | None:
    """Why the department cannot be deactivated now (its open obligations), or None."""
    lines = open_obligations(department)
    if not lines:
        return None
    listed = "；".join(lines[:OPEN_OBLIGATIONS_LISTED])
    more = "等" if len(lines) > OPEN_OBLIGATIONS_LISTED else ""
    return (
        f"「{department.name}」还有 {len(lines)} 项未办结的填报任务（报告未审核通过，也未免报），"
        f"不能停用：{listed}{more}。请先办结或免报这些任务。"
    )


def check_deactivation(department: Department) -> None:
    """:class:`Conflict` when the department cannot be deactivated now."""
    if not department.active:
        raise Conflict(f"「{department.name}」已经停用。")
    refusal = deactivation_refusal(department)
    if refusal:
        raise Conflict(refusal)


def deactivate_department(department: Department, *, actor: User | None = None) -> None:
    """Mark the department 已停用 (audited); :class:`Conflict` while it has open obligations.

    Its accounts are the caller's business (the catalogue cannot reach accounts):
    :func:`tracker.auth.services.deactivate_department_accounts`.
    """
    check_deactivation(department)
    before = _snapshot(department)
    department.active = False
    department.managed = True
    record_event(
        "department.deactivate", department, actor=actor, before=before, after=_snapshot(department)
    )


def activate_department(department: Department, *, actor: User | None = None) -> None:
    """Let the department take part again from the next opened period (audited)."""
    if department.active:
        raise Conflict(f"「{department.name}」已是启用状态。")
    before = _snapshot(department)
    department.active = True
    department.managed = True
    record_event(
        "department.activate", department, actor=actor, before=before, after=_snapshot(department)
    )
