"""Reading obligations and reports: periods, a liaison's list, the review queue, an item's page."""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager, joinedload

from tracker import clock
from tracker.catalogue.models import Assignment, PolicyDocument, Role, Task
from tracker.db import unindexed
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import Combine, DeliveryPlan, Indicator, Milestone, PlanState
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports.labels import ACTION_LABELS, VERSION_LABELS
from tracker.reports.labels import FIELD_LABELS as FIELD_LABELS  # read from here by exports
from tracker.reports.models import (
    IndicatorValue,
    MilestoneProgress,
    MilestoneStatus,
    Obligation,
    ProgressStatus,
    Report,
    ReportState,
    ReportVersion,
)
from tracker.workdays import WorkingCalendar, default_calendar


def calendar() -> WorkingCalendar:
    """The working calendar, with any holidays and make-up days configured for years the
    ``chinesecalendar`` package does not cover yet (TRACKER_EXTRA_HOLIDAYS / _WORKDAYS)."""
    holidays = current_app.config["TRACKER_EXTRA_HOLIDAYS"]
    workdays = current_app.config["TRACKER_EXTRA_WORKDAYS"]
    if not holidays and not workdays:
        return default_calendar()
    return _configured_calendar(tuple(holidays), tuple(workdays))


@functools.cache
def _configured_calendar(holidays: tuple[date, ...], workdays: tuple[date, ...]) -> WorkingCalendar:
    return WorkingCalendar(extra_holidays=holidays, extra_workdays=workdays)


def current_period() -> Period:
    """The quarter being reported on (Beijing time).

    That is the quarter containing today, except in the days between a quarter's end and its
    due date, when the quarter just ended is still the one being reported.
    """
    today = clock.local_today()
    this_quarter = Period.containing(today)
    previous = this_quarter.previous()
    offset = current_app.config["TRACKER_DUE_OFFSET_DAYS"]
    if today <= previous.due_date(calendar(), offset_days=offset):
        return previous
    return this_quarter


def first_period() -> Period:
    """The first tracked quarter: configured, else the quarter the catalogue was first seeded."""
    configured = current_app.config["TRACKER_FIRST_PERIOD"]
    if configured:
        return Period.parse(configured)
    first_created = db.session.scalar(sa.select(sa.func.min(PolicyDocument.created_at)))
    if first_created is None:
        return current_period()
    return Period.containing(clock.local_date(first_created))


def tracked_periods() -> list[Period]:
    """Every reportable quarter from the first one to the current one, newest first."""
    first, last = first_period(), current_period()
    return list(reversed(list(Period.range(first, max(first, last)))))


def period_opened(period: Period) -> bool:
    """Whether ``period`` has its obligations yet (the scheduler opens each period daily)."""
    query = sa.select(Obligation.id).where(Obligation.period == period.key).limit(1)
    return db.session.scalar(query) is not None


def tracked_period(key: str | None) -> Period | None:
    """The tracked period a ``2026Q3`` key names, or None when it is malformed or untracked."""
    try:
        period = Period.parse((key or "").strip())
    except ValueError:
        return None
    return period if period in tracked_periods() else None


def obligation_with_context(obligation_id: int) -> Obligation | None:
    return db.session.scalar(
        sa.select(Obligation)
        .where(Obligation.id == obligation_id)
        .options(
            joinedload(Obligation.task).selectinload(Task.assignments),
            joinedload(Obligation.task).joinedload(Task.document),
            joinedload(Obligation.report).selectinload(Report.figures),
            joinedload(Obligation.report).selectinload(Report.evidence),
        )
    )


def obligations_query(
    period: Period,
    *,
    department_ids: Iterable[int] | None = None,
    document_id: int | None = None,
    states: Iterable[ReportState] | None = None,
) -> sa.Select[Obligation]:
    """Obligations of a period with task, document and report loaded, in item order."""
    query = (
        sa.select(Obligation)
        .join(Obligation.task)
        .join(Task.document)
        .outerjoin(Obligation.report)
        .where(Obligation.period == period.key)
        .options(
            joinedload(Obligation.task).joinedload(Task.document),
            joinedload(Obligation.report),
        )
        .order_by(PolicyDocument.id, Task.number, Obligation.role, Obligation.department_id)
    )
    if department_ids is not None:
        query = query.where(Obligation.department_id.in_(list(department_ids)))
    if document_id is not None:
        query = query.where(Task.document_id == document_id)
    if states is not None:
        query = query.where(Report.state.in_(list(states)))
    return query


