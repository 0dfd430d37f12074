"""The wire contract between instances: one set of pydantic models, read by the sender and
the receiver alike, the canonical bytes they sign and hash, and the signature itself.

* ``canonical(obj)``: JSON with sorted keys, no spaces, UTF-8 (not ASCII-escaped). What is
  hashed and signed is always these bytes.
* Signing: ``Authorization: Bearer <instance token>``, ``X-Tracker-Instance: <code>``,
  ``X-Tracker-Timestamp: <unix seconds>``, ``X-Tracker-Signature: sha256=<hex>`` where the hex
  is HMAC-SHA256 over ``timestamp + "\\n" + body`` keyed with the SHA-256 digest of the token.
  The centre stores only that digest (as it stores API tokens), and that digest is the key:
  the token's holder and the centre can sign, nobody who only sees the traffic can.
* A timestamp more than :data:`REPLAY_WINDOW_SECONDS` from the receiver's clock is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DOCUMENT_FORMAT = "tracker.document/1"
ROLLUP_FORMAT = "tracker.rollup/1"
REPLAY_WINDOW_SECONDS = 300
PERIOD = r"^[0-9]{4}Q[1-4]$"
CODE = r"^[0-9]{6}$"
DECIMAL = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,4})?$")
INSTANCE_HEADER = "X-Tracker-Instance"
TIMESTAMP_HEADER = "X-Tracker-Timestamp"
SIGNATURE_HEADER = "X-Tracker-Signature"


def canonical(obj: Any) -> bytes:
    """The one byte form of a JSON value that is hashed and signed."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def token_digest(token: str) -> str:
    """The SHA-256 hex of an instance token: what the centre stores, and the HMAC key."""
    return sha256_hex(token.encode("utf-8"))


def signature(key_digest: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 keyed with the token's digest (its hex, as bytes)."""
    mac = hmac.new(key_digest.encode("ascii"), timestamp.encode("ascii") + b"\n" + body, "sha256")
    return f"sha256={mac.hexdigest()}"


def signed_headers(token: str, code: str, body: bytes, now: float) -> dict[str, str]:
    """The headers of a signed request from instance ``code`` at unix time ``now``."""
    timestamp = str(int(now))
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json; charset=utf-8",
        INSTANCE_HEADER: code,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(token_digest(token), timestamp, body),
    }


def check_signature(
    key_digest: str, timestamp: str | None, given: str | None, body: bytes, now: float
) -> str | None:
    """None when the signature is right and fresh, else why not (in Chinese)."""
    if not timestamp or not timestamp.isdigit():
        return f"缺少或无法识别 {TIMESTAMP_HEADER}（Unix 秒）。"
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return f"{TIMESTAMP_HEADER} 与本机时间相差超过 {REPLAY_WINDOW_SECONDS} 秒：拒收（防重放）。"
    if not given or not hmac.compare_digest(given, signature(key_digest, timestamp, body)):
        return f"{SIGNATURE_HEADER} 签名不符。"
    return None


