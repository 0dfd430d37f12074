"""The words every notification and e-mail shares (Chinese): how an obligation is named, the
e-mail body around one or more messages. Reminders and follow-ups add their own words.

Each message names the item (document, number and text), the department and its part, the
period, the due date (and the original one after an extension) and a link to the obligation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.periods import Period
from tracker.reports.models import Obligation

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
            f"报告期：{period.label}",
            f"截止日期：{due}",
            f"当前状态：{_state(obligation)}",
        ]
    )


def _state(obligation: Obligation) -> str:
    report = obligation.report
    if report is None:
        return "尚未填报"
    if report.awaiting_approval:
        return report.state_label
    if report.first_submitted_at is None:
        return "草稿已保存，尚未报送"
    return report.state.label


def headline(obligation: Obligation) -> str:
    period = Period.parse(obligation.period)
    return f"第{obligation.task.number}项 · {obligation.department.short_name} · {period.label}"


def email_body(
    recipient_name: str, parts: list[tuple[str, str, str]], *, digest: bool = False
) -> str:
    """The text of one e-mail carrying one or more (title, body, absolute link) messages.

    A ``digest`` lists its notifications under the heading of the daily digest.
    """
    lines = [f"{recipient_name}：", ""]
    if len(parts) == 1 and not digest:
        title, body, link = parts[0]
        lines += [body]
        lines += ["", f"查看详情：{link}"] if link else []
    else:
        if digest:
            lines += [f"以下是您的通知每日汇总（共 {len(parts)} 条）：", ""]
        else:
            lines += [f"您有 {len(parts)} 条新的提醒：", ""]
        for number, (title, body, link) in enumerate(parts, start=1):
            lines += [f"{number}. {title}", body]
            lines += [f"查看详情：{link}"] if link else []
            lines += [""]
    lines += ["", FOOTER]
    return "\n".join(lines)


def digest_subject(day: date, count: int) -> str:
    """The subject of one user's daily digest."""
    return f"【任务分工督办】{day.month}月{day.day}日通知汇总：共 {count} 条"
