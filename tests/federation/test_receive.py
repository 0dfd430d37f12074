"""The centre receives roll-ups: token, signature, replay window, idempotency, revisions,
and checks against its own document."""

from __future__ import annotations

import time

import sqlalchemy as sa

from tests.federation.conftest import post_rollup, rollup_body
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.federation import services, wire
from tracker.federation.models import ReceivedRollup


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReceivedRollup))


def test_a_signed_rollup_is_stored_once_with_a_receipt(client, member):
    _, token = member
    body = rollup_body()
    first = post_rollup(client, token, body)
    assert first.status_code == 201, first.get_json()
    receipt = first.get_json()
    digest = wire.sha256_hex(wire.canonical(body))
    assert receipt["digest"] == digest and receipt["duplicate"] is False
    assert receipt["receipt"] == f"HB-2024Q3-130000-r1-{digest[:8]}"
    again = post_rollup(client, token, body)
    assert again.status_code == 200
    assert again.get_json() == {**receipt, "duplicate": True}
    assert _count() == 1
    events = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action == "federation.rollup_receive")
    ).all()
    assert len(events) == 1


def test_another_body_under_a_held_revision_is_409(client, member):
    _, token = member
    assert post_rollup(client, token, rollup_body(value="120")).status_code == 201
    response = post_rollup(client, token, rollup_body(value="121"))
    assert response.status_code == 409
    assert "版本号" in response.get_json()["message"]
    assert _count() == 1


def test_a_corrected_revision_is_kept_beside_the_first_and_a_late_lower_one_too(client, member):
    _, token = member
    assert post_rollup(client, token, rollup_body(1, value="120")).status_code == 201
    assert post_rollup(client, token, rollup_body(3, value="130")).status_code == 201
    # revision 2 arrives late: new, so it is kept as history; the latest stays 3
    assert post_rollup(client, token, rollup_body(2, value="125")).status_code == 201
    revisions = db.session.scalars(
        sa.select(ReceivedRollup.revision).order_by(ReceivedRollup.revision)
    )
    assert list(revisions) == [1, 2, 3]


def test_a_tampered_body_or_signature_is_401(client, member):
    _, token = member
    data = wire.canonical(rollup_body())
    headers = wire.signed_headers(token, "130000", data, time.time())
    tampered = data.replace(b"120", b"999")
    response = client.post("/api/v1/federation/rollups", data=tampered, headers=headers)
    assert response.status_code == 401
    assert "签名" in response.get_json()["message"]
    assert (
        post_rollup(client, token, rollup_body(), signature="sha256=" + "0" * 64).status_code == 401
    )
    assert _count() == 0


def test_a_stale_or_future_timestamp_is_refused_as_a_replay(client, member):
    _, token = member
    assert post_rollup(client, token, rollup_body(), now=time.time() - 301).status_code == 401
    assert post_rollup(client, token, rollup_body(), now=time.time() + 301).status_code == 401
    assert post_rollup(client, token, rollup_body(), now=time.time() - 250).status_code == 201


def test_a_bad_or_revoked_token_or_another_code_is_401(client, member):
    row, token = member
    assert post_rollup(client, "fed_nope_nope", rollup_body()).status_code == 401
    assert post_rollup(client, token, rollup_body(), code="140000").status_code == 401
    services.revoke_member(row, actor=None)
    db.session.commit()
    assert post_rollup(client, token, rollup_body()).status_code == 401


def test_the_body_must_name_the_tokens_member_and_the_centres_items_and_keys(client, member):
    _, token = member
    other = post_rollup(client, token, rollup_body(code="140000"))
    assert other.status_code == 400 and "不符" in other.get_json()["message"]
    body = rollup_body()
    body["items"][0]["item_number"] = 99
    assert post_rollup(client, token, body).status_code == 400
    body = rollup_body()
    body["items"][0]["indicators"][0]["key"] = "nosuchkey"
    assert post_rollup(client, token, body).status_code == 400
    body = rollup_body()
    body["items"][0]["milestones"][0]["key"] = "nosuchkey"
    assert post_rollup(client, token, body).status_code == 400
    assert (
        post_rollup(client, token, rollup_body(document_number="民发〔2000〕1号")).status_code
        == 400
    )
    body = rollup_body()
    body["items"][0]["narrative"] = "联系人 13812345678"
    refused = post_rollup(client, token, body)
    assert refused.status_code == 400 and "138******78" in refused.get_json()["message"]
    assert post_rollup(client, token, b"{not json").status_code == 400
    assert _count() == 0


def test_a_member_reads_the_document_export_and_nothing_else(client, member, centre):
    _, token = member
    auth = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/federation/documents/民发〔2019〕86号", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["revision"] == centre["revision"]
    assert client.get("/api/v1/federation/documents/x", headers=auth).status_code == 404
    assert client.get("/api/v1/federation/documents/民发〔2019〕86号").status_code == 401
    # no endpoint lists roll-ups: a member cannot read another member's
    assert client.get("/api/v1/federation/rollups", headers=auth).status_code == 405
