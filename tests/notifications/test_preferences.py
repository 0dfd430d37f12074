"""Each user's choice per kind (in the app only, or also by e-mail) and mail mode (each time,
or one digest a day): the service, the page, and what the reminder pass then writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import notes_of, run_pass
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.notifications import queries, services
from tracker.notifications.messages import Message
from tracker.notifications.models import (
    DigestEntry,
    MailMode,
    MailSetting,
    NotificationKind,
    NotificationPreference,
    OutboxMessage,
)

ALL_EMAIL = {f"kind_{kind.value}": "email" for kind in NotificationKind}


def _form(**changes: str) -> dict[str, str]:
    return {**ALL_EMAIL, "mode": "each", **changes}


def _stored() -> list[tuple]:
    """Every stored preference row and mail setting, to show that a refusal wrote nothing."""
    prefs = db.session.execute(
        sa.select(NotificationPreference.user_id, NotificationPreference.kind,
                  NotificationPreference.email).order_by(NotificationPreference.kind)
    ).all()  # fmt: skip
    modes = db.session.execute(sa.select(MailSetting.user_id, MailSetting.mode)).all()
    return [*prefs, *modes]


@pytest.fixture
def liaison(make_user, quarter):
    return make_user("liaison", "mps", email="mps@example.org")


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) or 0


# -- the service -------------------------------------------------------------------------------


def test_defaults_mail_every_kind_but_acknowledgements_each_time(liaison):
    choices = queries.email_choices(liaison.id)
    assert choices == {kind: kind != NotificationKind.URGE_ACK for kind in NotificationKind}
    assert queries.mail_mode(liaison.id) == MailMode.EACH


def test_saving_stores_only_what_changed_and_audits_it(liaison):
    emails = queries.email_choices(liaison.id) | {NotificationKind.REMINDER: False}
    changed = services.save_preferences(liaison, emails, MailMode.DIGEST)
    db.session.commit()
    assert changed == {"reminder": False, "mode": "digest"}
    assert queries.email_choices(liaison.id)[NotificationKind.REMINDER] is False
    assert queries.mail_mode(liaison.id) == MailMode.DIGEST
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "notifications.preferences")
    )
    assert event.before == {"reminder": True, "mode": "each"} and event.after == changed
    assert services.save_preferences(liaison, emails, MailMode.DIGEST) == {}  # nothing new
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "notifications.preferences")) == 1  # fmt: skip


def test_in_app_only_writes_no_mail_each_time_mails_now_digest_queues(liaison, make_user):
    other = make_user("liaison", "mps", email="b@example.org")
    words = Message("【催办】第11项", "请报送")
    services.save_preferences(
        liaison, queries.email_choices(liaison.id) | {NotificationKind.URGE: False}, MailMode.EACH
    )
    services.save_preferences(other, queries.email_choices(other.id), MailMode.DIGEST)
    app_only = services.notify(liaison, NotificationKind.URGE, words, link="/x")
    queued = services.notify(other, NotificationKind.URGE, words, link="/x")
    mailed = services.notify(liaison, NotificationKind.EXTENSION_DECISION, words, link="/x")
    db.session.commit()
    assert app_only.outbox_message_id is None and queued.outbox_message_id is None
    assert mailed.outbox_message_id is not None and _outbox_count() == 1
    entries = db.session.scalars(sa.select(DigestEntry)).all()
    assert [(e.notification_id, e.user_id, e.digest_id) for e in entries] == [
        (queued.id, other.id, None)
    ]


def test_the_reminder_pass_follows_each_recipients_choice(quarter, make_user):
    a = make_user("coordinator", "mca", email="a@mca.example")
    b = make_user("coordinator", "mca", email="b@mca.example")
    c = make_user("coordinator", "mca", email="c@mca.example")
    services.save_preferences(
        a, queries.email_choices(a.id) | {NotificationKind.REMINDER: False}, MailMode.EACH
    )
    services.save_preferences(b, queries.email_choices(b.id), MailMode.DIGEST)
    db.session.commit()
    result = run_pass(quarter, "2024-10-11")
    (note_a,), (note_b,), (note_c,) = notes_of(a), notes_of(b), notes_of(c)
    assert note_a.outbox_message_id is None and note_b.outbox_message_id is None
    assert db.session.get(DigestEntry, note_b.id) is not None
    assert db.session.get(DigestEntry, note_a.id) is None
    mail = db.session.get(OutboxMessage, note_c.outbox_message_id)
    assert mail.to_address == "c@mca.example" and mail.subject == note_c.title
    assert result.emails == 1 and _outbox_count() == 1


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_the_stored_choices(client, login, liaison):
    login(liaison)
    response = client.get("/profile/notifications")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for kind in NotificationKind:
        assert kind.label in page
    assert 'id="kind_urge_ack-app" value="app" checked' in page
    assert 'id="kind_reminder-email" value="email" checked' in page
    assert 'id="mode-each" value="each" checked' in page
    assert "每天 17:30 一封" in page and 'id="no-email"' not in page


def test_saving_on_the_page(client, login, liaison):
    login(liaison)
    response = client.post("/profile/notifications", data=_form(kind_reminder="app", mode="digest"))
    assert response.status_code == 302 and response.location.endswith("/profile/notifications")
    assert queries.email_choices(liaison.id)[NotificationKind.REMINDER] is False
    assert queries.mail_mode(liaison.id) == MailMode.DIGEST
    page = client.get("/profile/notifications").get_data(as_text=True)
    assert "通知设置已保存。" in page
    assert 'id="kind_reminder-app" value="app" checked' in page
    assert 'id="mode-digest" value="digest" checked' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind_reminder": "sms"}, "请为“催报提醒”选择仅站内通知或同时发送邮件。"),
        ({"kind_urge": ""}, "请为“催办”选择仅站内通知或同时发送邮件。"),
        ({"mode": "hourly"}, "请选择邮件发送方式：每次发送或每日汇总。"),
    ],
)
def test_refused_input_changes_nothing(client, login, liaison, changes, message):
    login(liaison)
    services.save_preferences(liaison, queries.email_choices(liaison.id), MailMode.DIGEST)
    db.session.commit()
    before = _stored()
    response = client.post("/profile/notifications", data=_form(**{"kind_urge": "app", **changes}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _stored() == before


def test_a_missing_field_or_token_is_refused(client, login, liaison):
    login(liaison)
    before = _stored()
    data = _form(kind_reminder="app")
    del data["kind_support_reminder"]
    missing = client.post("/profile/notifications", data=data)
    assert missing.status_code == 422
    assert "请为“提醒报送”选择" in missing.get_data(as_text=True)
    no_token = client.post("/profile/notifications", data=_form(kind_reminder="app"), csrf=False)
    assert no_token.status_code in (400, 422)
    assert _stored() == before


def test_a_user_without_an_address_is_told(client, login, make_user, quarter):
    login(make_user("liaison", "mps"))
    page = client.get("/profile/notifications").get_data(as_text=True)
    assert 'id="no-email"' in page and "尚未登记邮箱" in page


def test_the_page_needs_sign_in(client):
    response = client.get("/profile/notifications")
    assert response.status_code == 302 and "/login" in response.location
