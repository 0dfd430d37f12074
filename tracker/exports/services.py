"""Applying an uploaded department template: every row checked first, then drafts saved.

All or nothing: the rows are checked against the database (the obligation exists and is the
liaison's department's, the report may still be edited, nobody changed it since the template
was downloaded) and any problem refuses the whole upload before a single draft is saved. Each
row is then saved with :func:`tracker.reports.services.save_draft` — never submitted — so the
audit trail and the report versions are the same as for a draft saved in the browser. Like
every service this flushes and never commits; the caller rolls back on refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.errors import Invalid
from tracker.exports import queries
from tracker.exports.template import (
    HEADERS,
    ID,
    PLAN_HEADERS,
    PLAN_SHEET,
    ParsedUpload,
    Problem,
    TemplateRefused,
    TemplateRow,
)
from tracker.reports import services as report_services
from tracker.reports.limits import normalise_text
from tracker.reports.models import Obligation, Report
from tracker.reports.services import EDITABLE_STATES, NARRATIVE_FIELDS, ReportInput


@dataclass(frozen=True)
class UploadResult:
    """What an accepted upload did."""

    created: int
    updated: int
    unchanged: int
    period: str | None = None  # the rows' period, when they all belong to one

    @property
    def saved(self) -> int:
        return self.created + self.updated


def apply_template(upload: ParsedUpload, *, actor: User) -> UploadResult:
    """Save the rows as drafts, or raise :class:`TemplateRefused` with every problem found.

    The problems found in the file's cells come in with ``upload``; those found against the
    database are added, and one refusal lists them all, in row and column order.
    """
    rows = upload.rows
    obligations = queries.obligations_by_id(
        row.obligation_id for row in rows if row.obligation_id is not None
    )
    problems = list(upload.problems)
    changes: list[tuple[TemplateRow, Obligation]] = []
    unchanged = 0
    for row in rows:
        if row.obligation_id is None:
            continue
        obligation = obligations.get(row.obligation_id)
        problem = _problem(row, obligation, actor)
        if problem is not None:
            problems.append(problem)
            continue
        assert obligation is not None, "_problem refuses a row whose obligation is missing"
        if not row.complete:
            continue
        if _changes(row, obligation.report):
            changes.append((row, obligation))
        else:
            unchanged += 1
    if problems:
        raise TemplateRefused(sorted(problems, key=_position))
    created = updated = 0
    for row, obligation in changes:
        new = obligation.report is None
        try:
            report_services.save_draft(
                obligation,
                _input(row),
                actor=actor,
                expected_version=None if new else row.version,
            )
        except report_services.ReportError as exc:  # changed by someone else meanwhile
            raise TemplateRefused([Problem(str(exc), row.row)]) from None
        except Invalid as exc:  # an ID or mobile number in a text (tracker/privacy.py)
            raise TemplateRefused([Problem(exc.message, row.row)]) from None
        created, updated = created + new, updated + (not new)
    periods = {obligation.period for obligation in obligations.values()}
    result = UploadResult(created, updated, unchanged, periods.pop() if len(periods) == 1 else None)
    record_event(
        "template.upload",
        actor=actor,
        object_type="department",
        object_id=actor.department_id,
        after={"rows": len(rows), "created": created, "updated": updated, "unchanged": unchanged},
    )
    return result


def _position(problem: Problem) -> tuple[int, int, int]:
    column = HEADERS.index(problem.column) + 1 if problem.column in HEADERS else 0
    if problem.sheet == PLAN_SHEET:
        column = PLAN_HEADERS.index(problem.column) + 1 if problem.column in PLAN_HEADERS else 0
    return problem.sheet is not None, problem.row or 0, column


def _problem(row: TemplateRow, obligation: Obligation | None, actor: User) -> Problem | None:
    """Why this row cannot be saved, if it cannot (only ownership for an incomplete row)."""
    if obligation is None:
        return Problem("系统中没有这个事项：请使用本系统下载的填报模板。", row.row, HEADERS[ID])
    if obligation.department_id != actor.department_id:
        return Problem("该事项不属于本部门，不能填报。", row.row, HEADERS[ID])
    report = obligation.report
    if not row.complete or not _changes(row, report):
        return None
    if report is not None and report.state not in EDITABLE_STATES:
        return Problem(
            f"第{obligation.task.number}项的报告当前为“{report.state.label}”，不能通过模板修改。",
            row.row,
        )
    current = report.version if report is not None else 0
    if row.version != current:
        return Problem(
            f"第{obligation.task.number}项的报告在下载模板后已被修改（模板为第 {row.version} 版，"
            f"系统中为第 {current} 版）：请重新下载模板后再填写。",
            row.row,
        )
    return None


def _changes(row: TemplateRow, report: Report | None) -> bool:
    """Does the row say something the stored report (or its absence) does not?"""
    if report is None:
        return not row.blank
    if row.status != report.status:
        return True
    if [(name, value, unit) for name, value, unit in row.figures] != [
        (f.name, f.value, f.unit) for f in report.figures
    ]:
        return True
    if row.indicator_values is not None and row.indicator_values != {
        v.indicator_key: v.value for v in report.indicator_values
    }:
        return True
    if row.milestone_statuses is not None and {
        key: (progress, normalise_text(note))
        for key, (progress, note) in row.milestone_statuses.items()
    } != {
        m.milestone_key: (m.progress, normalise_text(m.note or ""))
        for m in report.milestone_statuses
    }:
        return True
    # Compared as stored: a line break typed in the browser (CRLF) and the same one read back
    # from the workbook (LF) are the same text.
    return any(
        normalise_text(row.texts[name]) != normalise_text(getattr(report, name) or "")
        for name in NARRATIVE_FIELDS
    )


def _input(row: TemplateRow) -> ReportInput:
    """The row's content: its state, narratives, key figures, and the plans' sheet's values
    and statuses (None, from a template without that sheet, keeps the stored ones)."""
    data = ReportInput(
        status=row.status,
        figures=list(row.figures),
        indicator_values=row.indicator_values,
        milestone_statuses=row.milestone_statuses,
    )
    for name, text in row.texts.items():  # the narratives by name; the plan's fields stay None
        setattr(data, name, text)
    return data
