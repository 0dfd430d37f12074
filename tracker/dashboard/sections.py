"""Sections that higher domains add to the dashboard's pages, without the dashboard importing
them.

The cascade (``tracker.federation``, a layer above) shows at a central instance how each
province's roll-up of the quarter arrived: its routes module calls
:func:`add_scorecard_section` and :func:`add_dashboard_section` when it is imported, and the
scorecard and the coordinator's dashboard render every section registered for them, in
order, below their own tables. As with ``reports.sections``, the import graph
keeps pointing downwards: the federation knows the dashboard, the dashboard only this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracker.periods import Period

# prepare(period, document_id) → the template's ``section``, or None to show nothing (the
# section decides, for the current user, whether it has anything to show).
Prepare = Callable[[Period, int | None], dict[str, Any] | None]


@dataclass(frozen=True)
class ScorecardSection:
    name: str
    template: str
    prepare: Prepare


_SECTIONS: dict[str, dict[str, ScorecardSection]] = {"scorecard": {}, "dashboard": {}}


def add_scorecard_section(name: str, template: str, prepare: Prepare) -> None:
    """Register (once per name) a section of the scorecard page."""
    _SECTIONS["scorecard"].setdefault(name, ScorecardSection(name, template, prepare))


def add_dashboard_section(name: str, template: str, prepare: Prepare) -> None:
    """Register (once per name) a section of the dashboard (not of a department's view)."""
    _SECTIONS["dashboard"].setdefault(name, ScorecardSection(name, template, prepare))


def _shown(page: str, period: Period, document_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for section in _SECTIONS[page].values():
        data = section.prepare(period, document_id)
        if data is not None:
            found.append((section.template, data))
    return found


def scorecard_sections(period: Period, document_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every registered scorecard section that has something to show."""
    return _shown("scorecard", period, document_id)


def dashboard_sections(period: Period, document_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every registered dashboard section that has something to show."""
    return _shown("dashboard", period, document_id)
