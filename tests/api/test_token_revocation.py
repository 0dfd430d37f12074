"""API tokens end for good with an administrator's password reset and with deactivation
(reactivating revives none); a user who must still change a one-time or expired password
cannot use the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tracker import clock
from tracker.api.models import ApiToken
from tracker.audit.models import AuditEvent
from tracker.auth import services
from tracker.extensions import db

MUST_CHANGE = "修改一次性密码或已过期的密码"


pytestmark = pytest.mark.usefixtures("deployed_limits")


@pytest.mark.parametrize("end", ["reset", "deactivate"])
def test_a_reset_or_deactivation_revokes_every_token_for_good(api, make_user, end):
    admin, user = make_user("admin"), make_user("coordinator")
    client = api(user)
    other = api(user)  # a second token
    assert client.get("/me").status_code == 200 and other.get("/me").status_code == 200
    if end == "reset":
        services.reset_password(user, actor=admin)
        db.session.commit()
        # changing the one-time password does not bring the old tokens back either
        user.must_change_password = False
        db.session.commit()
    else:
        services.deactivate_user(user, actor=admin)
        db.session.commit()
        services.activate_user(user, actor=admin)  # reactivating revives nothing
        db.session.commit()
    for c in (client, other):
        response = c.get("/me")
        assert response.status_code == 401, response.get_json()
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert len(tokens) == 2 and all(t.revoked_at is not None for t in tokens)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "token.revoke_all"))
    assert event.actor_id == admin.id and event.object_id == user.id
    assert event.after["reason"] == ("password_reset" if end == "reset" else "deactivated")
    assert sorted(event.after["tokens"]) == sorted(t.prefix for t in tokens)


def test_a_token_issued_after_the_reset_works(api, make_user):
    admin, user = make_user("admin"), make_user("coordinator")
    services.reset_password(user, actor=admin)
    user.must_change_password = False
    db.session.commit()
    assert api(user).get("/me").status_code == 200


def test_a_one_time_password_keeps_the_api_closed(api, make_user):
    user = make_user("coordinator")
    client = api(user)
    user.must_change_password = True
    db.session.commit()
    response = client.get("/me")
    assert response.status_code == 403
    body = response.get_json()
    assert body["error"] == "password_change_required" and MUST_CHANGE in body["message"]
    user.must_change_password = False
    db.session.commit()
    assert client.get("/me").status_code == 200


def test_an_expired_password_keeps_the_api_closed(app, api, make_user):
    user = make_user("coordinator")
    client = api(user)
    days = app.config["TRACKER_PASSWORD_MAX_AGE_DAYS"]
    with clock.frozen(clock.utcnow() + timedelta(days=days, minutes=1)):
        response = client.get("/me")
    assert response.status_code == 403
    assert response.get_json()["error"] == "password_change_required"
    assert client.get("/me").status_code == 200
