"""The scheduler lease: one row per name, held by one process and renewed by its heartbeat.

Any number of scheduler processes may be started; they share one row of ``scheduler_lease``:

* the holder renews it every ``TRACKER_SCHEDULER_HEARTBEAT_SECONDS`` (and before every job);
* the lease expires ``TRACKER_SCHEDULER_LEASE_SECONDS`` after the last renewal, so a process
  that died or hung loses it, and a standby process takes it over on its next heartbeat;
* every job first renews the lease and is skipped by a process that does not hold it.

Taking the lease over is one conditional ``UPDATE`` (… ``WHERE owner = me OR expires_at < now``)
or, the very first time, an ``INSERT … ON CONFLICT DO NOTHING``: the database decides, on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tracker import clock
from tracker.db import ON_CONFLICT_INSERT, UTCDateTime, rows_changed
from tracker.extensions import Model, db

logger = logging.getLogger(__name__)

LEASE_NAME = "scheduler"


class SchedulerLease(Model):
    """A named lease held by one scheduler process and renewed by its heartbeat.

    Another process takes it over only once ``expires_at`` has passed, i.e. when the holder
    stopped renewing it (it died or hung).
    """

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(128))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def new_owner_id() -> str:
    """Who a process is, in the lease row: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """A renewable, expiring claim on one named row of ``scheduler_lease``.

    Every call commits: a lease must be visible to the other processes at once.
    """

    def __init__(
        self,
        owner: str,
        *,
        seconds: int = 90,
        name: str = LEASE_NAME,
        on_gain: Callable[[], None] | None = None,
    ):
        self.owner, self.name, self.seconds = owner, name, seconds
        self.on_gain = on_gain
        self.held = False
        # A job still running when the process stops must not take the lease back after
        # ``release``: acquiring and releasing exclude each other, and a released lease stays so.
        self._lock = threading.Lock()
        self.released = False

    def acquire(self) -> bool:
        """Take or renew the lease; True while we hold it. Logs when that changes."""
        with self._lock:
            if self.released:
                return False
            return self._acquire()

    def _acquire(self) -> bool:
        now = clock.utcnow()
        expires = now + timedelta(seconds=self.seconds)
        lease = _lease_table()
        result = db.session.execute(
            sa.update(lease)
            .where(
                lease.c.name == self.name,
                sa.or_(lease.c.owner == self.owner, lease.c.expires_at < now),
            )
            .values(
                owner=self.owner,
                heartbeat_at=now,
                expires_at=expires,
                acquired_at=sa.case((lease.c.owner == self.owner, lease.c.acquired_at), else_=now),
            )
        )
        held = rows_changed(result) == 1 or self._insert(now, expires)
        db.session.commit()
        gained, self.held = held and not self.held, held
        if gained:
            logger.info("scheduler %s holds the lease", self.owner)
            if self.on_gain is not None:
                self.on_gain()
        return held

    def _insert(self, now: datetime, expires: datetime) -> bool:
        dialect = db.session.get_bind().dialect.name
        insert = ON_CONFLICT_INSERT[dialect]
        statement = (
            insert(SchedulerLease)
            .values(
                name=self.name,
                owner=self.owner,
                acquired_at=now,
                heartbeat_at=now,
                expires_at=expires,
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)
        )
        return db.session.scalar(statement) is not None

    def release(self) -> None:
        """Give the lease up (on a clean shutdown), so a standby takes over at once; for good:
        this object never acquires it again."""
        with self._lock:
            self.released = True
            db.session.execute(
                sa.delete(_lease_table()).where(
                    SchedulerLease.name == self.name, SchedulerLease.owner == self.owner
                )
            )
            db.session.commit()
            self.held = False


def _lease_table() -> sa.Table:
    """The lease's table, for Core statements (``__table__`` is typed as any ``FromClause``)."""
    table = SchedulerLease.__table__
    assert isinstance(table, sa.Table)
    return table


def lease_holder(name: str = LEASE_NAME) -> SchedulerLease | None:
    """The lease row as it stands (for pages and tests)."""
    return db.session.get(SchedulerLease, name, populate_existing=True)
