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

# Everything a stored version holds, in the order the version pages show it.
VERSION_LABELS = {
    "state": "报告状态",
    "status": FIELD_LABELS["status"],
    "confirmed_status": "核定状态",
    "progress": FIELD_LABELS["progress"],
    "problems": FIELD_LABELS["problems"],
    "practices": FIELD_LABELS["practices"],
    "suggestions": FIELD_LABELS["suggestions"],
    "next_steps": FIELD_LABELS["next_steps"],
    "figures": FIELD_LABELS["figures"],
    "evidence": FIELD_LABELS["evidence"],
    "return_reason": "退回理由",
    "review_comment": "审核意见",
    "signoff_return_reason": "审核人退回理由",
}

# What each kind of version records (``ReportVersion.action``).
ACTION_LABELS = {
    "save": "保存",
    "submit": "报送",
    "resubmit": "重新报送",
    "accept": "审核通过",
    "return": "退回",
    "withdraw": "撤回",
    "reopen": "重新打开",
    "request_approval": "送审",
    "cancel_approval": "撤回送审",
    "approve": "审核签发并报送",
    "signoff_return": "审核人退回",
}
