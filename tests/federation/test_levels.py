"""Reporting goes up one level at a time: which levels an instance registers, whose roll-ups
it receives and whose documents it adopts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.federation.conftest import SEED_NUMBER, post_rollup, rollup_body
from tracker.audit.models import AuditEvent
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.federation import services, wire
from tracker.federation.models import MemberInstance, ReceivedRollup

INSTANCES = {
    "central": ("000000", "民政部"),
    "provincial": ("130000", "河北省"),
    "prefectural": ("130100", "石家庄市"),
    "county": ("130102", "长安区"),
}


def _be(app, monkeypatch, level: str) -> None:
    code, name = INSTANCES[level]
    for key, value in {"TRACKER_INSTANCE_LEVEL": level, "TRACKER_INSTANCE_CODE": code,
                       "TRACKER_INSTANCE_NAME": name}.items():  # fmt: skip
        monkeypatch.setitem(app.config, key, value)


ALLOWED = {
    "central": ["provincial"],
    "provincial": ["prefectural", "county"],
    "prefectural": ["county"],
    "county": [],
}


@pytest.mark.parametrize("here", list(ALLOWED))
@pytest.mark.parametrize("level", ["central", "provincial", "prefectural", "county"])
def test_an_instance_registers_only_the_levels_below_it(app, seeded, monkeypatch, here, level):
    _be(app, monkeypatch, here)
    if level in ALLOWED[here]:
        member, token = services.add_member("139900", "下级", level, actor=None)
        assert member.level == level and token.startswith("fed_")
        return
    with pytest.raises(DomainError) as refused:
        services.add_member("139900", "下级", level, actor=None)
    message = refused.value.message
    if here == "county":
        assert message == "县级实例没有下级实例，不能登记。"
    elif here == "central":
        assert message.startswith("中央实例只能登记省级实例")
    elif here == "provincial":
        assert message.startswith("省级实例只能登记地市级或县级实例")
    else:
        assert message.startswith("地市级实例只能登记县级实例")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberInstance)) == 0


def _options(page: str) -> list[str]:
    start = page.index('name="level"')
    return [
        chunk.split('"', 1)[0]
        for chunk in page[start : page.index("</select>", start)].split('value="')[1:]
    ]


@pytest.mark.parametrize("here", ["central", "provincial", "prefectural"])
def test_the_members_page_offers_only_those_levels(
    app, client, seeded, make_user, login, monkeypatch, here
):
    _be(app, monkeypatch, here)
    login(make_user("admin"))
    page = client.get("/federation/members").get_data(as_text=True)
    assert _options(page) == ALLOWED[here]
    assert "逐级上报" in page


def test_a_refused_level_keeps_what_was_typed(app, client, seeded, make_user, login, monkeypatch):
    _be(app, monkeypatch, "central")
    login(make_user("admin"))
    response = client.post(
        "/federation/members", data={"code": "130100", "name": "石家庄市", "level": "prefectural"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "中央实例只能登记省级实例" in page
    assert 'value="130100"' in page and 'value="石家庄市"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberInstance)) == 0


def test_a_county_instance_has_no_members_to_register(
    app, client, seeded, make_user, login, monkeypatch
):
    _be(app, monkeypatch, "county")
    login(make_user("admin"))
    page = client.get("/federation/members").get_data(as_text=True)
    assert "县级实例没有下级实例" in page and 'id="no-lower-level"' in page
    assert 'name="code"' not in page  # no form to fill in
    response = client.post(
        "/federation/members", data={"code": "130102", "name": "某村", "level": "county"}
    )
    assert response.status_code == 422
    assert "县级实例没有下级实例，不能登记。" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MemberInstance)) == 0


def test_the_command_registers_the_next_level_down_by_default(app, seeded, monkeypatch, runner):
    _be(app, monkeypatch, "provincial")
    result = runner.invoke(args=["federation", "add-member", "--code", "130100",
                                 "--name", "石家庄市"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(MemberInstance.level)) == "prefectural"
    refused = runner.invoke(args=["federation", "add-member", "--code", "140000",
                                  "--name", "山西省", "--level", "provincial"])  # fmt: skip
    assert refused.exit_code != 0 and "省级实例只能登记地市级或县级实例" in refused.output


def _receipts() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "federation.rollup_receive")
    )


def test_a_roll_up_declaring_another_level_than_registered_is_refused(client, member):
    _, token = member
    body = rollup_body()
    body["instance"] = {**body["instance"], "level": "prefectural"}
    response = post_rollup(client, token, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "报送方层级地市级与登记的省级不符" in response.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedRollup)) == 0
    assert _receipts() == 0
    # The same roll-up at its registered level is received.
    assert post_rollup(client, token, rollup_body()).status_code in (200, 201)
    assert _receipts() == 1


def test_a_roll_up_from_a_level_this_instance_does_not_take_is_refused(
    app, client, centre, monkeypatch
):
    # A member registered as a county (before the rules, say) at the centre is not heard.
    row = MemberInstance(code="130102", name="长安区", level="county", prefix="abcd1234",
                         token_hash="")  # fmt: skip
    db.session.add(row)
    db.session.flush()
    services.add_member("130000", "河北省", "provincial", actor=None)
    raw = "fed_abcd1234_" + "x" * 43
    row.token_hash = wire.token_digest(raw)
    db.session.commit()
    body = rollup_body(code="130102")
    body["instance"] = {"code": "130102", "name": "长安区", "level": "county"}
    response = post_rollup(client, raw, body, code="130102")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "中央实例不接收县级实例的报送" in response.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedRollup)) == 0


@pytest.mark.parametrize(
    ("here", "source", "allowed"),
    [
        ("provincial", "central", True),
        ("prefectural", "provincial", True),
        ("county", "provincial", True),
        ("provincial", "provincial", False),
        ("county", "county", False),
        ("prefectural", "county", False),
    ],
)
def test_a_document_is_adopted_only_from_above(app, centre, monkeypatch, here, source, allowed):
    from tests.conftest import _empty_tables
    from tracker.catalogue.models import PolicyDocument

    export = dict(centre)
    code, name = INSTANCES[source]
    export["source"] = {"code": code, "name": name, "level": source}
    export["revision"] = wire.export_revision(export)  # as that instance would have signed it
    _be(app, monkeypatch, here)
    _empty_tables()
    db.session.remove()
    parsed = services.read_export(export)
    if allowed:
        adoption = services.adopt(parsed, actor=None)
        assert adoption.source_name == name
        return
    with pytest.raises(DomainError) as refused:
        services.adopt(parsed, actor=None)
    assert refused.value.message.startswith("只能采纳上级实例的文件")
    assert f"{name}是" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(PolicyDocument)
        .where(PolicyDocument.number == SEED_NUMBER)
    ) == 0  # fmt: skip
