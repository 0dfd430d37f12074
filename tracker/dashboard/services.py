"""Freezing quarter snapshots: a closed period's matrix and scorecard, written once.

A period closes ``TRACKER_SNAPSHOT_GRACE_DAYS`` working days (default 5) after its due date.
The snapshot records every obligation's light *as it stood at the end of the closing day*
(Beijing time), reconstructed from the reports' versions, so freezing gives the same result
whether it runs on the day after the close or months later, and running it twice changes
nothing. Functions here flush and record an audit event; none commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from tracker import clock, privacy
from tracker.audit.services import record_event
from tracker.auth.permissions import can_judge_delivery
from tracker.catalogue.models import Role, Task
from tracker.dashboard import queries
from tracker.dashboard.models import Snapshot, SnapshotCell, SnapshotDepartment
from tracker.dashboard.queries.delivery import item_deliveries
from tracker.dashboard.rag import SUBMITTED_STATES, Reason, Thresholds, rag_for
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import DeliveryJudgement, DeliveryStep
from tracker.errors import Conflict, Invalid, NotAllowed, Stale
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, Report, ReportState, ReportVersion
from tracker.reports.services import due_dates_for, open_period

if TYPE_CHECKING:
    from tracker.auth.models import User


class UnfreezeRefused(Invalid):
    """Raised when a period cannot be unfrozen (no snapshot, or no administrator named)."""


class JudgementNotAllowed(NotAllowed):
    """Only a 民政部 coordinator judges an item's delivery (403)."""


class JudgementRefused(Conflict):
    """The quarter cannot be judged (frozen, or not a tracked quarter)."""


def grace_days() -> int:
    """Working days after the due date before a period closes (``TRACKER_SNAPSHOT_GRACE_DAYS``)."""
    return int(current_app.config["TRACKER_SNAPSHOT_GRACE_DAYS"])


def closing_day(period: Period) -> date:
    """The last day late reports still count as in time for the snapshot: due date + grace."""
    due, _support_due = due_dates_for(period)
    return report_queries.calendar().add_working_days(due, grace_days())


def freeze_due_snapshots(today: date | None = None) -> dict[str, Snapshot]:
    """Freeze every tracked period closed before ``today`` that has no snapshot yet.

    Idempotent (the scheduler calls it daily and on gaining its lease): returns every
    snapshot by period key, old and new. Costs two small queries when nothing is due.
    A freeze cannot be taken back by later reports, so ``today`` never runs ahead of the
    clock: a quarter whose grace period has not passed by the clock's own date stays open,
    whatever later date is asked for.
    """
    real = clock.local_today()
    today = min(today or real, real)
    existing = queries.snapshots()
    for period in sorted(report_queries.tracked_periods()):
        if period.key in existing:
            continue
        closes_on = closing_day(period)
        if closes_on < today:
            snapshot = freeze_snapshot(period, closes_on)
            if snapshot is not None:
                existing[period.key] = snapshot
    return existing


def freeze_snapshot(period: Period, closes_on: date | None = None) -> Snapshot | None:
    """Freeze one period as of the end of ``closes_on`` (default: its closing day).

    Returns the period's snapshot (the existing one if it is frozen already).
    """
    found = queries.snapshot_for(period)
    if found is not None:
        return found
    closes_on = closes_on or closing_day(period)
    as_of = clock.end_of_local_day(closes_on)
    open_period(period)  # a quarter nobody has opened yet still owes its reports
    cells = _with_delivery(period, _cells_as_of(period, closes_on, as_of))
    try:
        with db.session.begin_nested():
            snapshot = Snapshot(
                period=period.key, closes_on=closes_on, as_of=as_of, grace_days=grace_days(),
                cell_count=len(cells),
            )  # fmt: skip
            db.session.add(snapshot)
            db.session.flush()
            if cells:
                db.session.execute(
                    sa.insert(SnapshotCell), [{**c, "snapshot_id": snapshot.id} for c in cells]
                )
            totals = _department_totals(cells, queries.live_urge_counts(period))
            if totals:
                db.session.execute(
                    sa.insert(SnapshotDepartment),
                    [{**t, "snapshot_id": snapshot.id} for t in totals],
                )
    except sa.exc.IntegrityError:  # another process froze it a moment ago: keep theirs
        return queries.snapshot_for(period)
    record_event(
        "dashboard.snapshot",
        snapshot,
        after={"period": period.key, "closes_on": closes_on.isoformat(), "cells": len(cells)},
    )
    return snapshot


