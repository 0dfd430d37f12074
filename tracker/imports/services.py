"""Importing a document: re-parse the text, then create the document, its items and assignments.

Nothing is written unless every item parses cleanly against the database's departments; the
text is parsed here, on confirmation, whatever a preview showed before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from tracker.catalogue.models import PolicyDocument, Role
from tracker.catalogue.seedfile import SeedDocument, SeedTask
from tracker.catalogue.services import CatalogueError, create_document
from tracker.errors import Conflict
from tracker.extensions import db
from tracker.imports import queries
from tracker.imports.parser import ALL_DEPARTMENTS, ParsedItem, ParseResult

if TYPE_CHECKING:
    from tracker.auth.models import User


class ImportRefused(CatalogueError):
    """The import was refused; ``problems`` says why and ``result`` is the parse, if any."""

    def __init__(self, problems: list[str], result: ParseResult | None = None):
        super().__init__(problems)
        self.result = result


def import_attachment(
    text: str, document: SeedDocument, *, actor: User | None = None
) -> PolicyDocument:
    """Create ``document`` with the attachment's items (audited as ``document.import``).

    Raises :class:`ImportRefused`, having added nothing, when any item has a problem, the
    number is already imported or a department is missing. Flushes, never commits.
    """
    result = queries.preview_attachment(text)
    if not result.ok:
        raise ImportRefused([str(problem) for problem in result.problems], result)
    codes = queries.department_codes_by_name()
    every = queries.active_department_codes()
    tasks = [_seed_task(item, codes, every) for item in result.items]
    try:
        created = create_document(document, tasks, actor=actor, action="document.import")
        db.session.flush()
    except CatalogueError as exc:
        raise ImportRefused(exc.problems, result) from None
    except sa.exc.IntegrityError:
        # Someone confirmed the same document number a moment earlier: the unique key held.
        raise Conflict(f"文号「{document.number}」刚刚已被导入，未重复导入。") from None
    return created


def _seed_task(item: ParsedItem, codes: dict[str, str], active: list[str]) -> SeedTask:
    """One parsed item as a catalogue item; 各部门 binds every active department."""
    every = item.joint == ALL_DEPARTMENTS
    joint = list(active) if every else [codes[name] for name in item.joint]
    assignments = [(codes[name], Role.LEAD.value) for name in item.lead]
    assignments += [(codes[name], Role.SUPPORT.value) for name in item.support]
    assignments += [(code, Role.JOINT.value) for code in joint]
    return SeedTask(
        number=item.number,
        section=None,  # attachments do not say which part of the main text an item implements
        text=item.text,
        clause=item.clause,
        main_text_note=None,
        assignments=assignments,
        all_departments=every,
    )
