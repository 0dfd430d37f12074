"""提醒报送: the lead department's liaison reminds a supporting department that has not
submitted: a notification and an e-mail to its liaisons, at most once a day per department
and item, audited; from the edit form, nothing the lead typed is lost."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import deliver, notes_of
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.followups import services
from tracker.followups.models import SupportReminder, Urge
from tracker.followups.services import FollowUpError, PermissionDenied
from tracker.notifications.models import Notification, NotificationKind, OutboxMessage
from tracker.reports import services as reports
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


@pytest.fixture
def people(quarter, make_user):
    """Item 11: 公安部 leads; 司法部, 农业农村部 and 全国妇联 support."""
    return {
        "lead": make_user("liaison", "mps", email="mps@example.org"),
        "moj": make_user("liaison", "moj", email="moj@example.org"),
        "moj2": make_user("liaison", "moj"),
        "moj_head": make_user("viewer", "moj", email="head@moj.example"),
        "moa": make_user("liaison", "moa", email="moa@example.org"),
        "coordinator": make_user("coordinator", "mca", email="coord@mca.example"),
    }


def _written():
    return [db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (SupportReminder, Notification, OutboxMessage, AuditEvent, Urge)]  # fmt: skip


def test_a_reminder_reaches_the_supporting_liaisons_in_the_app_and_by_mail(quarter, people, smtp):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    reminder = services.remind_supporting(lead, moj, actor=people["lead"])
    db.session.commit()
    assert reminder.recipients == 2 and reminder.sent_on.isoformat() == "2024-10-05"
    for name in ("moj", "moj2"):
        (note,) = notes_of(people[name])
        assert note.kind == NotificationKind.SUPPORT_REMINDER and note.obligation_id == moj.id
        assert note.title.startswith("【提醒报送】第11项 · 司法部")
        assert "公安部联络员" in note.body and "配合材料" in note.body
    for name in ("moj_head", "moa", "coordinator", "lead"):
        assert notes_of(people[name]) == []
    assert deliver().sent == 1
    (mail,) = smtp.received
    assert mail["X-Envelope-To"] == "moj@example.org"
    assert "提醒报送" in mail["Subject"] and "请登录系统填报并报送" in mail.get_content()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "support.remind"))
    assert event.actor_id == people["lead"].id
    assert event.after["obligation_id"] == moj.id and event.after["liaisons"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Urge)) == 0  # not a 催办


def test_once_a_day_per_department_and_item(quarter, people):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    services.remind_supporting(lead, moj, actor=people["lead"])
    db.session.commit()
    quarter.at("2024-10-05 23:59")
    before = _written()
    with pytest.raises(
        FollowUpError, match=r"今天 10:00 已提醒过司法部，同一部门同一事项每天只能提醒一次"
    ):
        services.remind_supporting(lead, moj, actor=people["lead"])
    db.session.rollback()
    assert _written() == before
    # another department, or the same one another day, is another matter
    services.remind_supporting(lead, quarter.obligation(11, "moa"), actor=people["lead"])
    quarter.at("2024-10-06 00:00")  # midnight in Beijing, not in UTC
    services.remind_supporting(lead, moj, actor=people["lead"])
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SupportReminder)) == 3


def test_only_the_lead_liaison_reminds_and_only_a_missing_supporting_department(
    quarter, people, make_user
):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    mps_viewer = make_user("viewer", "mps")
    before = _written()
    for actor in ("moj", "coordinator", "moj_head"):
        with pytest.raises(PermissionDenied, match="只有牵头部门的联络员"):
            services.remind_supporting(lead, moj, actor=people[actor])
    with pytest.raises(PermissionDenied):
        services.remind_supporting(lead, moj, actor=mps_viewer)
    # not a supporting department of this item and period
    for other in (quarter.obligation(22, "moj"), lead):
        with pytest.raises(FollowUpError, match="不是本项本期的配合部门"):
            services.remind_supporting(lead, other, actor=people["lead"])
    # a supporting obligation is not a lead
    with pytest.raises(PermissionDenied):
        services.remind_supporting(moj, quarter.obligation(11, "moa"), actor=people["moj"])
    # submitted, or waived: nothing to remind
    done = ReportInput(status=ProgressStatus.COMPLETED, progress="已完成")
    report = reports.save_draft(moj, done, actor=people["moj"], expected_version=None)
    reports.submit_report(report, actor=people["moj"])
    with pytest.raises(FollowUpError, match="司法部已报送本期材料，无需提醒"):
        services.remind_supporting(lead, moj, actor=people["lead"])
    moa = quarter.obligation(11, "moa")
    reports.waive_obligation(moa, actor=people["coordinator"], reason="本期无相关工作")
    with pytest.raises(FollowUpError, match="农业农村部本期材料已豁免"):
        services.remind_supporting(lead, moa, actor=people["lead"])
    db.session.rollback()
    assert _written() == before


def test_a_returned_supporting_report_may_be_reminded_again(quarter, people):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    done = ReportInput(status=ProgressStatus.COMPLETED, progress="已完成")
    report = reports.save_draft(moj, done, actor=people["moj"], expected_version=None)
    reports.submit_report(report, actor=people["moj"])
    reports.return_report(report, actor=people["coordinator"], reason="请补充数据")
    assert services.remind_supporting(lead, moj, actor=people["lead"]).recipients == 2


def _textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1)).removeprefix("\r\n")


def test_from_the_edit_form_the_page_comes_back_with_what_was_typed(client, login, quarter, people):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    login(people["lead"])
    edit = unescape(client.get(f"/obligations/{lead.id}/edit").get_data(as_text=True))
    url = f"/obligations/{lead.id}/remind/{moj.id}"
    assert f'formaction="{url}"' in edit and 'form="report-form"' in edit
    typed = {"status": "in_progress", "progress": "公安部：正在汇总\r\n第二行", "problems": "",
             "practices": "", "suggestions": "", "next_steps": "", "version": ""}  # fmt: skip
    response = client.post(url, data=typed)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _textarea(page, "progress") == "公安部：正在汇总\n第二行"
    assert (
        "已提醒司法部报送本期配合材料（已通知 2 名联络员）。本页填写的内容尚未保存。"
        in unescape(page)
    )
    assert re.search(r'data-remind="moj">[^<]*<span class="muted">今天', page)
    assert lead.report is None  # nothing the lead typed was saved

    before = _written()
    again = client.post(url, data=typed)
    assert again.status_code == 422
    assert _textarea(again.get_data(as_text=True), "progress") == "公安部：正在汇总\n第二行"
    assert "每天只能提醒一次" in unescape(again.get_data(as_text=True))
    assert _written() == before


def test_from_the_obligation_page_it_redirects_back(client, login, quarter, people):
    lead, moa = quarter.obligation(11, "mps"), quarter.obligation(11, "moa")
    login(people["lead"])
    page = unescape(client.get(f"/obligations/{lead.id}").get_data(as_text=True))
    assert 'id="support-reminders"' in page and f"/remind/{moa.id}" in page
    response = client.post(f"/obligations/{lead.id}/remind/{moa.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/obligations/{lead.id}#support-reminders")
    page = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "已提醒农业农村部报送本期配合材料" in page
    # the supporting department sees who reminded it on its own obligation page
    login(people["moa"])
    page = unescape(client.get(f"/obligations/{moa.id}").get_data(as_text=True))
    reminders = page[page.index('id="support-reminders"') :]
    assert "农业农村部" in reminders and people["lead"].display_name in reminders


def test_other_departments_are_refused_over_http(client, login, quarter, people):
    lead, moj = quarter.obligation(11, "mps"), quarter.obligation(11, "moj")
    before = _written()
    for who in ("moj", "coordinator", "moa"):
        login(people[who])
        assert client.post(f"/obligations/{lead.id}/remind/{moj.id}").status_code == 403
    login(people["lead"])
    assert client.post(f"/obligations/{lead.id}/remind/999999").status_code == 404
    assert _written()[:3] == before[:3]
