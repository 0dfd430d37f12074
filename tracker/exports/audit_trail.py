"""The audit trail workbook: the auditor's filtered rows, newest first, streamed.

Read in keyset batches (:func:`tracker.audit.queries.trail_rows`) and written row by row in
constant memory, so millions of rows cost time, not memory. Every text cell goes through the
workbook's safe text (a user agent or a username starting with ``=`` stays text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO

from tracker.audit.forms import OUTCOME_LABELS
from tracker.audit.queries import TrailFilter, trail_rows
from tracker.exports.workbook import Book, Column

COLUMNS = (
    Column("编号", 10, "int"),
    Column("时间（北京时间）", 20, "datetime"),
    Column("操作人", 16),
    Column("部门", 16),
    Column("客户端地址", 16),
    Column("操作", 22),
    Column("对象类型", 16),
    Column("对象编号", 10, "int"),
    Column("结果", 8, "center"),
    Column("详情", 40, "wrap"),
    Column("浏览器/系统", 30),
)


def write_audit_trail(
    target: IO[bytes], filters: TrailFilter, departments: Mapping[int, str], heading: str
) -> int:
    """Write the filtered trail to ``target``; the number of rows written."""
    import json

    count = 0
    with Book(target) as book:
        sheet = book.sheet("审计日志", heading, COLUMNS)
        for event in trail_rows(filters):
            actor = event.actor.username if event.actor else ""
            detail = json.dumps(event.after, ensure_ascii=False) if event.after else ""
            sheet.row([
                event.id, event.at, actor, departments.get(event.department_id or 0, ""),
                event.client_address or "", event.action, event.object_type, event.object_id,
                OUTCOME_LABELS[event.outcome], detail, event.user_agent or "",
            ])  # fmt: skip
            count += 1
    return count
