"""The pages: the bell, the notification list, the outbox, urging and extensions on an item."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import notes_of, run_pass
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.followups.models import ExtensionRequest, ExtensionState, Urge
from tracker.notifications import services
from tracker.notifications.messages import Message
from tracker.notifications.models import NotificationKind, OutboxMessage, OutboxStatus


@pytest.fixture
def people(quarter, make_user):
    return {
        "liaison": make_user("liaison", "mps", email="mps@example.org"),
        "coordinator": make_user("coordinator", "mca"),
        "admin": make_user("admin"),
        "other": make_user("liaison", "moa"),
    }


def _note(user, title="【催办】第11项", link="/reports"):
    note = services.notify(user, NotificationKind.URGE, Message(title, "正文"), link=link)
    db.session.commit()
    return note


def test_the_bell_shows_the_unread_count(client, login, people, quarter):
    login(people["liaison"])
    page = client.get("/reports").get_data(as_text=True)
    assert 'id="bell"' in page and 'id="unread-count"' not in page
    _note(people["liaison"])
    _note(people["liaison"], "第二条")
    page = client.get("/reports").get_data(as_text=True)
    assert re.search(r'id="unread-count">2<', page)
    assert "通知，2 条未读" in page


def test_anonymous_pages_do_not_count_notifications(app, client):
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = client.get("/login").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert 'id="bell"' not in page
    assert not any("notification" in s for s in statements)


def test_the_list_and_marking_read(client, login, people, quarter):
    mine = _note(people["liaison"], "我的通知")
    theirs = _note(people["other"], "别人的通知")
    login(people["liaison"])
    page = client.get("/notifications").get_data(as_text=True)
    assert "我的通知" in page and "别人的通知" not in page
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    response = client.post(f"/notifications/{mine.id}/read", data={"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/reports"
    db.session.refresh(mine)
    assert mine.read_at is not None
    assert "没有未读通知" in client.get("/notifications?unread=1").get_data(as_text=True)
    _note(people["liaison"])
    _note(people["liaison"])
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "已将 2 条通知标为已读" in response.get_data(as_text=True)
    assert all(n.read_at for n in notes_of(people["liaison"]))


def test_the_admin_sees_the_outbox_and_retries(client, login, people, quarter):
    _note(people["liaison"], "待发的提醒")
    message = db.session.scalar(sa.select(OutboxMessage))
    message.status, message.attempts = OutboxStatus.GAVE_UP, 16
    message.last_error = "ConnectionRefusedError: [Errno 111] Connection refused"
    db.session.commit()
    login(people["admin"])
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "未配置邮件服务器" in page and "待发的提醒" in page
    assert "Connection refused" in page and "已放弃重试（1）" in page
    response = client.post(f"/admin/outbox/{message.id}/retry", follow_redirects=True)
    assert f"邮件 #{message.id} 已重新排队" in response.get_data(as_text=True)
    db.session.refresh(message)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)
    assert "Connection refused" in message.last_error  # kept until the next attempt


def test_urging_and_acknowledging_on_the_obligation_page(client, login, people, quarter):
    obligation = quarter.obligation(11, "mps")
    url = f"/obligations/{obligation.id}"
    login(people["coordinator"])
    page = client.get(url).get_data(as_text=True)
    assert 'id="urge-form"' in page and "暂无催办" in page
    response = client.post(f"{url}/urge", data={"message": "请本周报送"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "已催办，已通知该部门联络员" in page and "请本周报送" in page and "未签收" in page
    assert 'id="urge-form"' not in page and "3 天内只能催办一次" in page
    again = client.post(f"{url}/urge", data={"message": "再催"}, follow_redirects=True)
    assert "3 天内不能重复催办" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Urge)) == 1

    client.post("/logout")
    login(people["liaison"])
    page = client.get(url).get_data(as_text=True)
    assert 'class="primary acknowledge"' in page and 'id="urge-form"' not in page
    urge = db.session.scalar(sa.select(Urge))
    response = client.post(f"/urges/{urge.id}/acknowledge", follow_redirects=True)
    assert "已签收催办" in response.get_data(as_text=True)
    db.session.refresh(urge)
    assert urge.acknowledged_by_id == people["liaison"].id


def test_an_urge_for_a_department_without_liaisons_is_recorded_with_a_warning(
    client, login, people, quarter
):
    login(people["coordinator"])
    obligation = quarter.obligation(3, "mohrss")
    response = client.post(f"/obligations/{obligation.id}/urge", follow_redirects=True)
    assert "暂无启用的联络员账号" in response.get_data(as_text=True)


def test_requesting_and_approving_an_extension(client, login, people, quarter):
    obligation = quarter.obligation(11, "mps")
    url = f"/obligations/{obligation.id}"
    login(people["liaison"])
    assert 'id="extension-form"' in client.get(url).get_data(as_text=True)
    bad = client.post(f"{url}/extension", data={"requested_due_date": "2024-10-17", "reason": ""})
    assert bad.status_code == 302
    assert db.session.scalar(sa.select(ExtensionRequest)) is None
    response = client.post(
        f"{url}/extension",
        data={"requested_due_date": "2024-10-17", "reason": "需汇总地方数据"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "延期申请已提交" in page and "待审批" in page and 'id="extension-form"' not in page

    client.post("/logout")
    login(people["coordinator"])
    listing = client.get("/extensions").get_data(as_text=True)
    assert "需汇总地方数据" in listing and "2024-10-17" in listing
    request = db.session.scalar(sa.select(ExtensionRequest))
    response = client.post(
        f"/extensions/{request.id}/approve",
        data={"comment": "同意", "next": f"{url}#extensions"},
    )
    assert response.status_code == 302 and response.headers["Location"] == f"{url}#extensions"
    db.session.refresh(request)
    db.session.refresh(obligation)
    assert request.state == ExtensionState.APPROVED
    page = client.get(url).get_data(as_text=True)
    assert "2024-10-17（原 2024-10-10）" in page
    assert "没有待审批的延期申请" in client.get("/extensions").get_data(as_text=True)


def test_rejecting_without_a_comment_is_refused(client, login, people, quarter):
    obligation = quarter.obligation(11, "mps")
    request = followups.request_extension(
        obligation, actor=people["liaison"], requested_due_date=obligation.due_date.replace(day=17),
        reason="x",
    )  # fmt: skip
    db.session.commit()
    login(people["coordinator"])
    response = client.post(f"/extensions/{request.id}/reject", follow_redirects=True)
    assert "驳回须填写意见" in response.get_data(as_text=True)
    db.session.refresh(request)
    assert request.state == ExtensionState.PENDING


def test_reminders_appear_under_the_bell(client, login, people, quarter):
    run_pass(quarter, "2024-10-11")
    login(people["liaison"])
    page = client.get("/notifications").get_data(as_text=True)
    assert "【催报提醒】2 项待报送（2 项已逾期）：第11项 公安部、第22项 公安部" in page
    assert "【逾期未报】民发〔2019〕86号 第11项 · 公安部（牵头）" in page