def obligations_total(
    period: Period, *, department_ids: Iterable[int] | None = None
) -> sa.Select[int]:
    """How many obligations :func:`obligations_query` lists without a document or state
    filter: the period's obligations alone, by its index (each has its item and document,
    and at most one report, so the joins would not change the number)."""
    query = sa.select(sa.func.count()).select_from(Obligation)
    query = query.where(Obligation.period == period.key)
    if department_ids is not None:
        query = query.where(Obligation.department_id.in_(list(department_ids)))
    return query


def obligations_after(
    period: Period,
    *,
    department_ids: Iterable[int] | None,
    after: int | None,
    limit: int,
) -> list[Obligation] | None:
    """Up to ``limit + 1`` obligations of a period in item order (ties by id) that come after
    obligation ``after`` (a keyset page: the extra row says whether another page follows).

    None when ``after`` is not an obligation of this period within ``department_ids``, so that
    a cursor cannot be used to probe another department's or another period's rows."""
    scope = [Obligation.period == period.key]
    if department_ids is not None:
        scope.append(Obligation.department_id.in_(list(department_ids)))
    key_columns = (Task.document_id, Task.number, Obligation.role, Obligation.department_id)
    query = obligations_query(period, department_ids=department_ids).order_by(Obligation.id)
    if after is not None:
        key = db.session.execute(
            sa.select(*key_columns, Obligation.id)
            .join(Obligation.task)
            .where(Obligation.id == after, *scope)
        ).first()
        if key is None:
            return None
        columns = (*key_columns, Obligation.id)
        values = [
            sa.literal(value, type_=column.type) for column, value in zip(columns, key, strict=True)
        ]
        query = query.where(sa.tuple_(*columns) > sa.tuple_(*values))
    return list(db.session.scalars(query.limit(limit + 1)).unique())


def returned_obligations(
    period: Period, *, department_ids: Iterable[int] | None, limit: int
) -> list[Obligation]:
    """The first ``limit`` returned reports of a period (the liaison's to-do above the list)."""
    query = obligations_query(period, department_ids=department_ids, states=[ReportState.RETURNED])
    return list(db.session.scalars(query.limit(limit)).unique())


def obligations_by_id(ids: Iterable[int]) -> list[Obligation]:
    """The obligations of ``ids`` (unknown ids left out), with task and report, in item order."""
    return list(
        db.session.scalars(
            sa.select(Obligation)
            .join(Obligation.task)
            .where(Obligation.id.in_(list(ids)))
            .options(joinedload(Obligation.task), joinedload(Obligation.report))
            .order_by(Obligation.period, Task.number, Obligation.id)
        ).unique()
    )


def review_queue(period: Period | None = None) -> sa.Select[Obligation]:
    """Submitted reports waiting for a coordinator, oldest submission first."""
    query = (
        sa.select(Obligation)
        .join(Obligation.report)
        .join(Obligation.task)
        .where(Report.state == ReportState.SUBMITTED)
        .options(
            joinedload(Obligation.task).joinedload(Task.document), contains_eager(Obligation.report)
        )
        .order_by(Report.submitted_at, Obligation.id)
    )
    if period is not None:
        query = query.where(Obligation.period == period.key)
    return query


def review_count() -> int:
    """How many submitted reports wait for a coordinator (every quarter): the reports alone,
    counted from the ``(state, submitted_at)`` index (each report has its obligation and its
    item, so the queue's joins would not change the number)."""
    query = sa.select(sa.func.count()).select_from(Report)
    return int(db.session.scalar(query.where(Report.state == ReportState.SUBMITTED)) or 0)


@dataclass(frozen=True)
class ReviewFilter:
    """What a coordinator narrows the review queue to; every field optional."""

    period: str | None = None
    document_id: int | None = None
    department_id: int | None = None
    role: Role | None = None
    number: int | None = None  # the item's number in its document
    state: ReportState | None = ReportState.SUBMITTED  # None: every report ever submitted
    due_from: date | None = None
    due_to: date | None = None
    sort: str = "due"  # "due": due date first; "submitted": oldest submission first


