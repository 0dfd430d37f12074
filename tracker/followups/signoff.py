"""Who hears of each sign-off step (审核签发, :mod:`tracker.reports.signoff`).

送审 reaches the department's approvers; 签发 and 退回 reach the liaison who sent the draft
(the department's other liaisons, A角 and B角, too: either may carry on). A withdrawn request
tells nobody: the approvers' to-do list no longer shows it. Registered with the reports
domain when this module is imported (by the follow-ups' routes).
"""

from __future__ import annotations

from tracker.auth import queries as user_queries
from tracker.auth.models import User
from tracker.notifications.messages import Message, headline, obligation_facts
from tracker.notifications.models import NotificationKind
from tracker.notifications.services import notify, obligation_link
from tracker.reports import signoff
from tracker.reports.models import Report


def _liaisons(report: Report) -> list[User]:
    return user_queries.active_liaisons(report.obligation.department_id)


def tell(step: str, report: Report, actor: User) -> None:
    """Notify the people a sign-off step concerns (never the one who took it)."""
    obligation = report.obligation
    facts = obligation_facts(obligation)
    if step == "requested":
        message = Message(
            f"【待审核签发】{headline(obligation)}进展报告",
            f"{actor.display_name}已将以下事项的本期进展报告送审，请审核签发；签发后报告即报送"
            f"督办协调员，按签发时间判定是否按时报送。\n\n{facts}",
        )
        recipients = user_queries.active_approvers(obligation.department_id)
    elif step == "approved":
        message = Message(
            f"【已签发】{headline(obligation)}进展报告已报送",
            f"{actor.display_name}已审核签发以下事项的本期进展报告，报告已报送督办协调员。"
            f"\n\n{facts}",
        )
        recipients = _liaisons(report)
    elif step == "returned":
        message = Message(
            f"【审核人退回】{headline(obligation)}进展报告",
            f"{actor.display_name}退回了以下事项的本期进展报告，请修改后重新送审。\n\n"
            f"退回理由：{report.signoff_return_reason}\n\n{facts}",
        )
        recipients = _liaisons(report)
    else:
        return
    link = obligation_link(obligation)
    for user in recipients:
        if user.id != actor.id:
            notify(user, NotificationKind.SIGNOFF, message, obligation=obligation, link=link)


signoff.add_signoff_notifier(tell)
