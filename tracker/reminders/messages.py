"""The words of every notification and e-mail (Chinese), kept apart from the logic that sends them.

Each message names the item (document, number and text), the department and its part, the
period, the due date (and the original one after an extension) and a link to the obligation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.auth.models import User
from tracker.reminders.ladder import Rung
from tracker.reports.models import Obligation
from tracker.reports.periods import Period

WEEKDAYS = "一二三四五六日"
FOOTER = "——\n本邮件由任务分工落实跟踪系统自动发送，请勿直接回复。"


@dataclass(frozen=True)
class Message:
    """A title (also the e-mail subject) and a plain-text body."""

    title: str
    body: str


def cn_date(day: date) -> str:
    """``2024年10月10日（星期四）``."""
    return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


def obligation_facts(obligation: Obligation) -> str:
    """The lines that identify an obligation: item, department, period, due date, state."""
    task, period = obligation.task, Period.parse(obligation.period)
    due = cn_date(obligation.due_date)
    if obligation.due_date != obligation.original_due_date:
        due += f"（经批准延期，原截止日期 {cn_date(obligation.original_due_date)}）"
    return "\n".join(
        [
            f"事项：{task.document.number} 第{task.number}项",
            f"内容：{task.text}",
            f"责任部门：{obligation.department.name}（{obligation.role.label}）",
            f"报告期：{period.label}（{period.key}）",
            f"截止日期：{due}",
            f"当前状态：{_state(obligation)}",
        ]
    )


def _state(obligation: Obligation) -> str:
    report = obligation.report
    if report is None:
        return "尚未填报"
    if report.first_submitted_at is None:
        return "草稿已保存，尚未报送"
    return report.state.label


def _headline(obligation: Obligation) -> str:
    period = Period.parse(obligation.period)
    return f"第{obligation.task.number}项 · {obligation.department.short_name} · {period.label}"


def reminder(obligation: Obligation, rung: Rung, audience: str, timing) -> Message:
    """A ladder reminder; ``timing`` is the obligation's timeliness on the day it is sent."""
    if rung.stage == "before":
        when = f"还有 {timing.days_left} 个工作日截止（{cn_date(obligation.due_date)}）"
        tag = "即将到期"
    elif rung.stage == "due" or timing.days_late == 0:
        when = f"今天（{cn_date(obligation.due_date)}）截止"
        tag = "今日截止"
    else:
        when = f"已逾期 {timing.days_late} 个工作日，尚未报送"
        tag = "逾期未报"
    title = f"【{tag}】{_headline(obligation)}进展报告{when}"
    if audience == "liaison":
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请及时填报并报送。"
    elif audience == "coordinator":
        lead = f"以下事项的本期进展报告{when}，请跟进督办。"
    else:
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请督促本部门报送。"
    return Message(title, f"{lead}\n\n{obligation_facts(obligation)}")


def urge(obligation: Obligation, coordinator: User, text: str) -> Message:
    title = f"【催办】{_headline(obligation)}：请尽快报送本期进展报告"
    body = (
        f"督办协调员{coordinator.display_name}对以下事项进行催办：\n\n{text}\n\n"
        f"{obligation_facts(obligation)}\n\n请登录系统查看并签收。"
    )
    return Message(title, body)


def urge_acknowledged(obligation: Obligation, liaison: User) -> Message:
    title = f"【已签收】{_headline(obligation)}：催办已由{liaison.display_name}签收"
    return Message(title, obligation_facts(obligation))


def extension_requested(obligation: Obligation, request, liaison: User) -> Message:
    title = f"【延期申请】{_headline(obligation)}：申请延期至 {request.requested_due_date}"
    body = (
        f"{obligation.department.name}联络员{liaison.display_name}申请将以下事项的截止日期"
        f"由 {cn_date(request.previous_due_date)} 延期至 {cn_date(request.requested_due_date)}。\n"
        f"申请理由：{request.reason}\n\n{obligation_facts(obligation)}\n\n请登录系统审批。"
    )
    return Message(title, body)


def extension_decided(obligation: Obligation, request) -> Message:
    approved = request.state.value == "approved"
    verdict = "已批准" if approved else "未获批准"
    title = f"【延期{verdict}】{_headline(obligation)}"
    lines = [
        f"贵部门申请将以下事项的截止日期延期至 {cn_date(request.requested_due_date)}，{verdict}。"
    ]
    if request.comment:
        lines.append(f"审批意见：{request.comment}")
    lines += ["", obligation_facts(obligation)]
    return Message(title, "\n".join(lines))


def email_body(recipient_name: str, parts: list[tuple[str, str, str]]) -> str:
    """The text of one e-mail carrying one or more (title, body, absolute link) messages."""
    lines = [f"{recipient_name}：", ""]
    if len(parts) == 1:
        title, body, link = parts[0]
        lines += [body, "", f"查看详情：{link}"]
    else:
        lines += [f"您有 {len(parts)} 条新的提醒：", ""]
        for number, (title, body, link) in enumerate(parts, start=1):
            lines += [f"{number}. {title}", body, f"查看详情：{link}", ""]
    lines += ["", FOOTER]
    return "\n".join(lines)


def digest_subject(count: int) -> str:
    return f"【任务分工督办】您有 {count} 条新的提醒"