def _review_conditions(chosen: ReviewFilter) -> list[sa.ColumnElement[bool]]:
    """The review filter's conditions on the report, its obligation and its item."""
    conditions: list[sa.ColumnElement[bool]] = []
    if chosen.period is not None:
        conditions.append(Obligation.period == chosen.period)
    if chosen.document_id is not None:
        conditions.append(Task.document_id == chosen.document_id)
    if chosen.department_id is not None:
        conditions.append(Obligation.department_id == chosen.department_id)
    if chosen.role is not None:
        conditions.append(Obligation.role == chosen.role)
    if chosen.number is not None:
        conditions.append(Task.number == chosen.number)
    if chosen.state is not None:
        conditions.append(Report.state == chosen.state)
    if chosen.due_from is not None:
        conditions.append(Obligation.due_date >= chosen.due_from)
    if chosen.due_to is not None:
        conditions.append(Obligation.due_date <= chosen.due_to)
    return conditions


def review_query(chosen: ReviewFilter) -> sa.Select[Obligation]:
    """The review queue narrowed by ``chosen``, in its order, with its lines' data loaded."""
    query = (
        sa.select(Obligation)
        .join(Obligation.report)
        .join(Obligation.task)
        .where(Report.first_submitted_at.is_not(None))
        .options(
            joinedload(Obligation.task).joinedload(Task.document), joinedload(Obligation.report)
        )
    )
    query = query.where(*_review_conditions(chosen))
    if chosen.sort == "submitted":
        return query.order_by(Report.submitted_at, Obligation.id)
    return query.order_by(Obligation.due_date, Report.submitted_at, Obligation.id)


def review_total(chosen: ReviewFilter) -> sa.Select[int]:
    """How many reports :func:`review_query` lists: the same conditions, counted over the
    reports (joined to their obligations and items only when filtered by them: each report
    has one of each), without the page's loads."""
    query = (
        sa.select(sa.func.count()).select_from(Report).where(Report.first_submitted_at.is_not(None))
    )
    on_item = chosen.document_id is not None or chosen.number is not None
    on_obligation = on_item or any(
        value is not None
        for value in (chosen.period, chosen.department_id, chosen.role, chosen.due_from,
                      chosen.due_to)
    )  # fmt: skip
    if on_obligation:
        query = query.join(Obligation, Obligation.id == Report.obligation_id)
    if on_item:
        query = query.join(Task, Task.id == Obligation.task_id)
    return query.where(*_review_conditions(chosen))


def next_to_review(chosen: ReviewFilter, after: int) -> Obligation | None:
    """The report to review after obligation ``after``: the first still waiting in the same
    filtered queue (the queue shrinks as reports are decided, so its head is the next)."""
    waiting = dataclasses.replace(chosen, state=ReportState.SUBMITTED)
    return db.session.scalars(review_query(waiting).where(Obligation.id != after).limit(1)).first()


def item_obligations(task_id: int, period: Period) -> list[Obligation]:
    """Every department's obligation on one item for one period, in the clause's order."""
    return list(
        db.session.scalars(
            sa.select(Obligation)
            .join(Obligation.assignment)
            .where(Obligation.task_id == task_id, Obligation.period == period.key)
            .options(joinedload(Obligation.report).selectinload(Report.figures))
            .order_by(Assignment.position)
        ).unique()
    )


def supporting_obligations(obligation: Obligation) -> list[Obligation]:
    """For a lead obligation, the supporting departments' obligations on the same item."""
    if obligation.role != Role.LEAD:
        return []
    return [
        o
        for o in item_obligations(obligation.task_id, Period.parse(obligation.period))
        if o.role == Role.SUPPORT
    ]


@dataclass(frozen=True)
class SupportingInput:
    """One supporting department's part of a lead's consolidation, as the lead may read it.

    ``report`` is the supporting report only once submitted (or accepted): a department never
    reads another's unsubmitted work. ``missing``: neither submitted nor waived.
    """

    obligation: Obligation
    report: Report | None

    @property
    def missing(self) -> bool:
        return not self.obligation.waived and self.report is None


