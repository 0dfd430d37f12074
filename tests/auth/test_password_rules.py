"""Password rules: 10 characters from 3 of 4 classes, not the username, none of the last 5;
expiry with a forced change; the same rules on the web, on the command line and for the
generated one-time passwords, each broken rule named in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker import clock
from tracker.audit.models import AuditEvent
from tracker.auth import services
from tracker.auth.models import PasswordHistory
from tracker.extensions import db

LENGTH = "密码至少 10 个字符"
CLASSES = "密码须包含大写字母、小写字母、数字、其他符号四类中的至少 3 类"
USERNAME = "密码不能与用户名相同，也不能包含用户名"
HISTORY = "新密码不能与最近 5 次使用过的密码相同"


pytestmark = pytest.mark.usefixtures("deployed_limits")


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Ab1-", [LENGTH]),
        ("abcdefghijkl", [CLASSES]),
        ("abcdef123456", [CLASSES]),
        ("short", [LENGTH, CLASSES]),
        ("xx-Zhangsan-1", [USERNAME]),
        ("ZHANGSAN-2026", [USERNAME]),  # the name in any case
        ("abcdef12345!", []),  # lower, digits, a symbol
        ("Abcdefghij12", []),
        ("密码很长很长的中文Ab", []),  # Chinese characters count as "other"
    ],
)
def test_each_rule_has_its_own_message(password, problems):
    assert services.password_problems("zhangsan", password) == problems


def _change(c, current: str, new: str):
    return c.post(
        "/password", data={"current_password": current, "new_password": new, "confirm": new}
    )


def _error_beside_new_password(page: str) -> str:
    start = page.index('name="new_password"')
    return page[start : start + 1500]


def test_the_change_form_names_the_broken_rules_beside_the_field(client, login, make_user):
    user = make_user("viewer", username="zhangsan")
    login(user)
    response = _change(client, PASSWORD, "zhangsan12")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert CLASSES in page and USERNAME in page
    db.session.refresh(user)
    assert user.check_password(PASSWORD)  # nothing written


def test_none_of_the_last_five_passwords_comes_back(client, login, make_user):
    user = make_user("viewer")
    login(user)
    used = [PASSWORD]
    for n in range(1, 6):
        new = f"Rotation-pass-{n}"
        assert _change(client, used[-1], new).status_code == 302
        used.append(new)
    # the last five (the current one included) are refused; the sixth-last is allowed again
    for old in used[-5:-1]:
        response = _change(client, used[-1], old)
        assert response.status_code == 422 and HISTORY in response.get_data(as_text=True)
    assert _change(client, used[-1], used[0]).status_code == 302
    kept = db.session.scalar(sa.select(sa.func.count()).where(PasswordHistory.user_id == user.id))
    assert kept == 5


def test_an_expired_password_must_be_changed_first(app, client, login, make_user):
    user = make_user("coordinator")
    later = clock.utcnow() + timedelta(days=app.config["TRACKER_PASSWORD_MAX_AGE_DAYS"] + 1)
    with clock.frozen(later):
        login(user)
        response = client.get("/tasks")
        assert response.status_code == 302 and response.headers["Location"] == "/password"
        page = client.get("/password").get_data(as_text=True)
        assert "90 天未修改" in page
        assert _change(client, PASSWORD, "Fresh-password-7").status_code == 302
        assert client.get("/tasks").status_code == 200
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "user.change_password")
    )
    assert event.actor_id == user.id


def test_expiry_can_be_turned_off(app, client, login, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_PASSWORD_MAX_AGE_DAYS", 0)
    user = make_user("coordinator")
    with clock.frozen(clock.utcnow() + timedelta(days=3650)):
        login(user)
        assert client.get("/tasks").status_code == 200


def test_the_command_line_applies_the_same_rules(runner):
    result = runner.invoke(
        args=["user", "create", "wangwu", "--role", "viewer", "--password-stdin"],
        input="wangwu-2026-x\n",
    )
    assert result.exit_code != 0 and USERNAME in result.output
    result = runner.invoke(
        args=["user", "create", "wangwu", "--role", "viewer", "--password-stdin"],
        input="alllowercase\n",
    )
    assert result.exit_code != 0 and CLASSES in result.output


def test_generated_one_time_passwords_meet_the_rules():
    for _ in range(300):
        password = services.generate_password()
        assert services.password_problems("admin", password) == [], password
