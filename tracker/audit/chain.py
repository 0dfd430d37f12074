"""The audit trail's hash chain: each row stores an HMAC-SHA256 over its content and the
previous row's hash, so a changed, removed or inserted row breaks the chain from there on.

Rows are sealed when their transaction commits, not when they are added: a ``before_commit``
listener on every session locks the chain's one head row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the transaction already holds the database's only write lock, since it
inserted the events), gives the transaction's new rows the next positions (``chain_seq``),
hashes them and moves the head. So concurrent writers (web workers, the scheduler, a
command) append one after another, and the lock is held only for the commit itself, never
while a request does its work: a request may record an event in a session of its own (a
failed sign-in) while its own transaction has events waiting, without waiting for itself.

The key is ``TRACKER_AUDIT_KEY`` or, when unset, one derived from the secret key; it never
sits in the database, so somebody who can only write the database cannot forge the chain.

**Rotating the key.** The head row remembers the fingerprint of the key that sealed the last
row. When a writer seals with a different key (the operator set a new ``TRACKER_AUDIT_KEY``
and restarted), it first appends an ``audit.key_rotate`` row naming the old and the new
fingerprints, sealed with the new key; ``verify`` walks the chain with the keyring (the
current key and ``TRACKER_AUDIT_PREVIOUS_KEYS``) and changes key exactly at such rows. A
fingerprint is an HMAC of a constant under the key: it names the key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tracker.audit.models import AuditChain, AuditEvent, Outcome
from tracker.db import ON_CONFLICT_INSERT, utcnow

PENDING = "audit_pending"  # Session.info key: the transaction's events still to seal
HEAD_ID = 1
# The columns a row's hash covers, in this order; the canonical JSON names them.
HASHED = (
    "id", "chain_seq", "at", "actor_id", "department_id", "client_address", "user_agent",
    "action", "object_type", "object_id", "outcome", "before", "after",
)  # fmt: skip
BATCH = 2000  # rows verified per query


def audit_key() -> bytes:
    """The chain's key: ``TRACKER_AUDIT_KEY``, else derived from ``SECRET_KEY`` (so a backup,
    which keeps the secret key, keeps what verifies its trail)."""
    configured = current_app.config["TRACKER_AUDIT_KEY"]
    if configured:
        return str(configured).encode()
    return _derived(str(current_app.config["SECRET_KEY"]))


def _derived(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"tracker audit chain", hashlib.sha256).digest()


def fingerprint(key: bytes) -> str:
    """A short public name of ``key`` (16 hex digits), from which the key cannot be found."""
    return hmac.new(key, b"tracker audit key fingerprint", hashlib.sha256).hexdigest()[:16]


def keyring() -> dict[str, bytes]:
    """Every key that may have sealed a row, by fingerprint: the current key first, then
    ``TRACKER_AUDIT_PREVIOUS_KEYS`` (``secret:<old secret key>`` for a derived one)."""
    keys = [audit_key()]
    for configured in current_app.config["TRACKER_AUDIT_PREVIOUS_KEYS"]:
        text = str(configured)
        keys.append(_derived(text[7:]) if text.startswith("secret:") else text.encode())
    return {fingerprint(key): key for key in keys}


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if hasattr(value, "value"):  # an enum member
        return value.value
    return value


def canonical(content: Mapping[Any, Any]) -> bytes:
    """The row's content as canonical JSON: the hashed columns, sorted keys, no spaces."""
    body = {name: plain(content[name]) for name in HASHED}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(key: bytes, content: Mapping[Any, Any], prev_hash: str) -> str:
    """HMAC-SHA256 (hex) over the previous hash and the row's canonical content."""
    return hmac.new(
        key, prev_hash.encode() + b"\n" + canonical(content), hashlib.sha256
    ).hexdigest()


def _content_query() -> sa.Select[Any]:
    table = AuditEvent.__table__
    return sa.select(*(table.c[name] for name in HASHED), table.c.prev_hash, table.c.row_hash)


