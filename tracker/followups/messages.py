"""The words of urges, acknowledgements and extension decisions (Chinese)."""

from __future__ import annotations

from tracker.auth.models import User
from tracker.followups.models import ExtensionRequest
from tracker.notifications.messages import Message, cn_date, headline, obligation_facts
from tracker.reports.models import Obligation


def urge(obligation: Obligation, coordinator: User, text: str) -> Message:
    title = f"【催办】{headline(obligation)}：请尽快报送本期进展报告"
    body = (
        f"督办协调员{coordinator.display_name}对以下事项进行催办：\n\n{text}\n\n"
        f"{obligation_facts(obligation)}\n\n请登录系统查看并签收。"
    )
    return Message(title, body)


def urge_acknowledged(obligation: Obligation, liaison: User) -> Message:
    title = f"【已签收】{headline(obligation)}：催办已由{liaison.display_name}签收"
    return Message(title, obligation_facts(obligation))


def extension_requested(
    obligation: Obligation, request: ExtensionRequest, liaison: User
) -> Message:
    title = f"【延期申请】{headline(obligation)}：申请延期至 {request.requested_due_date}"
    body = (
        f"{obligation.department.name}联络员{liaison.display_name}申请将以下事项的截止日期"
        f"由 {cn_date(request.previous_due_date)} 延期至 {cn_date(request.requested_due_date)}。\n"
        f"申请理由：{request.reason}\n\n{obligation_facts(obligation)}\n\n请登录系统审批。"
    )
    return Message(title, body)


def extension_decided(obligation: Obligation, request: ExtensionRequest) -> Message:
    approved = request.state.value == "approved"
    verdict = "已批准" if approved else "未获批准"
    title = f"【延期{verdict}】{headline(obligation)}"
    lines = [
        f"贵部门申请将以下事项的截止日期延期至 {cn_date(request.requested_due_date)}，{verdict}。"
    ]
    if request.comment:
        lines.append(f"审批意见：{request.comment}")
    lines += ["", obligation_facts(obligation)]
    return Message(title, "\n".join(lines))


def support_reminder(supporting: Obligation, lead: Obligation, liaison: User) -> Message:
    title = f"【提醒报送】{headline(supporting)}：{lead.department.name}请贵部门报送配合材料"
    body = (
        f"本项由{lead.department.name}牵头汇总。{lead.department.name}联络员"
        f"{liaison.display_name}提醒贵部门报送以下事项的本期配合材料，以便汇总报送：\n\n"
        f"{obligation_facts(supporting)}\n\n请登录系统填报并报送。"
    )
    return Message(title, body)
