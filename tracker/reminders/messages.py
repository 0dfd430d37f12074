"""The words of reminders (Chinese), kept apart from the logic that sends them."""

from __future__ import annotations

from tracker.notifications.messages import Message, cn_date, headline, obligation_facts
from tracker.reminders.ladder import Rung
from tracker.reports.models import Obligation
from tracker.reports.queries import Timeliness


def reminder(obligation: Obligation, rung: Rung, audience: str, timing: Timeliness) -> Message:
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
    title = f"【{tag}】{headline(obligation)}进展报告{when}"
    if audience == "liaison":
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请及时填报并报送。"
    elif audience == "coordinator":
        lead = f"以下事项的本期进展报告{when}，请跟进督办。"
    else:
        lead = f"贵部门承担的以下事项，本期进展报告{when}，请督促本部门报送。"
    return Message(title, f"{lead}\n\n{obligation_facts(obligation)}")


def digest_subject(count: int) -> str:
    return f"【任务分工督办】您有 {count} 条新的提醒"