def submitted_report(obligation: Obligation) -> Report | None:
    """The obligation's report if it has been submitted and not taken back (returned, withdrawn)."""
    report = obligation.report
    if report is not None and report.state in (ReportState.SUBMITTED, ReportState.ACCEPTED):
        return report
    return None


def supporting_inputs(obligation: Obligation) -> list[SupportingInput]:
    """For a lead obligation, each supporting department's submitted input (or its absence)."""
    return [SupportingInput(o, submitted_report(o)) for o in supporting_obligations(obligation)]


def lead_obligation(obligation: Obligation) -> Obligation | None:
    """For a supporting obligation, the lead's obligation on the same item and period."""
    return db.session.scalar(
        sa.select(Obligation).where(
            Obligation.task_id == obligation.task_id,
            Obligation.period == obligation.period,
            Obligation.role == Role.LEAD,
        )
    )


def version_actions(report_id: int) -> list[str]:
    """The actions of a report's versions, oldest first (``save``, ``submit``, ``accept``, …)."""
    return list(
        db.session.scalars(
            sa.select(ReportVersion.action)
            .where(ReportVersion.report_id == report_id)
            .order_by(ReportVersion.number)
        )
    )


def report_versions(report_id: int) -> list[ReportVersion]:
    return list(
        db.session.scalars(
            sa.select(ReportVersion)
            .where(ReportVersion.report_id == report_id)
            .order_by(ReportVersion.number)
        )
    )


# How each stored value of a version is compared and shown.
TEXT_KEYS = ("progress", "problems", "practices", "suggestions", "next_steps")
REVIEW_TEXT_KEYS = ("return_reason", "review_comment")
CHOICE_KEYS = ("state", "status", "confirmed_status")
UNSET = {"state": "—", "status": "未选择", "confirmed_status": "未核定"}
FIGURE_ADDED, FIGURE_REMOVED, FIGURE_CHANGED = "新增", "删除", "修改"


@dataclass(frozen=True)
class FigureRow:
    """One key figure on a version page; ``mark`` says how it changed ("" when it did not)."""

    name: str
    value: str
    unit: str
    mark: str = ""
    old_value: str = ""
    old_unit: str = ""


