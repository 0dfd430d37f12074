"""The audit chain: sealed at commit, verified from anchor to head, altered and missing rows
found, concurrent writers appended one after another, archives signed and checked."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tracker import clock
from tracker.audit import archive, chain
from tracker.audit.models import AuditChain, AuditEvent, Outcome
from tracker.audit.services import record_event
from tracker.config import ConfigError, read_settings
from tracker.extensions import db


def _events(count: int, action: str = "test.event") -> list[int]:
    ids = [
        record_event(action, object_type="x", object_id=n, after={"n": n}).id for n in range(count)
    ]
    db.session.commit()
    return ids


def _raw(sql: str, **params) -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_rows_are_chained_at_commit_and_verify(app):
    first = _events(3)
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert [r.id for r in rows] == first
    assert [r.chain_seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "" and rows[1].prev_hash == rows[0].row_hash
    assert all(len(r.row_hash) == 64 for r in rows)
    head = db.session.get(AuditChain, chain.HEAD_ID)
    assert (head.head_seq, head.head_hash) == (3, rows[2].row_hash)
    assert chain.verify(db.session) == chain.Verified(3, None)


def test_a_rolled_back_event_leaves_no_gap(app):
    _events(1)
    record_event("test.undone", object_type="x")
    db.session.rollback()
    _events(1)
    assert chain.verify(db.session).first_break is None
    assert db.session.scalars(sa.select(AuditEvent.chain_seq).order_by(AuditEvent.id)).all() == [
        1,
        2,
    ]


def test_an_event_undone_by_a_savepoint_is_not_sealed(app):
    nested = db.session.begin_nested()
    record_event("test.savepoint", object_type="x")
    nested.rollback()
    _events(1)
    assert chain.verify(db.session).first_break is None


def test_verify_names_an_altered_row(app, runner):
    ids = _events(4)
    _raw("UPDATE audit_event SET after = :after WHERE id = :id", after='{"n": 99}', id=ids[2])
    found = chain.verify(db.session).first_break
    assert (found.row_id, found.reason) == (ids[2], "altered")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"id {ids[2]}" in result.output and "被改动" in result.output


CHANGES = {
    "outcome": "UPDATE audit_event SET outcome = 'refused' WHERE id = :id",
    "client_address": "UPDATE audit_event SET client_address = '10.9.9.9' WHERE id = :id",
    "department_id": "UPDATE audit_event SET department_id = 7 WHERE id = :id",
    "at": "UPDATE audit_event SET at = '2020-01-01 00:00:00' WHERE id = :id",
}


@pytest.mark.parametrize("column", sorted(CHANGES))
def test_verify_notices_every_hashed_column(app, column):
    ids = _events(2)
    _raw(CHANGES[column], id=ids[0])
    assert chain.verify(db.session).first_break.row_id == ids[0]


def test_verify_names_the_row_after_a_deleted_one(app, runner):
    ids = _events(4)
    _raw("DELETE FROM audit_event WHERE id = :id", id=ids[1])
    found = chain.verify(db.session).first_break
    assert (found.row_id, found.reason, found.seq) == (ids[2], "missing_before", 2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"id {ids[2]}" in result.output


def test_verify_notices_rows_deleted_at_the_end_and_rows_slipped_in(app, runner):
    ids = _events(3)
    _raw("DELETE FROM audit_event WHERE id = :id", id=ids[2])
    assert chain.verify(db.session).first_break.reason == "missing_end"
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1
    _raw("DELETE FROM audit_event")
    _raw("UPDATE audit_chain SET head_seq = 0, head_hash = ''")
    _events(1)
    _raw("INSERT INTO audit_event (action, object_type, at, outcome) "
         "VALUES ('forged', 'x', :at, 'success')", at=datetime(2026, 1, 1))  # fmt: skip
    assert chain.verify(db.session).first_break.reason == "unsealed"


def test_a_recomputed_plain_sha256_does_not_pass(app):
    """Somebody who can write the database but lacks the key cannot rebuild the chain."""
    import hashlib

    ids = _events(1)
    _raw("UPDATE audit_event SET object_id = 5 WHERE id = :id", id=ids[0])
    row = db.session.execute(chain._content_query().where(AuditEvent.id == ids[0])).mappings().one()
    forged = hashlib.sha256(b"\n" + chain.canonical(row)).hexdigest()
    _raw("UPDATE audit_event SET row_hash = :h WHERE id = :id", h=forged, id=ids[0])
    _raw("UPDATE audit_chain SET head_hash = :h", h=forged)
    assert chain.verify(db.session).first_break.reason == "altered"


def test_concurrent_writers_append_one_after_another(app):
    """Four threads, each with a session and connection of its own, commit 25 transactions
    of two events each, all at once; the chain verifies and has no gap or fork."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(number: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for n in range(25):
                    with Session(db.engine) as session, session.begin():
                        for k in range(2):
                            record_event(f"test.thread{number}", object_type="x",
                                         object_id=n * 10 + k, session=session)  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert chain.verify(db.session) == chain.Verified(200, None)
    seqs = db.session.scalars(sa.select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)).all()
    assert seqs == list(range(1, 201))