def unfreeze_snapshot(period: Period, *, actor: User) -> Snapshot:
    """Delete a period's snapshot (a wrong freeze), audited ``dashboard.unfreeze``.

    The one sanctioned removal of snapshot rows, by Core ``DELETE`` (the ORM refuses to change
    them). The scheduler freezes the quarter again once its grace period has passed by the
    clock; the snapshot is rebuilt from the report versions, so nothing filed is lost.
    """
    if not actor.is_admin or not actor.active:
        raise UnfreezeRefused(f"用户 {actor.username} 不是在用的系统管理员，不能解除封存。")
    snapshot = queries.snapshot_for(period)
    if snapshot is None:
        raise UnfreezeRefused(f"{period.key} 尚未封存，无需解除。")
    before = {
        "period": snapshot.period,
        "closes_on": snapshot.closes_on.isoformat(),
        "frozen_at": snapshot.frozen_at.isoformat(),
        "cells": snapshot.cell_count,
    }
    snapshot_id = snapshot.id
    db.session.expunge(snapshot)
    for table in (SnapshotCell, SnapshotDepartment):
        db.session.execute(sa.delete(table).where(table.snapshot_id == snapshot_id))
    db.session.execute(sa.delete(Snapshot).where(Snapshot.id == snapshot_id))
    record_event(
        "dashboard.unfreeze",
        actor=actor,
        object_type=Snapshot.__tablename__,
        object_id=snapshot_id,
        before=before,
    )
    return snapshot


def _cells_as_of(period: Period, closes_on: date, as_of: datetime) -> list[dict[str, Any]]:
    """Every obligation's light at ``as_of``, from the report versions kept up to then."""
    o, r, v = Obligation.__table__, Report.__table__, ReportVersion.__table__
    earlier = v.alias("earlier")
    last_number = (
        sa.select(sa.func.max(earlier.c.number))
        .where(earlier.c.report_id == v.c.report_id, earlier.c.created_at <= as_of)
        .scalar_subquery()
    )
    state_then = (
        sa.select(v.c.state)
        .where(v.c.report_id == r.c.id, v.c.number == last_number)
        .scalar_subquery()
    )
    returns_then = (
        sa.select(sa.func.count())
        .where(v.c.report_id == r.c.id, v.c.action == "return", v.c.created_at <= as_of)
        .scalar_subquery()
    )
    t = Task.__table__
    rows = db.session.execute(
        sa.select(
            o.c.id,
            o.c.task_id,
            t.c.document_id,
            o.c.department_id,
            o.c.role,
            o.c.due_date,
            o.c.waived,
            o.c.waived_at,
            r.c.first_submitted_at,
            state_then,
            returns_then,
        )
        .select_from(o.join(t, t.c.id == o.c.task_id).outerjoin(r, r.c.obligation_id == o.c.id))
        .where(o.c.period == period.key)
        .order_by(o.c.id)
    )
    thresholds = Thresholds.on(closes_on, report_queries.calendar(), queries.amber_working_days())
    cells = []
    for ob_id, task_id, doc_id, dept, role, due, waived, waived_at, first, state, returns in rows:
        waived = bool(waived) and (waived_at is None or waived_at <= as_of)
        first = first if first is not None and first <= as_of else None
        state = _state_then(state, first)
        light = rag_for(state, first, waived, due, thresholds=thresholds)
        cells.append(
            {
                "obligation_id": ob_id, "task_id": task_id, "document_id": doc_id,
                "department_id": dept, "role": Role(role), "due_date": due,
                "state": state.value if state else None, "reason": light.reason,
                "rag": light.rag, "submitted_on": clock.local_date(first) if first else None,
                "days_late": light.days_late, "late": light.late, "returns": int(returns or 0),
            }
        )  # fmt: skip
    return cells


