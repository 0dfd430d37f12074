"""Sections that higher domains add to an obligation's page, without reports importing them.

The follow-ups domain (urges, extension requests) shows its part of an obligation's page here:
its routes module calls :func:`add_obligation_section` when it is imported, and the
obligation page renders every registered section in order. This keeps the import graph
pointing downwards: follow-ups know reports, reports know only this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker.reports.models import Obligation


@dataclass(frozen=True)
class Section:
    """A template included on the obligation page with ``section`` = ``prepare(obligation)``."""

    name: str
    template: str
    prepare: Callable[[Obligation], dict[str, Any]]


_SECTIONS: dict[str, Section] = {}


def add_obligation_section(
    name: str, template: str, prepare: Callable[[Obligation], dict[str, Any]]
) -> None:
    """Register (once per name) a section of the obligation page."""
    _SECTIONS.setdefault(name, Section(name, template, prepare))


def obligation_sections(obligation: Obligation) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every registered section, for the current user."""
    return [(section.template, section.prepare(obligation)) for section in _SECTIONS.values()]
