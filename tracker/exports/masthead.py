"""Who answers for a paper: the title block of the workbooks and the department's 报送 sheet.

Every form a ministry files carries the unit that filled it in, the person, their work phone,
the leader who approved it and the date (填报单位, 填报人, 联系电话, 审核人, 填报日期). What the
system knows it fills in; what it does not (the approver of the coordinators' compilation, the
phone of a command-line export) is left blank, to be written by hand before signing.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from tracker.auth.models import User
from tracker.auth.queries import active_approvers
from tracker.catalogue.models import Department, PolicyDocument
from tracker.exports.workbook import Masthead
from tracker.extensions import db

FORM_TITLE = "任务分工落实情况统计表"


def paper_date(day: date) -> str:
    """``2026年12月3日``, as dates are written on official papers (Arabic figures)."""
    return f"{day.year}年{day.month}月{day.day}日"


def documents_heading(document_id: int | None, *, limit: int = 2) -> str:
    """The document a paper is about, ``民发〔2019〕86号《关于…的意见》``; several: their
    numbers (``A、B等5件文件``); none: ``（无文件）``."""
    query = sa.select(PolicyDocument.number, PolicyDocument.title).order_by(PolicyDocument.id)
    if document_id is not None:
        query = query.where(PolicyDocument.id == document_id)
    rows = db.session.execute(query.limit(limit + 1)).all()
    if not rows:
        return "（无文件）"
    if len(rows) == 1:
        number, title = rows[0]
        return f"{number}《{title}》"
    total = db.session.scalar(sa.select(sa.func.count()).select_from(PolicyDocument))
    numbers = "、".join(number for number, _ in rows[:limit])
    return f"{numbers}等{total}件文件" if (total or 0) > limit else numbers


def approver_names(department: Department) -> str:
    """The department's active approvers, ``王处长、李处长`` (empty: none named)."""
    return "、".join(user.display_name for user in active_approvers(department.id))


def masthead(
    documents: str,
    *,
    on: date,
    department: Department | None = None,
    prepared_by: User | None = None,
    approver: str | None = None,
    form_title: str = FORM_TITLE,
) -> Masthead:
    """The title block of a paper on ``documents`` dated ``on``.

    ``department`` is the unit the paper is for (its approvers sign it); without one the unit
    is the preparer's own (the coordinators' compilation). ``approver`` overrides who is
    named as 审核人 (the 报送 sheet names the approvers who actually signed off).
    """
    unit = department or (prepared_by.department if prepared_by is not None else None)
    if approver is None:
        approver = approver_names(department) if department is not None else ""
    return Masthead(
        f"{documents}\n{form_title}",
        (
            ("填报单位", unit.name if unit is not None else ""),
            ("填报人", prepared_by.display_name if prepared_by is not None else ""),
            ("联系电话", (prepared_by.phone or "") if prepared_by is not None else ""),
            ("审核人", approver),
            ("填报日期", paper_date(on)),
        ),
    )
