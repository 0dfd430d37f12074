"""The token page's form, refused over HTTP: 422, the name as typed, the message beside it,
no token and no audit event."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tracker.api.models import ApiToken
from tracker.api.services import MAX_ACTIVE_TOKENS, create_token
from tracker.audit.models import AuditEvent
from tracker.extensions import db


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (ApiToken, AuditEvent)
    )


def _name_field(page: str) -> str:
    block = re.search(r'<div class="field[^"]*has-error">.*?</div>', page, re.S)
    assert block and 'name="name"' in block.group(0), page
    return block.group(0)


def test_a_too_long_name_comes_back_with_the_message_beside_it(make_user, client, login):
    login(make_user("viewer"))
    before = _counts()
    name = "本部门业务系统" + "甲" * 60

    response = client.post("/profile/tokens", data={"name": name})

    assert response.status_code == 422
    field = _name_field(response.get_data(as_text=True))
    assert f'value="{name}"' in field
    assert 'aria-describedby="name-error"' in field and "不超过 64 个字符" in field
    assert 'data-testid="new-token"' not in response.get_data(as_text=True)
    assert _counts() == before


def test_the_token_limit_is_said_beside_the_name_typed(make_user, client, login):
    user = make_user("viewer")
    for number in range(MAX_ACTIVE_TOKENS):
        create_token(user, name=f"系统{number}", actor=user)
    db.session.commit()
    login(user)
    before = _counts()

    response = client.post("/profile/tokens", data={"name": "第二十一个系统"})

    assert response.status_code == 422
    field = _name_field(response.get_data(as_text=True))
    assert 'value="第二十一个系统"' in field
    assert f"每个账号最多 {MAX_ACTIVE_TOKENS} 个有效令牌" in field
    assert _counts() == before