def lock_head(session: Session) -> AuditChain:
    """The chain's head row, created if missing, locked until the transaction ends.

    The row exists after the first event ever, so it is locked first and created only when
    the lock finds nothing (one statement per commit instead of two; two first writers that
    both find nothing both insert, and ``ON CONFLICT DO NOTHING`` keeps one row)."""
    locked = (
        sa.select(AuditChain)
        .where(AuditChain.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = session.scalars(locked).one_or_none()
    if head is not None:
        return head
    insert = ON_CONFLICT_INSERT[session.get_bind().dialect.name]
    session.execute(
        insert(AuditChain)
        .values(id=HEAD_ID, head_seq=0, head_hash="", anchor_seq=0, anchor_hash="")
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.scalars(locked).one()


def seal(session: Session, event_ids: Iterable[int]) -> None:
    """Give the events of ``event_ids`` (inserted in this transaction) the next chain
    positions and hashes, in id order."""
    ids = sorted(set(event_ids))
    if not ids:
        return
    head = lock_head(session)
    key = audit_key()
    table = AuditEvent.__table__
    seq, prev = head.head_seq, head.head_hash
    updates = []
    current = fingerprint(key)
    if head.key_fingerprint and head.key_fingerprint != current:
        # The key changed since the last seal: say so in the chain, first, under the new key.
        seq += 1
        marker = _rotation_marker(session, head.key_fingerprint, current)
        content = {**marker, "chain_seq": seq}
        digest = row_hash(key, content, prev)
        updates.append({"row_id": marker["id"], "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    head.key_fingerprint = current
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = session.execute(_content_query().where(table.c.id.in_(chunk)).order_by(table.c.id))
        for row in rows.mappings():
            seq += 1
            content = {**row, "chain_seq": seq}
            digest = row_hash(key, content, prev)
            updates.append({"row_id": row["id"], "seq": seq, "prev": prev, "digest": digest})
            prev = digest
    if updates:  # one executemany, however many events the transaction holds
        session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values(
                chain_seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev"),
                row_hash=sa.bindparam("digest"),
            ),
            updates,
        )
    head.head_seq, head.head_hash = seq, prev
    session.flush()


ROTATE = "audit.key_rotate"


def _rotation_marker(session: Session, old: str, new: str) -> sa.RowMapping:
    """Insert the ``audit.key_rotate`` row (no actor: the system) and read it back whole."""
    table = AuditEvent.__table__
    row_id = session.execute(
        table.insert()
        .values(at=utcnow(), action=ROTATE, object_type="audit_chain", object_id=HEAD_ID,
                outcome=Outcome.SUCCESS, before={"key": old}, after={"key": new})
        .returning(table.c.id)
    ).scalar_one()  # fmt: skip
    return session.execute(_content_query().where(table.c.id == row_id)).mappings().one()


def note_pending(session: Session, audit_event: AuditEvent) -> None:
    """Remember ``audit_event`` to be sealed when ``session``'s transaction commits."""
    session.info.setdefault(PENDING, []).append(audit_event)


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer commit seals
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    session.flush()
    kept = [e.id for e in pending if sa.inspect(e).persistent]  # not undone by a savepoint
    seal(session, kept)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


@dataclass(frozen=True)
class Break:
    """Where the chain breaks: the row (its id, or None past the end) and why."""

    seq: int
    row_id: int | None
    reason: str


@dataclass(frozen=True)
class Verified:
    """What ``verify`` read: rows checked, and the first break (None when intact)."""

    rows: int
    first_break: Break | None


def rows_in_order(session: Session, after_seq: int) -> Iterator[sa.RowMapping]:
    """The rows after chain position ``after_seq``, in chain order, read in batches."""
    table = AuditEvent.__table__
    last = after_seq
    while True:
        batch = (
            session.execute(
                _content_query()
                .where(table.c.chain_seq > last)
                .order_by(table.c.chain_seq)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not batch:
            return
        yield from batch
        last = batch[-1]["chain_seq"]


class KeyWalk:
    """Checks rows in chain order with the key in force at each: the first row's key is
    whichever of the ring sealed it; from an ``audit.key_rotate`` row on, the key it names."""

    def __init__(self, ring: Mapping[str, bytes]) -> None:
        self.ring = ring
        self.key: bytes | None = None

    def check(self, row: Mapping[Any, Any], prev: str) -> str | None:
        """None when ``row`` is sealed by the key in force; else why not (a break reason)."""
        if row["action"] == ROTATE:
            named = self.ring.get(str((row["after"] or {}).get("key")))
            old = str((row["before"] or {}).get("key"))
            if named is None:
                return "unknown_key"
            if self.key is not None and fingerprint(self.key) != old:
                return "altered"
            self.key = named
        if self.key is None:  # the walk's first row: find which key sealed it
            self.key = next(
                (k for k in self.ring.values() if row_hash(k, row, prev) == row["row_hash"]), None
            )
            if self.key is None:
                return "altered"
            return None
        return None if row_hash(self.key, row, prev) == row["row_hash"] else "altered"


def verify(session: Session) -> Verified:
    """Walk the chain from its anchor to its head; the first altered, missing or unsealed
    row. A missing row shows as the next row's ``prev_hash`` (or position) not following;
    missing rows at the end as the head not reached."""
    head = session.get(AuditChain, HEAD_ID)
    anchor_seq, anchor_hash = (head.anchor_seq, head.anchor_hash) if head else (0, "")
    head_seq, head_hash = (head.head_seq, head.head_hash) if head else (0, "")
    walk = KeyWalk(keyring())
    expected_seq, prev, count = anchor_seq, anchor_hash, 0
    for row in rows_in_order(session, anchor_seq):
        count += 1
        expected_seq += 1
        if row["chain_seq"] != expected_seq or row["prev_hash"] != prev:
            return Verified(count, Break(expected_seq, row["id"], "missing_before"))
        reason = walk.check(row, prev)
        if reason is not None:
            return Verified(count, Break(expected_seq, row["id"], reason))
        prev = row["row_hash"]
    if expected_seq != head_seq or prev != head_hash:
        return Verified(count, Break(expected_seq + 1, None, "missing_end"))
    table = AuditEvent.__table__
    unsealed = session.scalar(sa.select(sa.func.min(table.c.id)).where(table.c.chain_seq.is_(None)))
    if unsealed is not None:
        return Verified(count, Break(expected_seq + 1, unsealed, "unsealed"))
    return Verified(count, None)
