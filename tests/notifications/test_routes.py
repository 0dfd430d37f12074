"""The outbox page pages through every message, newest first."""

from __future__ import annotations

from tracker.extensions import db
from tracker.notifications.models import OutboxMessage, OutboxStatus


def test_the_outbox_is_paged(client, login, make_user):
    login(make_user("admin"))
    for number in range(1, 52):
        db.session.add(
            OutboxMessage(
                to_address=f"m{number}@example.org",
                subject=f"邮件{number:02d}",
                body="正文",
                status=OutboxStatus.FAILED,
            )
        )
    db.session.commit()
    first = client.get("/admin/outbox").get_data(as_text=True)
    assert "邮件51" in first and "邮件02" in first and "邮件01" not in first
    assert "第 1 / 2 页，共 51 条" in first
    second = client.get("/admin/outbox", query_string={"page": 2}).get_data(as_text=True)
    assert "邮件01" in second and "邮件51" not in second
    failed = client.get("/admin/outbox", query_string={"status": "failed", "page": 2})
    assert "邮件01" in failed.get_data(as_text=True)
