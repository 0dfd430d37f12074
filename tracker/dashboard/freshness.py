"""Data versions: every change the dashboard's figures depend on bumps ``period_version``.

The dashboard caches its answers (:mod:`tracker.dashboard.queries.cache`) under the version of
the period they count. Whatever changes a row the figures read — an obligation (its due date
after an extension, its waiver), a report or its versions, an urge, an extension request, a
delivery plan, a milestone status or indicator value, a coordinator's delivery judgement, the
catalogue (documents, items, assignments, departments), a snapshot — marks the period it
belongs to, or ``"*"`` (any period) when that is not known, and the transaction bumps those
rows just before it commits. One write is left out on purpose: a save that leaves a draft (or a
returned report) in its state and changes only its text, self-rating, indicator values or
milestone statuses — no figure counts those until the report is submitted, and liaisons save
drafts far more often than anything else is written. So the bump commits or rolls back with
the change itself, in every process and on both databases; a reader that sees a version sees
every change up to it.

Two ways in, both through the session:

- the unit of work: ``after_flush`` looks at the new, changed and deleted objects;
- statements run through ``Session.execute`` (``sa.update``/``sa.insert``/``sa.delete``, the
  demo data's bulk inserts, the row locks): ``do_orm_execute`` marks ``"*"`` for any of them
  on a watched table, since the rows they touch are not known.

The bumps run in ``before_commit``, after a last flush, in key order (two writers never take
the rows in opposite orders), so the version rows are locked for the last moment of a
transaction only. A rollback discards the marks: nothing is bumped. A rolled-back savepoint
keeps them, which at worst bumps a version with nothing changed (a harmless cache miss).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.orm.util import identity_key

from tracker.catalogue.models import Assignment, Department, Jurisdiction, PolicyDocument, Task
from tracker.dashboard.models import PeriodVersion, Snapshot, SnapshotCell, SnapshotDepartment
from tracker.db import ON_CONFLICT_INSERT
from tracker.delivery.models import DeliveryJudgement, DeliveryPlan, Indicator, Milestone
from tracker.followups.models import ExtensionRequest, Urge
from tracker.reports.models import (
    IndicatorValue,
    MilestoneStatus,
    Obligation,
    Report,
    ReportState,
    ReportVersion,
)

ANY_PERIOD = "*"
MARKS = "tracker.dashboard.changed"  # session.info: what this transaction changed

# What the figures read, by how a row tells its period.
_BY_PERIOD = (Obligation, DeliveryJudgement)  # ``period``
_BY_OBLIGATION = (Report, Urge, ExtensionRequest)  # ``obligation_id``
_BY_REPORT = (ReportVersion, IndicatorValue, MilestoneStatus)  # ``report_id``
# A plan in force changes the delivery lights of every quarter it reaches.
_ANY = (Task, Assignment, PolicyDocument, Department, Jurisdiction, Snapshot, SnapshotCell,
        SnapshotDepartment, DeliveryPlan, Milestone, Indicator)  # fmt: skip
_WATCHED = (*_BY_PERIOD, *_BY_OBLIGATION, *_BY_REPORT, *_ANY)
WATCHED_TABLES = frozenset(model.__table__.name for model in _WATCHED)

# A report no figure counts yet (a draft, or returned and not resubmitted) reads as its state
# alone: its text, its self-rating, its indicator values and milestone statuses count only
# once it is submitted (the delivery lights read submitted and accepted reports). So a save
# that leaves such a report in its state, changing only these columns, changes no figure and
# bumps nothing: liaisons typing drafts do not empty the coordinators' dashboards.
_UNCOUNTED = (ReportState.DRAFT, ReportState.RETURNED)
_TEXT_COLUMNS = frozenset({
    "progress", "problems", "practices", "suggestions", "next_steps", "status", "version",
    "updated_at", "updated_by_id",
})  # fmt: skip


class Marks:
    """What one transaction changed: periods, and the obligations and reports whose period
    is looked up at commit."""

    def __init__(self) -> None:
        self.periods: set[str] = set()
        self.obligation_ids: set[int] = set()
        self.report_ids: set[int] = set()

    def __bool__(self) -> bool:
        return bool(self.periods or self.obligation_ids or self.report_ids)


def marks(session: Session) -> Marks:
    """This transaction's marks (created on first use)."""
    found = session.info.get(MARKS)
    if found is None:
        found = session.info[MARKS] = Marks()
    assert isinstance(found, Marks)
    return found


def has_changes(session: Session) -> bool:
    """Whether this session holds changes to what the figures read, not yet committed
    (flushed, or pending: the next query would flush them)."""
    if session.info.get(MARKS):
        return True
    pending = (*session.new, *session.dirty, *session.deleted)
    return any(isinstance(obj, _WATCHED) for obj in pending)


def _row_changed(obj: object) -> bool:
    """Whether a flushed object's own row changed: a column, not only a relationship (the
    obligation a first draft is added to stays as it was; the report's row holds the link)."""
    state = sa.inspect(obj)
    return any(state.attrs[a.key].history.has_changes() for a in state.mapper.column_attrs)


def _uncounted_edit(report: Report, *, new: bool) -> bool:
    """The report stays one no figure counts, and only its text changed (a draft's save)."""
    if report.state not in _UNCOUNTED:
        return False
    if new:  # a first draft reads as no report at all
        return (
            report.state == ReportState.DRAFT
            and report.first_submitted_at is None
            and (report.return_reason is None)
        )
    state = sa.inspect(report)
    changed = {a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()}
    return changed <= _TEXT_COLUMNS