class Wire(BaseModel):
    """What every wire model shares: unknown fields are refused, values are not coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InstanceRef(Wire):
    code: str = Field(pattern=CODE)
    name: str = Field(min_length=1, max_length=64)
    level: Literal["central", "provincial", "prefectural", "county"]


class DocumentRef(Wire):
    number: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=255)
    issuer: str = Field(max_length=255)
    issued: str | None = None  # ISO date
    first_period: str | None = Field(default=None, pattern=PERIOD)


class DepartmentRef(Wire):
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=64)
    short_name: str = Field(max_length=32)


class AssignmentRef(Wire):
    department_code: str = Field(min_length=1, max_length=32)
    role: Literal["lead", "support", "joint"]


class ItemRef(Wire):
    number: int = Field(ge=1)
    section: str | None = None
    text: str
    clause: str
    assignments: list[AssignmentRef]


class MilestoneRef(Wire):
    key: str = Field(min_length=1, max_length=32)
    title: str = Field(min_length=1, max_length=200)
    due_period: str = Field(pattern=PERIOD)
    department_code: str


class IndicatorRef(Wire):
    key: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    unit: str = Field(max_length=20)
    direction: Literal["higher", "lower"]
    baseline_value: str
    baseline_date: str
    target_value: str
    target_date: str
    combine: Literal["sum", "average", "latest"]
    department_codes: list[str]


class PlanRef(Wire):
    item_number: int = Field(ge=1)
    department_code: str
    version: int = Field(ge=1)
    milestones: list[MilestoneRef]
    indicators: list[IndicatorRef]


class DocumentExport(Wire):
    """A document as the level above exports it for adoption (``tracker.document/1``)."""

    format: Literal["tracker.document/1"] = "tracker.document/1"
    source: InstanceRef
    document: DocumentRef
    departments: list[DepartmentRef]
    items: list[ItemRef]
    plans: list[PlanRef]
    revision: str = Field(pattern=r"^[0-9a-f]{64}$")
    exported_at: str

    def content(self) -> dict[str, Any]:
        return content_of(self.model_dump(mode="json"))

    def revision_matches(self) -> bool:
        return self.revision == export_revision(self.model_dump(mode="json"))


def content_of(export: dict[str, Any]) -> dict[str, Any]:
    """An export without what changes on every export (its revision and time)."""
    return {k: v for k, v in export.items() if k not in ("revision", "exported_at")}


def export_revision(export: dict[str, Any]) -> str:
    """The revision of an export: the SHA-256 of its canonical content."""
    return sha256_hex(canonical(content_of(export)))


class MilestoneReport(Wire):
    key: str = Field(min_length=1, max_length=32)
    status: Literal["done", "partly", "not_done"]
    note: str = Field(default="", max_length=2000)


class CountySource(Wire):
    """Where a county-counted value came from: ``reporting`` of the province's ``of`` counties
    reported it in their ledgers (the value is their exact total). Counts are whole JSON
    numbers, never coerced from text."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
    reporting: int = Field(ge=1)
    of: int = Field(ge=1)

    @model_validator(mode="after")
    def _not_more_than_all(self) -> CountySource:
        if self.reporting > self.of:
            raise ValueError("报送的县数不能多于县总数")
        return self


class IndicatorReport(Wire):
    """One indicator's value. ``counties`` is optional (absent in roll-ups before county
    ledgers, and for values the departments reported): both shapes are accepted."""

    key: str = Field(min_length=1, max_length=32)
    value: str
    counties: CountySource | None = None

    @field_validator("value")
    @classmethod
    def _decimal(cls, value: str) -> str:
        """A non-negative decimal string: at most 15 digits and 4 decimals."""
        if not DECIMAL.match(value):
            raise ValueError("应为十进制数字串（不超过 15 位整数、4 位小数）")
        return value

    @property
    def number(self) -> Decimal:
        try:
            return Decimal(self.value)
        except InvalidOperation:  # pragma: no cover - the validator admits only decimals
            return Decimal(0)


class ItemReport(Wire):
    item_number: int = Field(ge=1)
    narrative: str = Field(default="", max_length=20000)
    milestones: list[MilestoneReport] = []
    indicators: list[IndicatorReport] = []
    units_reporting: int = Field(default=0, ge=0)


class Rollup(Wire):
    """One instance's quarter of one document, reported up once (``tracker.rollup/1``)."""

    format: Literal["tracker.rollup/1"] = "tracker.rollup/1"
    instance: InstanceRef
    document_number: str = Field(min_length=1, max_length=64)
    period: str = Field(pattern=PERIOD)
    revision: int = Field(ge=1)
    submitted_at: str
    items: list[ItemReport]


class Receipt(Wire):
    """The centre's answer to a roll-up: kept by the sender and shown on its page."""

    receipt: str
    instance_code: str
    document_number: str
    period: str
    revision: int
    digest: str
    received_at: str
    duplicate: bool = False


def receipt_number(code: str, period: str, revision: int, digest: str) -> str:
    """``HB-2026Q3-130000-r1-1a2b3c4d``: 回执 (HB), period, instance, revision, digest."""
    return f"HB-{period}-{code}-r{revision}-{digest[:8]}"


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()
