"""The accounts and password forms, refused over HTTP: 422, what was typed is back in the
fields (passwords excepted, and the page says so), the message beside its field, nothing
written."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import PASSWORD
from tracker.audit.models import AuditEvent
from tracker.auth.models import User
from tracker.extensions import db


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (User, AuditEvent)
    )


def _field(page: str, name: str) -> str:
    """The ``field`` block (label, input, error) of the input named ``name``."""
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', page, re.S):
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name}")


def _beside(page: str, name: str, message: str) -> None:
    block = _field(page, name)
    assert "has-error" in block and 'aria-invalid="true"' in block
    error = re.search(r'<small class="error"[^>]*id="([^"]+)-error">(.*?)</small>', block)
    assert error and message in error.group(2), block
    assert f'aria-describedby="{error.group(1)}-error"' in block


ACCOUNT = {"display_name": "李四", "role": "liaison", "department": "mps"}


def test_a_refused_account_keeps_every_field(client, seeded, make_user, login):
    login(make_user("admin", username="root"))
    make_user("viewer", username="lisi")
    before = _counts()

    bad_email = client.post("/admin/users", data={**ACCOUNT, "username": "lisi2", "email": "lisi@"})
    duplicate = client.post(
        "/admin/users", data={**ACCOUNT, "username": "lisi", "email": "li@example.org"}
    )

    assert (bad_email.status_code, duplicate.status_code) == (422, 422)
    page = bad_email.get_data(as_text=True)
    _beside(page, "email", "邮箱格式不正确")
    assert 'value="lisi2"' in _field(page, "username") and 'value="lisi@"' in page
    page = duplicate.get_data(as_text=True)
    _beside(page, "username", "用户名已存在：lisi")
    assert 'value="li@example.org"' in _field(page, "email")
    for page in (bad_email.get_data(as_text=True), duplicate.get_data(as_text=True)):
        assert 'value="李四"' in _field(page, "display_name")
        assert re.search(r'<option selected value="liaison"|value="liaison" selected', page)
        assert re.search(r'<option selected value="mps"|value="mps" selected', page)
        assert 'data-testid="one-time-password"' not in page
    assert _counts() == before


def test_a_refused_password_change_says_why_and_echoes_no_password(
    client, seeded, make_user, login
):
    user = make_user("liaison", "mps")
    login(user)
    before = _counts()
    new = "一个足够长的新密码123"

    wrong = client.post(
        "/password",
        data={"current_password": "not-mine-at-all", "new_password": new, "confirm": new},
    )
    mismatch = client.post(
        "/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new + "4"},
    )

    assert (wrong.status_code, mismatch.status_code) == (422, 422)
    _beside(wrong.get_data(as_text=True), "current_password", "当前密码不正确")
    _beside(mismatch.get_data(as_text=True), "confirm", "两次输入的新密码不一致")
    for response in (wrong, mismatch):
        page = response.get_data(as_text=True)
        assert "页面不会保留已输入的密码" in page
        assert new not in page and PASSWORD not in page and "not-mine-at-all" not in page
    assert _counts() == before
    assert db.session.get(User, user.id).check_password(PASSWORD)