def _with_delivery(period: Period, cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cells with their item's delivery light (suggested and judged) as it stands now.

    Plans and milestone statuses keep no history to rebuild the light as of the closing day,
    so a snapshot keeps it as of freezing; from then on the quarter shows that.
    """
    task_ids = sorted({c["task_id"] for c in cells})
    lights = item_deliveries(task_ids, [period])
    for cell in cells:
        light = lights[(cell["task_id"], period.key)]
        cell["delivery_suggested"], cell["delivery_judged"] = light.suggested, light.judged
    return cells


def _state_then(state: str | None, first: datetime | None) -> ReportState | None:
    """The report's state at the close; a submission without a version counts as submitted."""
    then = ReportState(state) if state else None
    if first is None:
        return ReportState.DRAFT if then is not None else None
    if then not in SUBMITTED_STATES:
        return ReportState.SUBMITTED
    return then


def _department_totals(
    cells: list[dict[str, Any]], urges: dict[int, tuple[int, int]]
) -> list[dict[str, Any]]:
    """Per department: the unfiltered counts the trend reads, and the urges received."""
    totals: dict[int, dict[str, int]] = defaultdict(
        lambda: {"obligations": 0, "judged": 0, "on_time": 0, "red": 0}
    )
    submitted = (Reason.ACCEPTED, Reason.SUBMITTED, Reason.RETURNED)
    for cell in cells:
        if cell["reason"] == Reason.WAIVED:
            continue
        row = totals[cell["department_id"]]
        row["obligations"] += 1
        if cell["reason"] in submitted:
            row["judged"] += 1
            row["on_time"] += 0 if cell["late"] else 1
        elif cell["reason"] == Reason.OVERDUE:
            row["judged"] += 1
            row["red"] += 1
    for dept in urges:  # a department urged but without obligations still gets a row
        totals.setdefault(dept, {"obligations": 0, "judged": 0, "on_time": 0, "red": 0})
    return [
        {"department_id": dept, **counts, "urges": urges.get(dept, (0, 0))[0],
         "acknowledged": urges.get(dept, (0, 0))[1]}
        for dept, counts in sorted(totals.items())
    ]  # fmt: skip


# -- the coordinator's judgement of an item's delivery ---------------------------------------

MAX_JUDGEMENT_REASON = 2000


def judgement_snapshot(judgement: DeliveryJudgement) -> dict[str, Any]:
    """The judgement as plain JSON (audit events)."""
    return {
        "task_id": judgement.task_id,
        "period": judgement.period,
        "step": judgement.step.value,
        "suggested": judgement.suggested.value if judgement.suggested else None,
        "reason": judgement.reason,
    }


def judge_delivery(
    task: Task,
    period: Period,
    step: DeliveryStep,
    *,
    reason: str,
    actor: User,
    expected_revision: int | None,
) -> DeliveryJudgement:
    """Record (or change) a coordinator's judgement of an item's delivery in a quarter.

    The suggestion is computed here, at judging time, and kept with the judgement; a step
    that differs from it needs a reason. A frozen quarter is not judged again: its snapshot
    keeps what it showed, and only unfreezing (an administrator's correction of a wrong
    freeze) reopens it. ``expected_revision`` is the judgement's revision the form was built
    from (None: there was none); a mismatch means another coordinator judged in between.
    """
    if not can_judge_delivery(actor):
        raise JudgementNotAllowed("只有民政部督办协调员可以判断事项的落实情况。")
    if period not in report_queries.tracked_periods():
        raise JudgementRefused(f"{period.label}不是跟踪的报告期，不能判断。", field="period")
    if queries.snapshot_for(period) is not None:
        raise JudgementRefused(
            f"{period.label}已封存，落实判断不能再改；如封存有误，请系统管理员解除封存后再判断。"
        )
    reason = reason.strip()
    suggested = item_deliveries([task.id], [period])[(task.id, period.key)].suggested
    if step != suggested and not reason:
        raise Invalid("判断与建议的落实灯不同，请填写理由。", field="reason")
    if len(reason) > MAX_JUDGEMENT_REASON:
        raise Invalid(f"理由不能超过 {MAX_JUDGEMENT_REASON} 字。", field="reason")
    message = privacy.check_text("理由", reason)
    if message:
        raise Invalid(message, field="reason")
    judgement = delivery_queries.judgement(task.id, period)
    if (judgement.revision if judgement else None) != expected_revision:
        raise Stale(
            "保存失败：该季度的落实判断在您打开页面后已被他人修改。请刷新页面查看后再判断。"
        )
    before = judgement_snapshot(judgement) if judgement is not None else None
    if judgement is None:
        judgement = DeliveryJudgement(task_id=task.id, period=period.key)
        db.session.add(judgement)
    judgement.step, judgement.suggested = step, suggested
    judgement.reason = reason or None
    judgement.judged_by_id, judgement.judged_at = actor.id, clock.utcnow()
    db.session.flush()
    record_event(
        "delivery.judge", judgement, actor=actor, before=before,
        after=judgement_snapshot(judgement),
    )  # fmt: skip
    return judgement