def _age(ids: list[int], days: int) -> None:
    """Make these rows ``days`` old (and reseal the chain over the new times)."""
    when = (clock.utcnow() - timedelta(days=days)).replace(tzinfo=None)
    for event_id in ids:
        _raw("UPDATE audit_event SET at = :at WHERE id = :id", at=when, id=event_id)
    _reseal()


def _reseal() -> None:
    """Rechain every row from scratch (a test's way of writing history)."""
    _raw("UPDATE audit_event SET chain_seq = NULL")
    _raw("UPDATE audit_chain SET head_seq = 0, head_hash = ''")
    with Session(db.engine) as session, session.begin():
        chain.seal(session, session.scalars(sa.select(AuditEvent.id)).all())
    db.session.expire_all()


def test_archive_moves_old_rows_to_a_signed_file_and_the_rest_still_verifies(app, runner, tmp_path):
    old = _events(3, "test.old")
    young = _events(2, "test.young")
    _age(old, 400)
    db.session.commit()
    output = tmp_path / "audit-2025.jsonl"
    cutoff = (clock.local_today() - timedelta(days=190)).isoformat()
    result = runner.invoke(args=["audit", "archive", "--before", cutoff, "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert "已归档 3 条" in result.output
    left = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.id for e in left[:2]] == young and left[2].action == "audit.archive"
    assert left[2].after["rows"] == 3 and left[2].after["file"] == output.name
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    checked = runner.invoke(args=["audit", "verify-archive", str(output)])
    assert checked.exit_code == 0 and "3 条" in checked.output, checked.output
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines[1:4]] == old
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    # New rows chain on; a second archive starts where the first ended.
    _events(1)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_archive_keeps_a_chain_prefix_only(app, runner, tmp_path):
    """An old row after a young one in the chain stays: only a prefix is archived."""
    ids = _events(3)
    _age([ids[0], ids[2]], 400)
    db.session.commit()
    output = tmp_path / "a.jsonl"
    cutoff = (clock.local_today() - timedelta(days=200)).isoformat()
    assert (
        runner.invoke(
            args=["audit", "archive", "--before", cutoff, "--output", str(output)]
        ).exit_code
        == 0
    )
    left = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert left[:2] == ids[1:] and len(left) == 3  # and the archive's own event
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_archive_refuses_a_date_younger_than_the_retention(app, runner, tmp_path):
    ids = _events(2)
    _age(ids, 100)
    db.session.commit()
    too_young = (clock.local_today() - timedelta(days=179)).isoformat()
    output = tmp_path / "a.jsonl"
    result = runner.invoke(
        args=["audit", "archive", "--before", too_young, "--output", str(output)]
    )
    assert result.exit_code != 0 and "至少 180 天" in result.output
    assert not output.exists()
    assert len(db.session.scalars(sa.select(AuditEvent.id)).all()) == 2  # nothing went
    bad = runner.invoke(
        args=["audit", "archive", "--before", "2025-13-01", "--output", str(output)]
    )
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_archive_refuses_a_broken_chain_and_an_existing_file(app, runner, tmp_path):
    ids = _events(2)
    _age(ids, 400)
    db.session.commit()
    cutoff = (clock.local_today() - timedelta(days=200)).isoformat()
    existing = tmp_path / "there.jsonl"
    existing.write_text("x")
    result = runner.invoke(args=["audit", "archive", "--before", cutoff, "--output", str(existing)])
    assert result.exit_code != 0 and "已存在" in result.output
    _raw("UPDATE audit_event SET action = 'changed' WHERE id = :id", id=ids[0])
    output = tmp_path / "new.jsonl"
    result = runner.invoke(args=["audit", "archive", "--before", cutoff, "--output", str(output)])
    assert result.exit_code != 0 and "校验未通过" in result.output and not output.exists()