@dataclass(frozen=True)
class Change:
    """One field of a version as a reader sees it: its label and, by ``kind``, its words.

    ``text``: ``before``/``after`` and the character ``diff``; ``choice``: the Chinese labels
    before and after; ``figures``: the rows, marked; ``evidence``: file names added and removed.
    For a version's own content (:func:`version_content`) only the ``after`` side is filled.
    """

    key: str
    label: str
    kind: str
    before: str = ""
    after: str = ""
    diff: tuple[tuple[str, str], ...] = ()
    figures: tuple[FigureRow, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def _kind(key: str) -> str:
    if key in CHOICE_KEYS:
        return "choice"
    if key in ("figures", "evidence"):
        return key
    return "text"


def _choice(key: str, value: object) -> str:
    """A state or a rating in words (an unknown stored value is named as such, not shown raw)."""
    if value is None or value == "":
        return UNSET[key]
    kind: type[ReportState] | type[ProgressStatus] = (
        ReportState if key == "state" else ProgressStatus
    )
    try:
        return kind(str(value)).label
    except ValueError:
        return "（无法识别）"


def state_label(value: object) -> str:
    """A stored report state (``submitted``) in words (已报送待审核)."""
    return _choice("state", value)


def action_label(action: str) -> str:
    """What a version records (``resubmit``) in words (重新报送)."""
    return ACTION_LABELS.get(action, "其他操作")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _figures(value: object) -> list[tuple[str, str, str]]:
    """A version's stored figures (``[[name, value, unit], …]``) as text triples."""
    rows: list[tuple[str, str, str]] = []
    for row in value if isinstance(value, list) else []:
        cells = [str(cell) if cell is not None else "" for cell in row][:3]
        name, number, unit = cells + [""] * (3 - len(cells))
        rows.append((name, number, unit))
    return rows


def _files(value: object) -> list[str]:
    return [str(name) for name in value] if isinstance(value, list) else []


def figure_changes(before: object, after: object) -> tuple[FigureRow, ...]:
    """The figures after the change, each matched by name to one before it and marked
    新增 or 修改 (or nothing); then those that were removed, marked 删除."""
    remaining = _figures(before)
    rows: list[FigureRow] = []
    for name, value, unit in _figures(after):
        match = next((old for old in remaining if old[0] == name), None)
        if match is None:
            rows.append(FigureRow(name, value, unit, FIGURE_ADDED))
            continue
        remaining.remove(match)
        changed = (value, unit) != match[1:]
        mark = FIGURE_CHANGED if changed else ""
        rows.append(FigureRow(name, value, unit, mark, *(match[1:] if changed else ("", ""))))
    rows.extend(FigureRow(name, value, unit, FIGURE_REMOVED) for name, value, unit in remaining)
    return tuple(rows)


def _change(key: str, old: object, new: object) -> Change | None:
    """How one field differs between two versions' values, or None when it does not."""
    label, kind = VERSION_LABELS[key], _kind(key)
    if kind == "choice":
        before, after = _choice(key, old), _choice(key, new)
        return None if before == after else Change(key, label, kind, before, after)
    if kind == "figures":
        if _figures(old) == _figures(new):
            return None
        return Change(key, label, kind, figures=figure_changes(old, new))
    if kind == "evidence":
        was, now = Counter(_files(old)), Counter(_files(new))
        if was == now:
            return None
        added, removed = tuple((now - was).elements()), tuple((was - now).elements())
        return Change(key, label, kind, added=added, removed=removed, files=tuple(now.elements()))
    before, after = _text(old), _text(new)
    if before == after:
        return None
    return Change(key, label, kind, before, after, tuple(text_diff(before, after)))


def version_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """What changed between two stored versions (the first against nothing), in words."""
    before = before or {}
    changes = (_change(key, before.get(key), after.get(key)) for key in VERSION_LABELS)
    return [change for change in changes if change is not None]


def version_content(content: dict[str, Any]) -> list[Change]:
    """A version's own content, field by field, in words (review texts only when present)."""
    shown: list[Change] = []
    for key, label in VERSION_LABELS.items():
        value, kind = content.get(key), _kind(key)
        if kind == "choice":
            if key != "confirmed_status" or value:
                shown.append(Change(key, label, kind, after=_choice(key, value)))
        elif kind == "figures":
            shown.append(Change(key, label, kind, figures=figure_changes(value, value)))
        elif kind == "evidence":
            shown.append(Change(key, label, kind, files=tuple(_files(value))))
        elif key in TEXT_KEYS or _text(value):
            shown.append(Change(key, label, kind, after=_text(value)))
    return shown


@dataclass(frozen=True)
class HistoryLine:
    """One row of an obligation's 修改记录: the version, what was done, and what it changed."""

    version: ReportVersion
    action: str
    state: str
    changed: str


def version_history(versions: list[ReportVersion]) -> list[HistoryLine]:
    """Each version (oldest first) with its action, its state and the labels it changed."""
    lines: list[HistoryLine] = []
    previous: dict[str, Any] | None = None
    for version in versions:
        changed = [
            change.label
            for change in version_changes(previous, version.content)
            if change.key != "state"
        ]
        lines.append(
            HistoryLine(
                version,
                action_label(version.action),
                state_label(version.state),
                "、".join(changed) or "—",
            )
        )
        previous = version.content
    return lines


def text_diff(before: object, after: object) -> list[tuple[str, str]]:
    """Character by character (Chinese has no spaces to split words at), what a field's text
    lost and gained: ``(kind, text)`` runs with kind ``same``, ``deleted`` or ``inserted``.

    Only text fields are diffed this way; figures and evidence have their own comparison.
    """
    old = "" if before is None else str(before)
    new = "" if after is None else str(after)
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", old[i1:i2]))
            continue
        if i2 > i1:
            runs.append(("deleted", old[i1:i2]))
        if j2 > j1:
            runs.append(("inserted", new[j1:j2]))
    return runs


def assignments_with_reports(assignment_ids: Iterable[int]) -> set[int]:
    """Which of these assignments already carry a report (the catalogue must keep them)."""
    ids = list(assignment_ids)
    return set(
        db.session.scalars(
            sa.select(Obligation.assignment_id)
            .join(Obligation.report)
            .where(Obligation.assignment_id.in_(ids))
        )
    )


def open_obligation_lines(department_id: int) -> list[str]:
    """A department's open obligations, oldest period first: each an opened period's
    obligation, not waived, whose report is missing or not yet accepted (draft, submitted,
    returned). One line each: ``2026年第三季度 民发〔2019〕86号第5项（草稿）``."""
    rows = db.session.execute(
        sa.select(Obligation.period, PolicyDocument.number, Task.number, Report.state)
        .join(Task, Obligation.task_id == Task.id)
        .join(PolicyDocument, Task.document_id == PolicyDocument.id)
        .outerjoin(Report, Report.obligation_id == Obligation.id)
        .where(Obligation.department_id == department_id, Obligation.waived.is_(False))
        .where(sa.or_(Report.id.is_(None), Report.state != ReportState.ACCEPTED))
        .order_by(Obligation.period, PolicyDocument.id, Task.number)
    ).all()
    lines = []
    for period, document, number, state in rows:
        label = ReportState(state).label if state is not None else "未填报"
        lines.append(f"{Period.parse(period).label} {document}第{number}项（{label}）")
    return lines


@dataclass(frozen=True)
class Timeliness:
    """How an obligation stands against its due date, in working days (Beijing time)."""

    due_date: date
    submitted_on: date | None
    on_time: bool | None  # None while nothing has been submitted
    days_late: int  # working days; for an unsubmitted overdue obligation, as of today
    days_left: int  # working days until the due date; negative when overdue

    @property
    def overdue(self) -> bool:
        return self.submitted_on is None and self.days_left < 0


def timeliness(obligation: Obligation, today: date | None = None) -> Timeliness:
    """On time means first submitted by 23:59:59 Beijing time of the due date."""
    cal = calendar()
    today = today or clock.local_today()
    report = obligation.report
    first = report.first_submitted_at if report is not None else None
    submitted_on = clock.local_date(first) if first is not None else None
    if submitted_on is not None:
        late = cal.working_days_between(obligation.due_date, submitted_on)
        return Timeliness(
            obligation.due_date,
            submitted_on,
            late == 0,
            late,
            cal.working_days_until(submitted_on, obligation.due_date),
        )
    left = cal.working_days_until(today, obligation.due_date)
    late = cal.working_days_between(obligation.due_date, today)
    return Timeliness(obligation.due_date, None, None, late, left)


# -- delivery plans: what reports said of milestones and indicators --------------------------


@dataclass(frozen=True)
class OverdueMilestone:
    """A milestone in force whose quarter has passed, which no submitted report says is done;
    ``said`` is the latest submitted status (partly, not done) and its sentence, if any."""

    milestone: Milestone
    said: MilestoneStatus | None


def overdue_milestones(
    *, task_id: int | None = None, department_id: int | None = None
) -> list[OverdueMilestone]:
    """Overdue milestones (due quarter before today's), of one item or one department.

    Only submitted or accepted reports count as the department's word: a draft saying 已完成
    is not yet said. Two round trips whatever the number of plans.
    """
    now = delivery_queries.current_quarter().key
    query = (
        sa.select(Milestone)
        .join(DeliveryPlan, Milestone.plan_id == DeliveryPlan.id)
        .where(DeliveryPlan.state == PlanState.APPROVED, Milestone.due_period < now)
        .options(joinedload(Milestone.plan).joinedload(DeliveryPlan.task))
        .order_by(Milestone.due_period, DeliveryPlan.task_id, Milestone.position)
    )
    if task_id is not None:
        query = query.where(DeliveryPlan.task_id == task_id)
    if department_id is not None:
        query = query.where(Milestone.department_id == department_id)
    milestones = list(db.session.scalars(query))
    if not milestones:
        return []
    said: dict[str, list[tuple[Any, MilestoneStatus]]] = {}
    rows = db.session.execute(
        sa.select(MilestoneStatus, Report.submitted_at)
        .join(Report, MilestoneStatus.report_id == Report.id)
        .where(
            MilestoneStatus.milestone_key.in_([m.key for m in milestones]),
            unindexed(Report.state).in_((ReportState.SUBMITTED, ReportState.ACCEPTED)),
        )
    ).all()
    for status, submitted_at in rows:
        said.setdefault(status.milestone_key, []).append((submitted_at, status))
    overdue = []
    for m in milestones:
        statuses = sorted(said.get(m.key, []), key=lambda pair: pair[0])
        if any(s.progress == MilestoneProgress.DONE for _, s in statuses):
            continue
        overdue.append(OverdueMilestone(m, statuses[-1][1] if statuses else None))
    return overdue


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator's value for one quarter: each reporting department's, and combined."""

    indicator: Indicator
    values: list[tuple[int, Decimal]]  # (department id, value) of submitted reports
    combined: Decimal | None


def combine(rule: Combine, values: list[tuple[Any, Decimal]]) -> Decimal | None:
    """Combine departments' values: the sum, the average, or the latest submitted (values in
    submission order); None when no department reported."""
    if not values:
        return None
    numbers = [Decimal(str(v)) for _, v in values]
    if rule == Combine.SUM:
        return sum(numbers, Decimal(0))
    if rule == Combine.AVERAGE:
        return (sum(numbers, Decimal(0)) / len(numbers)).quantize(Decimal("0.0001"))
    return numbers[-1]


def indicator_results(
    task_id: int, periods: list[Period]
) -> list[tuple[Indicator, dict[str, IndicatorResult]]]:
    """The item's indicators in force, each with, per quarter key, the values of submitted or
    accepted reports of its reporting departments, combined by its rule. Two round trips."""
    indicators = [i for p in delivery_queries.approved_plans(task_id) for i in p.indicators]
    return combined_results({task_id}, indicators, periods)


def combined_results(
    task_ids: set[int], indicators: list[Indicator], periods: list[Period]
) -> list[tuple[Indicator, dict[str, IndicatorResult]]]:
    """These indicators (of the items ``task_ids``), each with its :class:`IndicatorResult`
    per quarter key (submitted or accepted reports only). One round trip, whatever the number
    of items, indicators and quarters."""
    if not indicators or not periods:
        return []
    rows = db.session.execute(
        sa.select(
            IndicatorValue.indicator_key, Obligation.period, Obligation.department_id,
            IndicatorValue.value,
        )
        .join(Report, IndicatorValue.report_id == Report.id)
        .join(Obligation, Report.obligation_id == Obligation.id)
        .where(
            Obligation.task_id.in_(task_ids),
            Obligation.period.in_([p.key for p in periods]),
            unindexed(Report.state).in_((ReportState.SUBMITTED, ReportState.ACCEPTED)),
            unindexed(IndicatorValue.indicator_key).in_({i.key for i in indicators}),
        )
        .order_by(Report.submitted_at, Report.id)
    ).all()  # fmt: skip
    grouped: dict[tuple[str, str], list[tuple[int, Decimal]]] = {}
    # Keys are random per item (kept across a plan's versions), so a key names one item.
    for key, key_period, department_id, value in rows:
        grouped.setdefault((key, key_period), []).append((department_id, Decimal(str(value))))
    results = []
    for i in indicators:
        reporting = set(i.department_ids or [])
        by_period = {}
        for period in periods:
            values = [v for v in grouped.get((i.key, period.key), []) if v[0] in reporting]
            by_period[period.key] = IndicatorResult(i, values, combine(i.combine, values))
        results.append((i, by_period))
    return results


def milestone_keys_done(keys: list[str], *, up_to: str) -> set[str]:
    """Of these milestone keys, those a submitted or accepted report of a quarter up to
    ``up_to`` (a quarter key) says are 已完成. One round trip."""
    if not keys:
        return set()
    return set(
        db.session.scalars(
            sa.select(MilestoneStatus.milestone_key)
            .join(Report, MilestoneStatus.report_id == Report.id)
            .join(Obligation, Report.obligation_id == Obligation.id)
            .where(
                MilestoneStatus.milestone_key.in_(keys),
                MilestoneStatus.progress == MilestoneProgress.DONE,
                unindexed(Report.state).in_((ReportState.SUBMITTED, ReportState.ACCEPTED)),
                Obligation.period <= up_to,
            )
        )
    )
