"""The instance's counties, the county accounts' scope, and the counties' ledger counts.

A county value is one aggregate count (a non-negative integer) of one county, for one
indicator (by its ``key``, which stays the same across plan versions) and one quarter. The
ledger of individual people stays in the county; only these counts come here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model


class County(Model):
    """A county-level division of the instance: its six-digit administrative division code
    (GB/T 2260), its name and, optionally, the prefecture it belongs to."""

    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(6), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    prefecture: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<County {self.code} {self.name}>"


class CountyAccount(Model):
    """The county a county account (role ``county``) enters values for: its whole scope."""

    __tablename__ = "county_account"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    county_id: Mapped[int] = mapped_column(
        sa.ForeignKey("county.id", ondelete="CASCADE"), index=True
    )

    county: Mapped[County] = relationship(lazy="joined")


class CountyValue(Model):
    """One county's count of one indicator in one quarter, and who entered it how."""

    __tablename__ = "county_value"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("county.id", ondelete="CASCADE"))
    indicator_key: Mapped[str] = mapped_column(sa.String(32))
    period: Mapped[str] = mapped_column(sa.String(6))
    value: Mapped[int] = mapped_column(sa.BigInteger)
    source: Mapped[str] = mapped_column(sa.String(16))  # "form" or "template"
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("county_id", "indicator_key", "period"),
        sa.Index("ix_county_value_indicator_period", "indicator_key", "period"),
        # One quarter's counts (the ledger, the totals): led by the quarter, covering the reads.
        sa.Index(
            "ix_county_value_period_indicator", "period", "indicator_key", "county_id", "value"
        ),
        sa.CheckConstraint("value >= 0", name="value_not_negative"),
    )