def test_verify_archive_finds_a_changed_or_unsigned_file(app, runner, tmp_path):
    ids = _events(3)
    _age(ids, 400)
    db.session.commit()
    output = tmp_path / "a.jsonl"
    cutoff = (clock.local_today() - timedelta(days=200)).isoformat()
    assert (
        runner.invoke(
            args=["audit", "archive", "--before", cutoff, "--output", str(output)]
        ).exit_code
        == 0
    )
    text = output.read_text(encoding="utf-8")
    changed = tmp_path / "changed.jsonl"
    changed.write_text(text.replace('"test.event"', '"test.other"', 1), encoding="utf-8")
    result = runner.invoke(args=["audit", "verify-archive", str(changed)])
    assert result.exit_code == 1 and "签名不符" in result.output
    with pytest.raises(archive.ArchiveInvalid, match="签名不符"):
        archive.verify_archive(output, {"x": b"another key" * 4})


def test_retention_below_180_days_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("TRACKER_AUDIT_RETENTION_DAYS", "90")
    with pytest.raises(ConfigError, match=r"TRACKER_AUDIT_RETENTION_DAYS.*至少保存 180 天"):
        read_settings()
    monkeypatch.setenv("TRACKER_AUDIT_RETENTION_DAYS", "365")
    assert read_settings().audit_retention_days == 365
    monkeypatch.delenv("TRACKER_AUDIT_RETENTION_DAYS")
    assert read_settings().audit_retention_days == 180


def test_outcome_is_checked_by_the_database(app):
    _events(1)
    with pytest.raises(sa.exc.IntegrityError):
        _raw("UPDATE audit_event SET outcome = 'maybe'")


def test_outside_a_request_address_and_agent_are_empty(app):
    event = record_event("test.cli", object_type="x", outcome=Outcome.FAILURE)
    db.session.commit()
    assert (event.client_address, event.user_agent, event.outcome) == (None, None, "failure")


KEY_A, KEY_B = "a" * 40, "b" * 40


def test_a_new_key_is_announced_in_the_chain_and_verifies_with_the_old_one(app):
    app.config["TRACKER_AUDIT_KEY"] = KEY_A
    _events(2)
    app.config.update(TRACKER_AUDIT_KEY=KEY_B, TRACKER_AUDIT_PREVIOUS_KEYS=(KEY_A,))
    _events(2)
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert [r.action for r in rows] == ["test.event"] * 2 + [chain.ROTATE] + ["test.event"] * 2
    marker = rows[2]
    fingerprints = {chain.fingerprint(k.encode()) for k in (KEY_A, KEY_B)}
    assert {marker.before["key"], marker.after["key"]} == fingerprints
    assert marker.after["key"] == chain.fingerprint(KEY_B.encode()) and marker.actor_id is None
    head = db.session.get(AuditChain, chain.HEAD_ID)
    assert head.key_fingerprint == marker.after["key"]
    assert chain.verify(db.session) == chain.Verified(5, None)
    _events(1)  # the same key again: no second announcement
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == chain.ROTATE)) == 1
    )
    # Without the old key the rows it sealed cannot be checked.
    app.config["TRACKER_AUDIT_PREVIOUS_KEYS"] = ()
    assert chain.verify(db.session).first_break == chain.Break(1, rows[0].id, "altered")


