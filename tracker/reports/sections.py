"""Sections that higher domains add to an obligation's page, without reports importing them.

The follow-ups domain (urges, extension requests, reminders to supporting departments) shows
its part of an obligation's page, and of a lead department's edit form, here: its routes
module calls :func:`add_obligation_section` when it is imported, and each page renders every
section registered for it, in order. This keeps the import graph
pointing downwards: follow-ups know reports, reports know only this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tracker.reports.models import Obligation

# "obligation": the obligation's page; "edit": the report's edit form (the lead's workspace).
Page = Literal["obligation", "edit"]


@dataclass(frozen=True)
class Section:
    """A template included on a page with ``section`` = ``prepare(obligation)``."""

    name: str
    template: str
    prepare: Callable[[Obligation], dict[str, Any]]
    page: Page


_SECTIONS: dict[str, Section] = {}


def add_obligation_section(
    name: str,
    template: str,
    prepare: Callable[[Obligation], dict[str, Any]],
    page: Page = "obligation",
) -> None:
    """Register (once per name) a section of the obligation page or of the edit form."""
    _SECTIONS.setdefault(name, Section(name, template, prepare, page))


def obligation_sections(
    obligation: Obligation, page: Page = "obligation"
) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every section registered for ``page``, for the current user."""
    return [
        (section.template, section.prepare(obligation))
        for section in _SECTIONS.values()
        if section.page == page
    ]