def _of_uncounted(session: Session, obj: IndicatorValue | MilestoneStatus | ReportVersion) -> bool:
    """A value, status or saved version of a report no figure counts (a draft's save: a
    returned report's return is a version too, and is counted)."""
    # The report this session holds: by the relationship (a report new in this flush is not
    # in the identity map yet), else by its id; never loaded for the purpose.
    held: dict[str, object] = sa.inspect(obj).dict  # type: ignore[attr-defined]
    report = held.get("report") or session.identity_map.get(identity_key(Report, obj.report_id))
    if (
        not isinstance(report, Report)
        or report in session.deleted
        or report.state not in _UNCOUNTED
    ):
        return False
    return not (isinstance(obj, ReportVersion) and obj.action != "save")


def _mark(found: Marks, obj: object, *, deleted: bool, session: Session | None = None) -> None:
    if session is not None:
        if isinstance(obj, Report) and not deleted and _uncounted_edit(obj, new=obj in session.new):
            return
        if isinstance(obj, _BY_REPORT) and _of_uncounted(session, obj):
            return
    if isinstance(obj, _ANY) or (deleted and isinstance(obj, _WATCHED)):
        found.periods.add(ANY_PERIOD)  # a deleted row's period can no longer be looked up
    elif isinstance(obj, _BY_PERIOD):
        found.periods.add(obj.period)
    elif isinstance(obj, _BY_OBLIGATION):
        found.obligation_ids.add(obj.obligation_id)
    elif isinstance(obj, _BY_REPORT):
        found.report_ids.add(obj.report_id)


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    """Mark what this flush wrote (the session still lists the objects as before it)."""
    found = marks(session)
    for obj in session.new:
        _mark(found, obj, deleted=False, session=session)
    for obj in session.dirty:
        if _row_changed(obj):
            _mark(found, obj, deleted=False, session=session)
    for obj in session.deleted:
        _mark(found, obj, deleted=True, session=session)


@sa.event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    """A statement writing a watched table marks every period: its rows are not known."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        marks(state.session).periods.add(ANY_PERIOD)


@sa.event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    """Flush what is left, then bump the versions of every period this transaction changed."""
    session.flush()
    found = session.info.pop(MARKS, None)
    if found:
        bump(session, periods_of(session, found))


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction ended (committed or rolled back): its marks are done with."""
    if transaction.parent is None:
        session.info.pop(MARKS, None)
        session.info.pop(VERSIONS_READ, None)


VERSIONS_READ = "tracker.dashboard.versions"  # session.info: versions read in this transaction


def periods_of(session: Session, found: Marks) -> set[str]:
    """The period keys of the marks: from the obligations this session already holds (a
    save holds its report's), else one query for the obligations and reports named."""
    periods = set(found.periods)
    if ANY_PERIOD in periods or not (found.obligation_ids or found.report_ids):
        return periods
    obligation_ids, report_ids = set(found.obligation_ids), set(found.report_ids)
    for report_id in list(report_ids):
        report = session.identity_map.get(identity_key(Report, report_id))
        obligation_id = sa.inspect(report).dict.get("obligation_id") if report else None
        if obligation_id is not None:
            obligation_ids.add(obligation_id)
            report_ids.discard(report_id)
    for obligation_id in list(obligation_ids):
        obligation = session.identity_map.get(identity_key(Obligation, obligation_id))
        # An obligation's period never changes once it exists (it is part of its unique key).
        period = sa.inspect(obligation).dict.get("period") if obligation else None
        if period is not None:
            periods.add(period)
            obligation_ids.discard(obligation_id)
    if not (obligation_ids or report_ids):
        return periods
    o, r = Obligation.__table__, Report.__table__
    queries = []
    if obligation_ids:
        queries.append(sa.select(o.c.period).where(o.c.id.in_(sorted(obligation_ids))))
    if report_ids:
        queries.append(
            sa.select(o.c.period)
            .join(r, r.c.obligation_id == o.c.id)
            .where(r.c.id.in_(sorted(report_ids)))
        )
    query = queries[0] if len(queries) == 1 else sa.union(*queries)
    periods.update(session.execute(query).scalars())
    return periods


def bump(session: Session, periods: set[str]) -> None:
    """Give each period a new version (creating its row), in key order.

    A version is a random 62-bit token rather than a counter, so that no version is ever seen
    twice with different data: a database restored from a backup, or emptied and filled again
    under a running process, would bring a counter back to values the process has cached
    answers under.
    """
    table = PeriodVersion.__table__
    insert = ON_CONFLICT_INSERT[session.get_bind().dialect.name]
    for period in sorted(periods):
        token = secrets.randbits(62)
        session.execute(
            insert(table)
            .values(period=period, version=token)
            .on_conflict_do_update(index_elements=[table.c.period], set_={"version": token})
        )


def versions(session: Session, period: str) -> tuple[int, int] | None:
    """(the period's version, the any-period version), as read in this transaction; None
    before anything was ever bumped (a new database: nothing to key an answer by)."""
    rows = _read(session)
    if ANY_PERIOD not in rows:
        return None
    return rows.get(period, 0), rows[ANY_PERIOD]


def all_versions(session: Session) -> tuple[tuple[str, int], ...] | None:
    """Every period's version (for answers that read every period); None as above."""
    rows = _read(session)
    return tuple(sorted(rows.items())) if ANY_PERIOD in rows else None


def _read(session: Session) -> dict[str, int]:
    """Every version row (one per quarter that has changed, and ``*``), read once per
    transaction in one query.

    Reading once is safe: whatever is computed later in the transaction is at least as new as
    the versions read first, so an answer is never stored under a newer version than its data.
    """
    read = session.info.get(VERSIONS_READ)
    if read is None:
        table = PeriodVersion.__table__
        rows = session.execute(sa.select(table.c.period, table.c.version))
        read = session.info[VERSIONS_READ] = {period: int(v) for period, v in rows}
    assert isinstance(read, dict)
    return read
