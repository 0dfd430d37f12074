"""The bell page: filters by kind and read state (paged), marking read, and 签收 straight from
an urge's notification."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tracker.extensions import db
from tracker.followups import services as followups
from tracker.notifications import services
from tracker.notifications.messages import Message
from tracker.notifications.models import Notification, NotificationKind


@pytest.fixture
def people(quarter, make_user):
    return {
        "liaison": make_user("liaison", "mps", email="mps@example.org"),
        "colleague": make_user("liaison", "mps"),
        "viewer": make_user("viewer", "mps"),
        "coordinator": make_user("coordinator", "mca"),
    }


def _note(user, kind, title, *, read=False):
    note = services.notify(user, kind, Message(title, "正文"), link="/reports")
    if read:
        services.mark_read(note)
    db.session.commit()
    return note


def _titles(page: str) -> list[str]:
    return re.findall(r'class="(?:link )?notification-title">([^<]+)<', page)


def _read_states() -> list[tuple]:
    query = sa.select(Notification.id, Notification.read_at).order_by(Notification.id)
    return db.session.execute(query).all()


def test_filters_by_kind_and_read_state(client, login, people):
    liaison = people["liaison"]
    _note(liaison, NotificationKind.URGE, "催办一")
    _note(liaison, NotificationKind.URGE, "催办二", read=True)
    _note(liaison, NotificationKind.REMINDER, "提醒一")
    _note(people["colleague"], NotificationKind.URGE, "别人的催办")
    login(liaison)
    everything = client.get("/notifications").get_data(as_text=True)
    assert _titles(everything) == ["提醒一", "催办二", "催办一"]
    assert "催办（1 条未读）" in everything
    urges = client.get("/notifications?kind=urge").get_data(as_text=True)
    assert _titles(urges) == ["催办二", "催办一"] and "将“催办”全部标为已读" in urges
    unread = client.get("/notifications?kind=urge&state=unread").get_data(as_text=True)
    assert _titles(unread) == ["催办一"]
    read = client.get("/notifications?state=read").get_data(as_text=True)
    assert _titles(read) == ["催办二"]
    legacy = client.get("/notifications?unread=1").get_data(as_text=True)
    assert _titles(legacy) == ["提醒一", "催办一"]
    none = client.get("/notifications?kind=extension_request").get_data(as_text=True)
    assert _titles(none) == [] and "没有符合条件的通知。" in none


def test_unknown_filter_values_are_named_and_ignored(client, login, people):
    _note(people["liaison"], NotificationKind.URGE, "催办一")
    login(people["liaison"])
    response = client.get("/notifications?kind=<b>x</b>&state=maybe")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "未知的通知类型“&lt;b&gt;x&lt;/b&gt;”，已显示全部类型。" in page
    assert "未知的阅读状态“maybe”，已显示全部通知。" in page
    assert _titles(page) == ["催办一"] and "<b>x</b>" not in page


def test_paging_keeps_the_filters(client, login, people):
    liaison = people["liaison"]
    for number in range(1, 53):
        _note(liaison, NotificationKind.REMINDER, f"提醒{number:02d}")
    _note(liaison, NotificationKind.URGE, "催办")
    login(liaison)
    first = client.get("/notifications?kind=reminder").get_data(as_text=True)
    assert len(_titles(first)) == 50 and "催办" not in _titles(first)
    assert "第 1 / 2 页" in first
    assert "/notifications?page=2&amp;kind=reminder" in first
    second = client.get("/notifications?kind=reminder&page=2").get_data(as_text=True)
    assert _titles(second) == ["提醒02", "提醒01"]


def test_mark_all_read_of_one_kind_and_of_all(client, login, people):
    liaison = people["liaison"]
    urge = _note(liaison, NotificationKind.URGE, "催办一")
    reminder = _note(liaison, NotificationKind.REMINDER, "提醒一")
    others = _note(people["colleague"], NotificationKind.URGE, "别人的催办")
    login(liaison)
    response = client.post(
        "/notifications/read-all", data={"kind": "urge", "next": "/notifications?kind=urge"}
    )
    assert response.status_code == 302 and response.location.endswith("/notifications?kind=urge")
    for note in (urge, reminder, others):
        db.session.refresh(note)
    assert urge.read_at is not None and reminder.read_at is None and others.read_at is None
    page = client.get("/notifications?kind=urge").get_data(as_text=True)
    assert "已将 1 条“催办”通知标为已读。" in page
    client.post("/notifications/read-all", data={})
    db.session.refresh(reminder)
    db.session.refresh(others)
    assert reminder.read_at is not None and others.read_at is None


def test_mark_all_read_refuses_an_unknown_kind_or_a_missing_token(client, login, people):
    _note(people["liaison"], NotificationKind.URGE, "催办一")
    login(people["liaison"])
    before = _read_states()
    refused = client.post("/notifications/read-all", data={"kind": "spam"})
    assert refused.status_code == 302
    assert "未知的通知类型，未做任何修改。" in client.get("/notifications").get_data(as_text=True)
    client.post("/notifications/read-all", data={}, csrf=False)
    assert _read_states() == before


def test_mark_all_read_goes_back_only_to_a_local_page(client, login, people):
    login(people["liaison"])
    response = client.post("/notifications/read-all", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.location


# -- 签收 from the notification ----------------------------------------------------------------


def _urge(quarter, people):
    obligation = quarter.obligation(11, "mps")
    urge = followups.urge_obligation(obligation, actor=people["coordinator"], message="请报送")
    db.session.commit()
    return urge


def test_acknowledging_an_urge_from_its_notification(client, login, people, quarter):
    urge = _urge(quarter, people)
    login(people["liaison"])
    page = client.get("/notifications?kind=urge").get_data(as_text=True)
    mine = Notification.user_id == people["liaison"].id
    note = db.session.scalar(sa.select(Notification).where(mine))
    assert f'action="/urges/{urge.id}/acknowledge"' in page
    assert f'id="acknowledge-{note.id}"' in page
    response = client.post(
        f"/urges/{urge.id}/acknowledge", data={"next": "/notifications?kind=urge"}
    )
    assert response.status_code == 302
    assert response.location.endswith("/notifications?kind=urge")
    db.session.refresh(urge)
    db.session.refresh(note)
    assert urge.acknowledged_by_id == people["liaison"].id and note.read_at is not None
    page = client.get("/notifications?kind=urge").get_data(as_text=True)
    assert "已签收催办。" in page
    assert f'id="acknowledge-{note.id}"' not in page
    assert f"已由{people['liaison'].display_name}于 2024-10-05 签收" in page
    # The coordinator hears of it (in the app; acknowledgements are not mailed by default).
    ack = db.session.scalar(sa.select(Notification).where(
        Notification.kind == NotificationKind.URGE_ACK))  # fmt: skip
    assert ack.user_id == people["coordinator"].id and ack.outbox_message_id is None


def test_a_second_acknowledgement_is_refused_and_changes_nothing(client, login, people, quarter):
    urge = _urge(quarter, people)
    followups.acknowledge_urge(urge, actor=people["colleague"])
    db.session.commit()
    login(people["liaison"])
    page = client.get("/notifications").get_data(as_text=True)
    assert f'/urges/{urge.id}/acknowledge"' not in page  # no button: it is signed
    response = client.post(f"/urges/{urge.id}/acknowledge", data={"next": "/notifications"})
    assert response.status_code == 303 and response.location.endswith("/notifications")
    db.session.refresh(urge)
    assert urge.acknowledged_by_id == people["colleague"].id
    assert "该催办已于" in client.get("/notifications").get_data(as_text=True)


def test_only_the_departments_liaisons_may_acknowledge(client, login, people, quarter, make_user):
    urge = _urge(quarter, people)
    outsider = make_user("liaison", "moa")
    for user in (people["viewer"], outsider, people["coordinator"]):
        login(user)
        response = client.post(f"/urges/{urge.id}/acknowledge", data={"next": "/notifications"})
        assert response.status_code == 403, user.role
    db.session.refresh(urge)
    assert urge.acknowledged_at is None
    login(people["liaison"])
    client.post(f"/urges/{urge.id}/acknowledge", data={"next": "/notifications"}, csrf=False)
    db.session.refresh(urge)
    assert urge.acknowledged_at is None


def test_the_body_of_a_grouped_reminder_links_each_item(client, login, people, quarter):
    from tests.reminders.conftest import run_pass

    run_pass(quarter, "2024-10-11")
    login(people["liaison"])
    page = client.get("/notifications?kind=reminder").get_data(as_text=True)
    for number in (11, 22):
        obligation = quarter.obligation(number, "mps")
        path = f"/obligations/{obligation.id}"
        assert f'链接：<a href="{path}">{path}</a>' in page


def test_a_body_is_escaped_and_only_application_paths_become_links(client, login, people):
    body = "<b>粗体</b>\n   链接：/obligations/1\n   链接：javascript:alert(1)\n链接：//evil/x"
    services.notify(people["liaison"], NotificationKind.URGE, Message("催办", body))
    db.session.commit()
    login(people["liaison"])
    page = client.get("/notifications").get_data(as_text=True)
    assert "&lt;b&gt;粗体&lt;/b&gt;" in page and "<b>粗体</b>" not in page
    assert '链接：<a href="/obligations/1">/obligations/1</a>' in page
    assert 'href="javascript' not in page and 'href="//evil' not in page