def test_rows_sealed_with_the_old_key_after_the_announcement_break_the_chain(app):
    """Once the chain says the key changed, a row forged with the old key is caught."""
    app.config["TRACKER_AUDIT_KEY"] = KEY_A
    _events(1)
    app.config.update(TRACKER_AUDIT_KEY=KEY_B, TRACKER_AUDIT_PREVIOUS_KEYS=(KEY_A,))
    _events(1)
    last = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.chain_seq.desc())).first()
    forged = chain.row_hash(KEY_A.encode(), {**_content(last)}, last.prev_hash)
    _raw("UPDATE audit_event SET row_hash = :h WHERE id = :i", h=forged, i=last.id)
    _raw("UPDATE audit_chain SET head_hash = :h", h=forged)
    db.session.expire_all()
    assert chain.verify(db.session).first_break == chain.Break(3, last.id, "altered")


def test_an_announcement_naming_an_unknown_key_is_reported(app):
    app.config["TRACKER_AUDIT_KEY"] = KEY_A
    _events(1)
    app.config.update(TRACKER_AUDIT_KEY=KEY_B, TRACKER_AUDIT_PREVIOUS_KEYS=(KEY_A,))
    _events(1)
    app.config.update(TRACKER_AUDIT_KEY=KEY_A, TRACKER_AUDIT_PREVIOUS_KEYS=())
    found = chain.verify(db.session).first_break
    assert found is not None and (found.seq, found.reason) == (2, "unknown_key")
    assert "新密钥不在" in archive.describe(found)


def test_a_key_derived_from_an_earlier_secret_key_is_named_by_that_secret(app):
    app.config.update(TRACKER_AUDIT_KEY=None, SECRET_KEY="first secret key " * 3)
    _events(2)
    app.config.update(
        SECRET_KEY="second secret key " * 3,
        TRACKER_AUDIT_PREVIOUS_KEYS=("secret:" + "first secret key " * 3,),
    )
    _events(1)
    assert chain.verify(db.session) == chain.Verified(4, None)


def test_an_archive_made_before_a_rotation_verifies_after_it(app, runner, tmp_path):
    app.config["TRACKER_AUDIT_KEY"] = KEY_A
    _age(_events(3), 400)
    db.session.commit()
    output = tmp_path / "old.jsonl"
    cutoff = (clock.local_today() - timedelta(days=200)).isoformat()
    result = runner.invoke(args=["audit", "archive", "--before", cutoff, "--output", str(output)])
    assert result.exit_code == 0 and "已归档 3 条" in result.output, result.output
    app.config.update(TRACKER_AUDIT_KEY=KEY_B, TRACKER_AUDIT_PREVIOUS_KEYS=(KEY_A,))
    _events(1)
    assert runner.invoke(args=["audit", "verify-archive", str(output)]).exit_code == 0
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    app.config["TRACKER_AUDIT_PREVIOUS_KEYS"] = ()
    result = runner.invoke(args=["audit", "verify-archive", str(output)])
    assert result.exit_code == 1 and "签名不符" in result.output


def test_previous_keys_are_read_space_separated(monkeypatch):
    monkeypatch.setenv("TRACKER_AUDIT_PREVIOUS_KEYS", f"{KEY_A} secret:{KEY_B}")
    assert read_settings().audit_previous_keys == (KEY_A, f"secret:{KEY_B}")


def _content(row: AuditEvent) -> dict:
    return {name: getattr(row, name) for name in chain.HASHED}
