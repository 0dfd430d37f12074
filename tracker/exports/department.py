"""A department's 报送 sheet: its items of one quarter with its reports, ready to sign and stamp.

What a department sends up on paper beside the system: every obligation it has in the quarter
(item, role, due date, the dashboard's light), what it reported (the self-assessed state and
the five narratives), when it was submitted and who signed it off inside the department
(审核签发), a line of counts, and a block for the leader's signature and the unit's seal
(负责人签字, 单位盖章, 年 月 日).

The paper is gathered once (:func:`department_paper`) and written as a workbook here
(:func:`write_department_xlsx`) or as a Word document (:mod:`tracker.exports.department_docx`),
so both say the same. A report's content is on it once handed in; a draft only on the
department's own copy (``include_drafts``), marked as not yet submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO

from tracker import clock
from tracker.auth import liaisons
from tracker.auth.models import User
from tracker.catalogue.models import Department, Role
from tracker.dashboard import queries as dashboard
from tracker.dashboard.rag import Rag, Reason
from tracker.exports import queries
from tracker.exports.masthead import approver_names, documents_heading, masthead
from tracker.exports.quarterly import (
    NARRATIVES,
    RAG_PAINT,
    handed_in,
    judged_cell,
)
from tracker.exports.workbook import Book, Column, Look, Masthead, Paint
from tracker.periods import Period
from tracker.reports.models import ReportState

FORM_TITLE = "任务分工落实情况报送表"
SHEET_TITLE = "报送表"
NOT_REPORTED = "尚未报送"
DRAFT_NOTE = "（草稿，尚未报送）"
SIGNATURE = "负责人签字："
SEAL = "单位（盖章）："
DATE_LINE = "年\u3000\u3000月\u3000\u3000日"

PAPER_COLUMNS = [
    Column("序号", 6, "int"),
    Column("工作任务", 30, "wrap"),
    Column("角色", 8, "center"),
    Column("落实状态", 14, "center"),
    Column("报送与审核签发", 18, "wrap"),
    Column("栏目", 12, "center"),
    Column("内容", 52, "wrap"),
]
MERGED = range(5)  # an obligation's columns, merged down its narrative rows
STATE_COLUMN = 3
SIGN_LOOK = Look("text", size=12, border="")
DATE_LOOK = Look("text", size=12, border="", align="right")
COUNTS_LOOK = Look("wrap", border="")


@dataclass(frozen=True)
class PaperLine:
    """One obligation of the department on the paper."""

    document_number: str
    number: int
    task_text: str
    role: Role
    due_date: date
    state: str  # the dashboard's label, e.g. "已报送待审核 · 迟报1个工作日"
    rag: Rag
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    draft: bool  # content shown is an unsubmitted draft (the department's own copy only)
    sections: tuple[tuple[str, str], ...]  # (自评状态 / 工作进展 / …, text), non-empty only

    @property
    def handed_in_note(self) -> str:
        """``报送：2024-10-09 16:00\\n审核签发：王处长 2024-10-09 15:30`` or why not."""
        if self.submitted_at is None:
            return DRAFT_NOTE.strip("（）") if self.draft else NOT_REPORTED
        parts = [f"报送：{_moment(self.submitted_at)}"]
        if self.approved_by and self.approved_at:
            parts.append(f"审核签发：{self.approved_by}\n{_moment(self.approved_at)}")
        return "\n".join(parts)


@dataclass
class PaperCounts:
    """The line of counts under the table."""

    due: int = 0
    submitted: int = 0
    signed_off: int = 0
    overdue: int = 0
    waived: int = 0

    @property
    def sentence(self) -> str:
        return (
            f"本季度应报事项 {self.due} 项：已报送 {self.submitted} 项（其中经本部门审核签发 "
            f"{self.signed_off} 项），逾期未报 {self.overdue} 项，豁免 {self.waived} 项。"
        )


@dataclass(frozen=True)
class DepartmentPaper:
    """Everything a department's 报送 sheet shows."""

    department: Department
    period: Period
    masthead: Masthead
    heading: str
    lines: list[PaperLine]
    counts: PaperCounts = field(default_factory=PaperCounts)


def _moment(value: datetime) -> str:
    return value.astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")


