"""API tokens: a user's named, revocable credentials for the JSON API, stored hashed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, utcnow
from tracker.extensions import Model


class ApiToken(Model):
    """One token. It acts as its owner, with the owner's current role and department.

    Only the SHA-256 of the token is stored; ``prefix`` (a random public part of the token)
    finds the row, so that a lookup needs no scan. A revoked token stays for the record.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def hint(self) -> str:
        """What may be shown of the token: its public part."""
        return f"trk_{self.prefix}_…"

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} user={self.user_id}>"
