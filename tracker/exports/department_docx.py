"""A department's 报送 sheet as a Word document (GB/T 9704-2012 layout, A4 portrait).

The same paper as the workbook (:mod:`tracker.exports.department`), written for reading and
signing rather than for filtering: the title, the form's fields (填报单位, 填报人, 联系电话,
审核人, 填报日期), the line of counts, then each document (一、) and each of its items (（一）)
with its light, submission and sign-off, and its report's sections as paragraphs; at the end
the block for 负责人签字 and 单位（盖章）, and 年 月 日 to write by hand.
"""

from __future__ import annotations

from itertools import groupby
from typing import IO

from tracker.exports.department import (
    DATE_LINE,
    DRAFT_NOTE,
    FORM_TITLE,
    NOT_REPORTED,
    SEAL,
    SIGNATURE,
    DepartmentPaper,
    PaperLine,
)
from tracker.exports.document import OfficialDocument, chinese_number

FIELD_GAP = "\u3000\u3000"
SIGNATURE_GAP = "\u3000" * 10  # room to sign by hand


def write_department_docx(target: str | IO[bytes], paper: DepartmentPaper) -> None:
    """Write the paper to ``target`` (a path, atomically, or a binary file)."""
    build_department_docx(paper).save(target)


def build_department_docx(paper: DepartmentPaper) -> OfficialDocument:
    doc = OfficialDocument()
    doc.title(paper.department.name, FORM_TITLE)
    fields = dict(paper.masthead.fields)
    for pair in (("填报单位", "填报人"), ("联系电话", "审核人"), ("填报日期",)):
        doc.line(FIELD_GAP.join(f"{label}：{fields.get(label) or FIELD_GAP}" for label in pair))
    doc.line(f"报告期：{paper.heading}")
    doc.blank_line()
    doc.paragraph(paper.counts.sentence)
    for number, (document, lines) in enumerate(
        groupby(paper.lines, key=lambda line: line.document_number), start=1
    ):
        doc.heading(f"{chinese_number(number)}、{document}")
        for index, line in enumerate(lines, start=1):
            _item(doc, index, line)
    # The block to sign stays on one page, with the report's last paragraph above it.
    doc.document.paragraphs[-1].paragraph_format.keep_with_next = True
    block = [
        doc.blank_line(),
        doc.line(f"{SIGNATURE}{SIGNATURE_GAP}{SEAL}"),
        doc.blank_line(),
        doc.line(DATE_LINE + "\u3000" * 4, align="right"),
    ]
    for paragraph in block[:-1]:
        paragraph.paragraph_format.keep_with_next = True
    return doc


def _item(doc: OfficialDocument, index: int, line: PaperLine) -> None:
    doc.heading(f"（{chinese_number(index)}）第{line.number}项（{line.role.label}）", level=2)
    doc.paragraph(f"{line.task_text}（截止 {line.due_date.isoformat()}）")
    doc.paragraph(f"落实状态：{line.state}。{_submitted(line)}")
    if line.draft:
        doc.paragraph(DRAFT_NOTE)
    for label, text in line.sections:
        paragraphs = [part for part in text.split("\n") if part.strip()] or [""]
        doc.paragraph(f"{label}：{paragraphs[0]}")
        for more in paragraphs[1:]:
            doc.paragraph(more)


def _submitted(line: PaperLine) -> str:
    """``报送：2024-10-09 16:00；审核签发：王处长 2024-10-09 15:30。`` or why not."""
    if line.submitted_at is None:
        return "" if line.draft else f"{NOT_REPORTED}。"
    return line.handed_in_note.replace("\n审核签发：", "；审核签发：").replace("\n", " ") + "。"
