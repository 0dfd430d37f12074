"""Sections that higher domains add to the scorecard, without the dashboard importing them.

The cascade (``tracker.federation``, a layer above) shows at a central instance how each
province's roll-up of the quarter arrived: its routes module calls
:func:`add_scorecard_section` when it is imported, and the scorecard renders every section
registered, in order, below its own tables. As with ``reports.sections``, the import graph
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


_SECTIONS: dict[str, ScorecardSection] = {}


def add_scorecard_section(name: str, template: str, prepare: Prepare) -> None:
    """Register (once per name) a section of the scorecard page."""
    _SECTIONS.setdefault(name, ScorecardSection(name, template, prepare))


def scorecard_sections(period: Period, document_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    """(template, data) of every registered section that has something to show."""
    found = []
    for section in _SECTIONS.values():
        data = section.prepare(period, document_id)
        if data is not None:
            found.append((section.template, data))
    return found
