"""The words of reminders (Chinese), kept apart from the logic that sends them."""

from __future__ import annotations

from dataclasses import dataclass

from tracker.notifications.messages import Message, cn_date, headline, obligation_facts
from tracker.periods import Period
from tracker.reminders.ladder import Rung
from tracker.reports.models import Obligation
from tracker.reports.queries import Timeliness

GROUP_TAG = "催报提醒"
LATE = "逾期未报"
TITLE_ITEMS = 3  # a grouped title names this many items, then says how many more


APPROVAL_TAG = "待审核签发"


def _when(obligation: Obligation, rung: Rung, timing: Timeliness) -> tuple[str, str]:
    """The tag and the words of where an obligation stands on the day a reminder is sent."""
    if "approver" in rung.audience:  # the approval rung falls on any day the draft waits
        if timing.overdue:
            return LATE, f"已逾期 {timing.days_late} 个工作日，尚待审核签发"
        if timing.days_left == 0:
            return APPROVAL_TAG, f"今天（{cn_date(obligation.due_date)}）截止，尚待审核签发"
        return APPROVAL_TAG, (
            f"还有 {timing.days_left} 个工作日截止（{cn_date(obligation.due_date)}），尚待审核签发"
        )
    if rung.stage == "before":
        return "即将到期", f"还有 {timing.days_left} 个工作日截止（{cn_date(obligation.due_date)}）"
    if rung.stage == "due" or timing.days_late == 0:
        return "今日截止", f"今天（{cn_date(obligation.due_date)}）截止"
    return LATE, f"已逾期 {timing.days_late} 个工作日，尚未报送"


def reminder(obligation: Obligation, rung: Rung, audience: str, timing: Timeliness) -> Message:
    """A ladder reminder; ``timing`` is the obligation's timeliness on the day it is sent."""
    tag, when = _when(obligation, rung, timing)
    title = f"【{tag}】{headline(obligation)}进展报告{when}"
    if audience == "liaison":
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请及时填报并报送。"
    elif audience == "coordinator":
        lead = f"以下事项的本期进展报告{when}，请跟进督办。"
    elif audience == "approver":
        lead = (
            f"贵部门联络员已送审以下事项的本期进展报告，{when}。请审核签发，签发后即报送督办"
            "协调员；需要修改的，请退回联络员。"
        )
    else:
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请督促本部门报送。"
    return Message(title, f"{lead}\n\n{obligation_facts(obligation)}")


@dataclass(frozen=True)
class Item:
    """One line of a grouped reminder: the obligation, its rung, where it stands, its link."""

    obligation: Obligation
    rung: Rung
    timing: Timeliness
    link: str


def rung_label(rung: Rung) -> str:
    """``截止前 7 个工作日``, ``截止当日``, ``逾期 5 个工作日``: the rung a reminder is on."""
    if "approver" in rung.audience:
        return "待审核签发提醒"
    if rung.offset < 0:
        return f"截止前 {-rung.offset} 个工作日"
    return "截止当日" if rung.offset == 0 else f"逾期 {rung.offset} 个工作日"


def _short(obligation: Obligation) -> str:
    return f"第{obligation.task.number}项 {obligation.department.short_name}"


def grouped(items: list[Item], audience: str) -> Message:
    """One notification for several reminders of one pass to one recipient.

    The title names the first items and the count (``【催报提醒】3 项待报送：第11项 公安部、…``);
    the body lists every item with its department, period, due date, rung and link.
    """
    named = "、".join(_short(item.obligation) for item in items[:TITLE_ITEMS])
    more = f"等 {len(items)} 项" if len(items) > TITLE_ITEMS else ""
    count = len(items)
    late = sum(1 for item in items if _when(item.obligation, item.rung, item.timing)[0] == LATE)
    of_which = f"（{late} 项已逾期）" if late else ""
    title = f"【{GROUP_TAG}】{count} 项待报送{of_which}：{named}{more}"
    if audience == "approver":
        title = f"【{APPROVAL_TAG}】{count} 项待签发{of_which}：{named}{more}"
    if audience == "liaison":
        lead = f"贵部门以下 {count} 项本期进展报告尚未报送，请及时填报并报送。"
    elif audience == "coordinator":
        lead = f"以下 {count} 项本期进展报告尚未报送，请跟进督办。"
    elif audience == "approver":
        lead = f"贵部门以下 {count} 项本期进展报告已送审，尚待您审核签发。"
    else:
        lead = f"贵部门以下 {count} 项本期进展报告尚未报送，请督促本部门报送。"
    lines = [lead, ""]
    for number, item in enumerate(items, start=1):
        obligation = item.obligation
        tag, when = _when(obligation, item.rung, item.timing)
        period = Period.parse(obligation.period)
        lines += [
            f"{number}. 【{tag}】{obligation.task.document.number} 第{obligation.task.number}项"
            f" · {obligation.department.name}（{obligation.role.label}） · {period.label}",
            f"   截止日期：{cn_date(obligation.due_date)}；{when}",
            f"   提醒级别：{rung_label(item.rung)}",
            f"   链接：{item.link}",
        ]
    return Message(title[:255], "\n".join(lines))
