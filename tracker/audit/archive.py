"""Moving audit rows older than the retention into a signed file, and checking such a file.

The file is JSON lines: a header (the range's chain positions, the hash before its first row
and after its last), one line per row (every hashed column with ``prev_hash`` and
``row_hash``), and a last line holding an HMAC-SHA256, with the audit key, over every byte
before it. Only a prefix of the chain is ever archived, so the rows left start where the
file ends: ``audit_chain`` keeps the last archived row's position and hash as the anchor
``verify`` starts from. The file is written and synced before the rows are deleted, in the
transaction that moves the anchor.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from tracker import clock
from tracker.audit import chain
from tracker.audit.models import AuditEvent
from tracker.audit.services import record_event
from tracker.errors import Invalid

FORMAT = "tracker-audit-archive"
VERSION = 1


class ArchiveError(Invalid):
    """The archive cannot be made (too young a date, a broken chain, an existing file)."""


@dataclass(frozen=True)
class Archived:
    """What an archive holds: its chain positions and row count."""

    first_seq: int
    last_seq: int
    rows: int


def earliest_allowed_cutoff() -> date:
    """The latest ``--before`` date allowed: today (Beijing time) less the retention."""
    days = int(current_app.config["TRACKER_AUDIT_RETENTION_DAYS"])
    return clock.local_today() - timedelta(days=days)


def _cutoff_moment(before: date) -> datetime:
    return datetime.combine(before, datetime.min.time(), tzinfo=clock.zone())


def _last_archivable_seq(session: Session, anchor_seq: int, moment: datetime) -> int:
    """The end of the chain's prefix whose every row is older than ``moment``."""
    table = AuditEvent.__table__
    first_young = session.scalar(
        sa.select(sa.func.min(table.c.chain_seq)).where(
            table.c.chain_seq > anchor_seq, table.c.at >= moment
        )
    )
    if first_young is not None:
        return int(first_young) - 1
    head = session.scalar(sa.select(sa.func.max(table.c.chain_seq)))
    return int(head or anchor_seq)


def _line(record: dict[str, Any]) -> bytes:
    body = {k: chain.plain(v) for k, v in record.items()}
    return (
        json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    )


def archive(session: Session, before: date, output: Path) -> Archived:
    """Write the rows older than ``before`` (a prefix of the chain) to ``output`` and delete
    them, moving the anchor. Refuses a date younger than the retention, a broken chain and an
    existing file. The caller commits."""
    latest = earliest_allowed_cutoff()
    if before > latest:
        days = current_app.config["TRACKER_AUDIT_RETENTION_DAYS"]
        raise ArchiveError(
            f"审计记录须保存至少 {days} 天：--before 最晚为 {latest.isoformat()}，"
            f"不能为 {before.isoformat()}。"
        )
    if output.exists():
        raise ArchiveError(f"输出文件已存在，不会覆盖：{output}")
    checked = chain.verify(session)
    if checked.first_break is not None:
        raise ArchiveError(f"审计链校验未通过（{describe(checked.first_break)}），不归档。")
    head = chain.lock_head(session)
    anchor_seq, anchor_hash = head.anchor_seq, head.anchor_hash
    last_seq = _last_archivable_seq(session, anchor_seq, _cutoff_moment(before))
    if last_seq <= anchor_seq:
        raise ArchiveError(f"没有早于 {before.isoformat()} 的审计记录可归档。")
    key = chain.audit_key()
    signature = hmac.new(key, digestmod=hashlib.sha256)
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    rows, last_hash = 0, anchor_hash
    with os.fdopen(descriptor, "wb") as handle:

        def write(record: dict[str, Any]) -> None:
            data = _line(record)
            signature.update(data)
            handle.write(data)

        write({"format": FORMAT, "version": VERSION, "first_seq": anchor_seq + 1,
               "last_seq": last_seq, "prev_hash": anchor_hash,
               "created_at": clock.utcnow()})  # fmt: skip
        for row in chain.rows_in_order(session, anchor_seq):
            if row["chain_seq"] > last_seq:
                break
            write(dict(row))
            rows, last_hash = rows + 1, row["row_hash"]
        write({"rows": rows, "last_hash": last_hash})
        handle.write(_line({"signature": signature.hexdigest()}))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, output)
    table = AuditEvent.__table__
    session.execute(
        sa.delete(table).where(
            table.c.chain_seq > anchor_seq,
            table.c.chain_seq <= last_seq,
            table.c.at < _cutoff_moment(before),  # never a row younger than the retention
        )
    )
    head.anchor_seq, head.anchor_hash = last_seq, last_hash
    session.flush()
    done = Archived(anchor_seq + 1, last_seq, rows)
    # The archive itself is an event of the trail, chained on after the rows that remain.
    record_event("audit.archive", object_type="audit_chain", session=session,
                 after={"file": output.name, "before": before.isoformat(), "rows": rows,
                        "first_seq": done.first_seq, "last_seq": last_seq,
                        "last_hash": last_hash})  # fmt: skip
    return done


class ArchiveInvalid(Exception):
    """An archive file that fails its check; the message says where."""


def verify_archive(path: Path, ring: Mapping[str, bytes]) -> Archived:
    """Check an archive's signature and the chain of its rows with the keys of ``ring``
    (:func:`tracker.audit.chain.keyring`: a file made before a key rotation verifies with
    the previous key); raise :class:`ArchiveInvalid`."""
    data = path.read_bytes()
    body, _, last = data.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    try:
        expected = json.loads(last)["signature"]
        lines = [json.loads(line) for line in body.splitlines()]
    except (ValueError, KeyError, TypeError):
        raise ArchiveInvalid("不是审计归档文件，或文件不完整。") from None
    signed = any(
        hmac.compare_digest(str(expected), hmac.new(key, body, hashlib.sha256).hexdigest())
        for key in ring.values()
    )
    if not signed:
        raise ArchiveInvalid("签名不符：文件被改动过，或不是用本系统的审计密钥签名的。")
    header, rows, footer = lines[0], lines[1:-1], lines[-1]
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ArchiveInvalid("不是本系统的审计归档格式。")
    prev, seq = header["prev_hash"], header["first_seq"] - 1
    walk = chain.KeyWalk(ring)
    for row in rows:
        seq += 1
        if row["chain_seq"] != seq or row["prev_hash"] != prev:
            raise ArchiveInvalid(f"第 {seq} 条（id {row['id']}）之前缺少记录。")
        if walk.check(row, prev) is not None:
            raise ArchiveInvalid(f"第 {seq} 条（id {row['id']}）内容与哈希不符。")
        prev = row["row_hash"]
    if (
        seq != header["last_seq"]
        or footer.get("rows") != len(rows)
        or footer.get("last_hash") != prev
    ):
        raise ArchiveInvalid("记录数或末条哈希与文件头尾不符。")
    return Archived(header["first_seq"], header["last_seq"], len(rows))


def describe(found: chain.Break) -> str:
    """The break in words, naming the row."""
    if found.reason == "altered":
        return f"第 {found.seq} 条记录（id {found.row_id}）被改动"
    if found.reason == "missing_before":
        return f"id {found.row_id} 之前缺少记录（应为第 {found.seq} 条）"
    if found.reason == "unknown_key":
        return (
            f"第 {found.seq} 条记录（id {found.row_id}）表明审计密钥已更换，"
            "但新密钥不在当前或以前的密钥中（TRACKER_AUDIT_PREVIOUS_KEYS）"
        )
    if found.reason == "unsealed":
        return f"id {found.row_id} 不在审计链中（未经系统写入）"
    return f"链尾缺少记录：从第 {found.seq} 条起被删除"
