"""Reading for imports: the database's departments as a parser registry, and the preview."""

from __future__ import annotations

from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department
from tracker.imports.parser import DepartmentRegistry, ParseProblem, ParseResult, parse_attachment


def department_registry(departments: list[Department]) -> DepartmentRegistry:
    """Every spelling (name, code, short name, alias) of the given departments.

    Raises :class:`ValueError` when one spelling would name two departments.
    """
    return DepartmentRegistry.from_entries(
        {"name": d.name, "code": d.code, "short_name": d.short_name, "aliases": d.aliases}
        for d in departments
    )


def preview_attachment(text: str) -> ParseResult:
    """Parse an attachment against the database's departments; writes nothing."""
    try:
        registry = department_registry(catalogue_queries.departments())
    except ValueError as exc:
        return ParseResult([], [ParseProblem(None, f"部门名称登记有冲突，请先修正部门：{exc}")])
    return parse_attachment(text, registry)


def department_codes_by_name() -> dict[str, str]:
    """Canonical department name → code, in the departments' list order."""
    return {d.name: d.code for d in catalogue_queries.departments()}