def department_paper(
    department: Department,
    period: Period,
    *,
    document_id: int | None = None,
    prepared_by: User | None = None,
    include_drafts: bool = False,
) -> DepartmentPaper:
    """Gather the department's paper for ``period`` (one document, or all of them).

    The lights are the dashboard's for the same department and day (a frozen quarter reads
    its snapshot). The 填报人 is the one exporting it if they are the department's liaison,
    else its main liaison (A角); the 审核人 those who signed its reports off, else its
    approvers.
    """
    scope = dashboard.make_scope(period, document_id, frozenset({department.id}))
    lines: list[PaperLine] = []
    counts = PaperCounts()
    for line in queries.obligation_lines(
        period,
        document_id=document_id,
        department_id=department.id,
        snapshot_id=scope.snapshot.id if scope.snapshot is not None else None,
    ):
        cell = judged_cell(line, scope, scope.thresholds)
        shown = handed_in(line) or (include_drafts and line.state == ReportState.DRAFT)
        sections: list[tuple[str, str]] = []
        if shown:
            if line.status is not None:
                sections.append(("自评状态", line.status.label))
            sections.extend(
                (label, text)
                for name, label in NARRATIVES
                if (text := getattr(line, name)) and text.strip()
            )
        lines.append(
            PaperLine(
                line.document_number, line.task_number, line.task_text, line.role,
                line.due_date, cell.label, cell.rag, line.first_submitted_at,
                line.approved_by if handed_in(line) else None,
                line.approved_at if handed_in(line) else None,
                shown and not handed_in(line), tuple(sections),
            )
        )  # fmt: skip
        reason = cell.light.reason
        if reason == Reason.WAIVED:
            counts.waived += 1
            continue
        counts.due += 1
        counts.submitted += line.first_submitted_at is not None
        counts.signed_off += line.first_submitted_at is not None and line.approved_at is not None
        counts.overdue += reason == Reason.OVERDUE
    signers = sorted({line.approved_by for line in lines if line.approved_by})
    head = masthead(
        documents_heading(document_id),
        on=clock.local_today(),
        department=department,
        prepared_by=_preparer(department, prepared_by),
        approver="、".join(signers) if signers else approver_names(department),
        form_title=f"{department.name}{FORM_TITLE}",
    )
    judged = f"数据截至 {scope.judged_on.isoformat()}"
    heading = f"{period.label}（{judged}{'，本季度已封存' if scope.frozen else ''}）"
    return DepartmentPaper(department, period, head, heading, lines, counts)


def _preparer(department: Department, prepared_by: User | None) -> User | None:
    if prepared_by is not None and prepared_by.department_id == department.id:
        return prepared_by
    holders = liaisons.slot_holders(department.id)
    if liaisons.MAIN in holders:
        return holders[liaisons.MAIN]
    active = liaisons.active_liaisons(department.id)
    return active[0] if active else None


def write_department_xlsx(target: str | IO[bytes], paper: DepartmentPaper) -> None:
    """The paper as a one-sheet workbook (A4 landscape, printed at full size)."""
    multi = len({line.document_number for line in paper.lines}) > 1
    with Book(target) as book:
        sheet = book.sheet(
            SHEET_TITLE,
            paper.heading,
            PAPER_COLUMNS,
            masthead=paper.masthead.numbered("表号：RWFG-BS"),
            sparse=False,
        )
        sheet.filtered = False
        for line in paper.lines:
            number = f"{line.document_number}\n第{line.number}项" if multi else line.number
            task = f"{line.task_text}\n（截止 {line.due_date.isoformat()}）"
            head = [number, task, line.role.label, line.state, line.handed_in_note]
            sections = line.sections or ((DRAFT_NOTE if line.draft else "", ""),)
            rows = [[*head, label, text] for label, text in sections]
            paint: dict[int, Paint] = {STATE_COLUMN: RAG_PAINT[line.rag]}
            sheet.block(rows, list(MERGED), [paint] * len(rows))
        span = len(PAPER_COLUMNS)
        sheet.blank()
        sheet.cells([(paper.counts.sentence, COUNTS_LOOK)], span=span)
        sheet.blank(height=18)
        # 负责人签字 over the first four columns, the seal over the rest, the date under it.
        sheet.spans([(SIGNATURE, SIGN_LOOK, 4), (SEAL, SIGN_LOOK, span - 4)], height=48)
        sheet.spans([(None, None, 5), (DATE_LINE, DATE_LOOK, span - 5)], height=24)
        sheet.finish()
