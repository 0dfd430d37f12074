"""Background exports: a workbook too large to write inside a request, queued for the
scheduler process, with its progress and, once written, its file kept for download."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.auth.models import User
from tracker.db import UTCDateTime, enum_column, utcnow
from tracker.extensions import Model


class ExportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # done, and its file removed after TRACKER_EXPORT_KEEP_HOURS

    @property
    def label(self) -> str:
        return {
            ExportState.QUEUED: "排队中",
            ExportState.RUNNING: "正在生成",
            ExportState.DONE: "已完成",
            ExportState.FAILED: "生成失败",
            ExportState.EXPIRED: "已过期",
        }[self]

    @property
    def finished(self) -> bool:
        return self in (ExportState.DONE, ExportState.FAILED, ExportState.EXPIRED)


class ExportJob(Model):
    """One queued export of one user. ``request`` is the export's parameters as JSON (the
    departments the user could see when asking, fixed then); ``request_key`` is the same,
    canonical, so that asking again while it is still being written finds this job."""

    __tablename__ = "export_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    request: Mapped[str] = mapped_column(sa.Text)
    request_key: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(255))
    download_name: Mapped[str] = mapped_column(sa.String(255))
    state: Mapped[ExportState] = mapped_column(
        enum_column(ExportState, "export_state"), default=ExportState.QUEUED
    )
    total: Mapped[int] = mapped_column(default=0)  # obligations to go through
    done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(sa.String(128))
    file_size: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(sa.String(255))  # said to the user, no details
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_export_job_user", "user_id", "id"),
        sa.Index("ix_export_job_state", "state", "id"),
    )

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    def __repr__(self) -> str:
        return f"<ExportJob {self.id} {self.kind} {self.state}>"
