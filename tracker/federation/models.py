"""The cascade's records: at the centre, member instances and the roll-ups they sent; at a
province, the documents it adopted, the link of each item to its central item, and the push
outbox of roll-ups on their way up."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.catalogue.models import PolicyDocument, Task
from tracker.db import UTCDateTime, enum_column, utcnow
from tracker.extensions import Model


class MemberInstance(Model):
    """An instance one level down (a province) that the centre accepts submissions from.

    Like an API token, only the SHA-256 of its instance token is stored; that digest is also
    the key of the HMAC that signs its submissions (tracker.federation.wire). ``prefix`` is
    the token's public part that finds the row.
    """

    __tablename__ = "federation_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(sa.String(16))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def hint(self) -> str:
        return f"fed_{self.prefix}_…"

    def __repr__(self) -> str:
        return f"<MemberInstance {self.code} {self.name}>"


class ReceivedRollup(Model):
    """One revision of one member's quarterly roll-up of one document, stored once."""

    __tablename__ = "federation_rollup"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("federation_member.id", ondelete="CASCADE")
    )
    document_number: Mapped[str] = mapped_column(sa.String(64))
    period: Mapped[str] = mapped_column(sa.String(6))
    revision: Mapped[int]
    digest: Mapped[str] = mapped_column(sa.String(64))
    receipt: Mapped[str] = mapped_column(sa.String(96))
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[MemberInstance] = relationship(lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("member_id", "document_number", "period", "revision"),
        sa.Index("ix_federation_rollup_document_period", "document_number", "period"),
    )


class RollupItem(Model):
    """One item of a received roll-up in the compact form the provinces matrix reads, written
    in the transaction that stores the roll-up (``receive_rollup``; migration 0032 filled it
    from the bodies received before): what the matrix and its totals take from an item, so
    that they never parse the whole body (narratives, notes and all) of every member.

    ``done`` holds the keys of the milestones the member says are 已完成 (a JSON list, NULL
    when none); ``indicators`` the item's values as the body carries them (key, value as sent,
    ``counties`` or null; NULL when none). ``narrative`` is kept for readers of one item; the
    matrix does not read it. ``position`` is the item's place in the body: a body that names
    an item twice is stored as sent, and the matrix lets the later one win, as it always did.
    """

    __tablename__ = "federation_rollup_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    rollup_id: Mapped[int] = mapped_column(
        sa.ForeignKey("federation_rollup.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    item_number: Mapped[int]
    units_reporting: Mapped[int] = mapped_column(default=0)
    narrative: Mapped[str] = mapped_column(sa.Text, default="")
    done: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    indicators: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))

    __table_args__ = (sa.Index("ix_federation_rollup_item_rollup", "rollup_id", "position"),)

    @staticmethod
    def rows_of(rollup_id: int, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The compact rows of a roll-up's validated body (``Rollup.model_dump(mode="json")``)."""
        rows = []
        for position, item in enumerate(body.get("items", [])):
            done = [m["key"] for m in item.get("milestones", []) if m.get("status") == "done"]
            rows.append(
                {
                    "rollup_id": rollup_id,
                    "position": position,
                    "item_number": item["item_number"],
                    "units_reporting": item.get("units_reporting", 0),
                    "narrative": item.get("narrative", ""),
                    "done": done or None,
                    "indicators": item.get("indicators") or None,
                }
            )
        return rows


class Adoption(Model):
    """A document this instance adopted from the level above, with the export it accepted
    and, when the level above changed it since, the newer export waiting to be accepted."""

    __tablename__ = "federation_adoption"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        sa.ForeignKey("policy_document.id", ondelete="CASCADE"), unique=True
    )
    source_code: Mapped[str] = mapped_column(sa.String(6))
    source_name: Mapped[str] = mapped_column(sa.String(64))
    central_number: Mapped[str] = mapped_column(sa.String(64))
    revision: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    pending_revision: Mapped[str | None] = mapped_column(sa.String(64))
    pending_content: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    adopted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[PolicyDocument] = relationship(lazy="joined")
    items: Mapped[list[AdoptedItem]] = relationship(
        back_populates="adoption", cascade="all, delete-orphan", order_by="AdoptedItem.id"
    )


class AdoptedItem(Model):
    """A local item and the central item it carries out: the adopted item itself, or one of
    its provincial sub-items (分解, ``parent_task_id`` set)."""

    __tablename__ = "federation_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(
        sa.ForeignKey("federation_adoption.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"), unique=True)
    central_item_number: Mapped[int]
    # The export's revision when the link was made (or last accepted).
    revision: Mapped[str] = mapped_column(sa.String(64))
    parent_task_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("task.id", ondelete="CASCADE"), index=True
    )

    adoption: Mapped[Adoption] = relationship(back_populates="items")
    task: Mapped[Task] = relationship(foreign_keys=[task_id], lazy="joined")


class PushStatus(enum.StrEnum):
    """Where a roll-up is on its way up."""

    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a sender
    DELIVERED = "delivered"  # the centre answered with a receipt
    REFUSED = "refused"  # the centre refused it for good (a 4xx other than 401/429)
    GAVE_UP = "gave_up"  # too many attempts

    @property
    def label(self) -> str:
        return {
            "pending": "待发送",
            "sending": "发送中",
            "delivered": "已送达",
            "refused": "被拒收",
            "gave_up": "已放弃",
        }[self.value]


class PushMessage(Model):
    """A roll-up in the push outbox: written in the transaction that made it, sent after."""

    __tablename__ = "federation_push"

    id: Mapped[int] = mapped_column(primary_key=True)
    adoption_id: Mapped[int] = mapped_column(
        sa.ForeignKey("federation_adoption.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(sa.String(6))
    revision: Mapped[int]
    # The canonical JSON bytes as sent (signed as they are), and their SHA-256.
    body: Mapped[str] = mapped_column(sa.Text)
    digest: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[PushStatus] = mapped_column(
        enum_column(PushStatus, "push_status"), default=PushStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    adoption: Mapped[Adoption] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("adoption_id", "period", "revision"),
        sa.Index("ix_federation_push_due", "status", "next_attempt_at"),
    )
