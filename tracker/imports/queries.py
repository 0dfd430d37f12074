"""Reading for imports: the database's departments as a parser registry, and the preview."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department
from tracker.imports.parser import (
    ALL_DEPARTMENTS,
    DepartmentRegistry,
    ParseProblem,
    ParseResult,
    parse_attachment,
)


def department_registry(departments: list[Department]) -> DepartmentRegistry:
    """Every spelling (name, code, short name, alias) of the given departments.

    Raises :class:`ValueError` when one spelling would name two departments.
    """
    return DepartmentRegistry.from_entries(
        {"name": d.name, "code": d.code, "short_name": d.short_name, "aliases": d.aliases}
        for d in departments
    )


def preview_attachment(text: str) -> ParseResult:
    """Parse an attachment against the database's departments; writes nothing.

    Inactive departments are recognised (their spellings stay theirs) but refused: a new
    document assigns nothing to a department that is 已停用.
    """
    departments = catalogue_queries.departments()
    try:
        registry = department_registry(departments)
    except ValueError as exc:
        return ParseResult([], [ParseProblem(None, f"部门名称登记有冲突，请先修正部门：{exc}")])
    result = parse_attachment(text, registry)
    inactive = {d.name for d in departments if not d.active}
    if not inactive:
        return result
    for item in result.items:
        joint = [] if item.joint == ALL_DEPARTMENTS else item.joint
        for name in [*item.lead, *item.support, *joint]:
            if name in inactive:
                problem = ParseProblem(item.number, f"部门「{name}」已停用，不能分配新任务")
                item.problems.append(problem)
                result.problems.append(problem)
    result.problems.sort(key=lambda p: p.number or 0)
    return result


def department_codes_by_name() -> dict[str, str]:
    """Canonical department name → code, in the departments' list order."""
    return {d.name: d.code for d in catalogue_queries.departments()}


def active_department_codes() -> list[str]:
    """The codes 各部门 binds: every active department, in list order."""
    return [d.code for d in catalogue_queries.departments() if d.active]


@dataclass(frozen=True)
class DepartmentProposal:
    """A department the attachment names and the database lacks, as it would be created."""

    code: str
    name: str
    short_name: str


def missing_departments(result: ParseResult) -> list[str]:
    """The spellings the registry did not know, in order of first mention, each once."""
    names: list[str] = []
    for problem in result.problems:
        name = problem.unknown_department
        if name and name not in names:
            names.append(name)
    return names


def department_proposals(names: list[str], codes: list[str]) -> list[DepartmentProposal]:
    """What creating each missing department would create: the proposed code, the name as
    the document spells it, and that name as the short name (cut to 32 characters)."""
    return [
        DepartmentProposal(code, name, name[:32]) for name, code in zip(names, codes, strict=True)
    ]
