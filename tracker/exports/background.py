"""Big exports off the request path: queued in the database, written by the scheduler process.

A quarterly workbook over ``TRACKER_EXPORT_BACKGROUND_OBLIGATIONS`` obligations (default
20,000; 0 writes every export in the request) is not written while the browser waits: the
request queues an :class:`~tracker.exports.models.ExportJob` and shows its page, which follows
the progress; the scheduler's ``exports`` job (every ``TRACKER_EXPORT_POLL_SECONDS``) claims
queued jobs one at a time and writes each file into ``TRACKER_EXPORT_DIR`` (atomically), and
the page then offers the download, to the user who asked only. Why the database and not a
queue server: see ``docs/architecture.md``.

* **Claiming** is one ``UPDATE … WHERE state = 'queued'`` per job: of two scheduler processes
  (or a scheduler and ``flask export run-jobs``) only one changes the row, so a job is written
  once.
* **Progress** is written every ``quarterly.PROGRESS_STEP`` obligations on a connection of its
  own, so that the export's reading transaction (one consistent snapshot) is never committed
  under it; the same write is the job's heartbeat.
* **A scheduler that died** mid-export leaves a running job whose heartbeat stops: after
  :data:`STALE_AFTER` it is queued again, up to :data:`MAX_ATTEMPTS` attempts, then failed.
* **Retention**: a finished file is removed after ``TRACKER_EXPORT_KEEP_HOURS`` (default 24) and
  its job marked expired; failed and expired jobs are deleted after a week.
* **Asking again** for the same export while it is queued or being written finds that job
  (``request_key``, per user) instead of queuing another.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.audit.services import record_event
from tracker.auth.models import User
from tracker.catalogue.models import Role
from tracker.dashboard.rag import Rag
from tracker.db import rows_changed
from tracker.exports import queries
from tracker.exports.files import write_atomically
from tracker.exports.models import ExportJob, ExportState
from tracker.exports.quarterly import QuarterlyRequest, write_quarterly
from tracker.extensions import db
from tracker.periods import Period

logger = logging.getLogger(__name__)

QUARTERLY = "quarterly"

STALE_AFTER = timedelta(minutes=10)  # a running job with no progress for this long was lost
MAX_ATTEMPTS = 3
FORGET_AFTER = timedelta(days=7)  # failed and expired jobs, then deleted
FAILED_MESSAGE = "生成报表时出错，请稍后重试；如仍失败，请联系系统管理员。"
GAVE_UP_MESSAGE = "生成报表的进程多次中断，已停止重试；请联系系统管理员。"


def threshold() -> int:
    """Exports of more obligations than this go to the background (0: never)."""
    return int(current_app.config["TRACKER_EXPORT_BACKGROUND_OBLIGATIONS"])


def export_folder() -> Path:
    """Where written files are kept (created when the first file is written, not on reads:
    a job page polled every few seconds need not touch the file system)."""
    return Path(current_app.config["TRACKER_EXPORT_DIR"])


def goes_to_background(request: QuarterlyRequest) -> tuple[bool, int]:
    """Whether the export is too large for the request, and how many obligations it reads."""
    limit = threshold()
    if limit <= 0:
        return False, 0
    total = queries.period_obligation_count(request.period, request.document_id)
    return total > limit, total


# -- the request as JSON -------------------------------------------------------------------


def request_to_json(request: QuarterlyRequest) -> str:
    ids = sorted(request.department_ids) if request.department_ids is not None else None
    data = {
        "period": request.period.key,
        "document_id": request.document_id,
        "department_ids": ids,
        "department_label": request.department_label,
        "section": request.section,
        "role": request.role.value if request.role is not None else None,
        "rag": request.rag.value if request.rag is not None else None,
        "prepared_by_id": request.prepared_by_id,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def request_from_json(text: str) -> QuarterlyRequest:
    data: dict[str, Any] = json.loads(text)
    ids = data["department_ids"]
    return QuarterlyRequest(
        Period.parse(data["period"]),
        data["document_id"],
        frozenset(ids) if ids is not None else None,
        data["department_label"],
        section=data["section"],
        role=Role(data["role"]) if data["role"] else None,
        rag=Rag(data["rag"]) if data["rag"] else None,
        prepared_by_id=data["prepared_by_id"],
    )


# -- queuing (in the request) --------------------------------------------------------------


def queue_quarterly(
    request: QuarterlyRequest, *, user: User, download_name: str, description: str, total: int
) -> ExportJob:
    """The user's unfinished job for the same export, or a new one (flushed, not committed)."""
    text = request_to_json(request)
    key = hashlib.sha256(f"{QUARTERLY}\n{text}".encode()).hexdigest()
    pending = db.session.scalar(
        sa.select(ExportJob)
        .where(ExportJob.user_id == user.id, ExportJob.request_key == key)
        .where(ExportJob.state.in_([ExportState.QUEUED, ExportState.RUNNING]))
        .order_by(ExportJob.id.desc())
        .limit(1)
    )
    if pending is not None:
        return pending
    job = ExportJob(
        kind=QUARTERLY, user_id=user.id, request=text, request_key=key,
        description=description[:255], download_name=download_name[:255], total=total,
    )  # fmt: skip
    db.session.add(job)
    db.session.flush()
    record_event("export.queue", job, actor=user, object_type="export_job",
                 after={"filename": job.download_name, "obligations": total})  # fmt: skip
    return job


