"""The Chinese names of a report's fields, read by pages, workbooks, forms and the API alike."""

from __future__ import annotations

FIELD_LABELS = {
    "status": "自评状态",
    "progress": "工作进展",
    "problems": "存在的困难和问题",
    "practices": "经验做法",
    "suggestions": "工作建议",
    "next_steps": "下一步计划",
    "figures": "关键数据",
    "evidence": "佐证材料",
}