def job_of(job_id: int) -> ExportJob | None:
    return db.session.get(ExportJob, job_id)


def jobs_of(user: User, limit: int = 20) -> list[ExportJob]:
    """The user's latest jobs, newest first."""
    return list(
        db.session.scalars(
            sa.select(ExportJob)
            .where(ExportJob.user_id == user.id)
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


def file_of(job: ExportJob) -> Path | None:
    """The written file of a finished job, if it is still kept."""
    if job.state != ExportState.DONE or not job.file_name:
        return None
    path = export_folder() / job.file_name
    return path if path.is_file() else None


# -- running (in the scheduler process) ----------------------------------------------------


@dataclass
class PassResult:
    written: int = 0
    failed: int = 0
    requeued: int = 0
    expired: int = 0


def run_pending(limit: int = 20) -> PassResult:
    """Requeue lost jobs, write up to ``limit`` queued ones (oldest first), expire old files.

    Each job is claimed, written and finished in transactions of its own; the caller (the
    scheduler's job, the CLI) needs to commit nothing.
    """
    result = PassResult(requeued=_requeue_stale())
    for _ in range(limit):
        job_id = _claim_next()
        if job_id is None:
            break
        if _write(job_id):
            result.written += 1
        else:
            result.failed += 1
    result.expired = expire_old_files()
    return result


def _requeue_stale() -> int:
    """Running jobs whose heartbeat stopped: queued again, or failed after MAX_ATTEMPTS."""
    cutoff = clock.utcnow() - STALE_AFTER
    stale = (ExportJob.state == ExportState.RUNNING) & (ExportJob.heartbeat_at < cutoff)
    gave_up = db.session.execute(
        sa.update(ExportJob)
        .where(stale, ExportJob.attempts >= MAX_ATTEMPTS)
        .values(state=ExportState.FAILED, error=GAVE_UP_MESSAGE, finished_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    again = db.session.execute(
        sa.update(ExportJob)
        .where(stale)
        .values(state=ExportState.QUEUED, done=0)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return rows_changed(gave_up) + rows_changed(again)


def _claim_next() -> int | None:
    """Take the oldest queued job for this process; None when there is none left."""
    while True:
        job_id = db.session.scalar(
            sa.select(ExportJob.id)
            .where(ExportJob.state == ExportState.QUEUED)
            .order_by(ExportJob.id)
            .limit(1)
        )
        if job_id is None:
            db.session.commit()
            return None
        now = clock.utcnow()
        claimed = db.session.execute(
            sa.update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.state == ExportState.QUEUED)
            .values(
                state=ExportState.RUNNING,
                started_at=now,
                heartbeat_at=now,
                attempts=ExportJob.attempts + 1,
                done=0,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if rows_changed(claimed) == 1:
            return job_id
        # Another process took it between the two statements: look for the next one.


def _write(job_id: int) -> bool:
    job = db.session.get(ExportJob, job_id)
    assert job is not None
    name = f"{job.kind}-{job.id}-{secrets.token_hex(8)}.xlsx"
    folder = export_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    owner = db.session.get(User, job.user_id)
    try:
        if owner is None or not owner.active:
            raise PermissionError("the user who asked is no longer active")
        request = request_from_json(job.request)
        with db.engine.connect() as progress:
            write_atomically(
                path, lambda temporary: write_quarterly(
                    temporary, request, progress=lambda done: _progress(progress, job_id, done)
                ),
            )  # fmt: skip
    except Exception:
        logger.exception("export job %s failed", job_id)
        db.session.rollback()
        _finish(job_id, state=ExportState.FAILED, error=FAILED_MESSAGE)
        return False
    db.session.rollback()  # end the export's reading transaction
    _finish(job_id, state=ExportState.DONE, file_name=name, file_size=path.stat().st_size)
    logger.info("export job %s written: %s (%d bytes)", job_id, name, path.stat().st_size)
    return True


def _progress(connection: sa.Connection, job_id: int, done: int) -> None:
    """Record progress (and the heartbeat) on a connection of its own, committed at once."""
    connection.execute(
        sa.update(ExportJob.__table__)
        .where(ExportJob.__table__.c.id == job_id)
        .values(done=done, heartbeat_at=clock.utcnow())
    )
    connection.commit()


def _finish(job_id: int, *, state: ExportState, **values: Any) -> None:
    if state == ExportState.DONE:
        values["done"] = ExportJob.total
    now = clock.utcnow()
    db.session.execute(
        sa.update(ExportJob)
        .where(ExportJob.id == job_id)
        .values(state=state, finished_at=now, heartbeat_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def expire_old_files() -> int:
    """Remove the files kept longer than TRACKER_EXPORT_KEEP_HOURS, and forget old jobs."""
    now = clock.utcnow()
    keep = timedelta(hours=int(current_app.config["TRACKER_EXPORT_KEEP_HOURS"]))
    old = list(
        db.session.scalars(
            sa.select(ExportJob).where(
                ExportJob.state == ExportState.DONE, ExportJob.finished_at < now - keep
            )
        )
    )
    folder = export_folder()
    for job in old:
        if job.file_name:
            (folder / job.file_name).unlink(missing_ok=True)
        job.state, job.file_name = ExportState.EXPIRED, None
    db.session.execute(
        sa.delete(ExportJob)
        .where(ExportJob.state.in_([ExportState.FAILED, ExportState.EXPIRED]))
        .where(ExportJob.finished_at < now - FORGET_AFTER)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return len(old)
