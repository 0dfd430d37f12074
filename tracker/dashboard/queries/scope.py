"""What a dashboard shows (:class:`Scope`) and the small reads every other module needs.

The scope's period, filters, judging day and snapshot; the period's snapshot look-up; the
document and department lists of the filter menus; and the SQL pieces that narrow a query to
the scope's document, main-text part, departments and role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.catalogue import queries as catalogue_queries
from tracker.catalogue.models import Department, PolicyDocument, Role, Task
from tracker.dashboard.models import Snapshot
from tracker.dashboard.rag import Rag, Thresholds
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import queries as report_queries

SECTION_PARTS = catalogue_queries.SECTION_PARTS  # 二 / 三 / 四, the main text's parts

_T: sa.Table = Task.__table__
_LOOK_UP: Any = object()
_Query = TypeVar("_Query", bound=sa.Select[Any])


@dataclass(frozen=True)
class DepartmentRef:
    """A department as the dashboard shows it (plain values, JSON-ready)."""

    id: int
    code: str
    name: str
    short_name: str
    position: int = 0  # place in the documents' list of departments


@dataclass(frozen=True)
class Scope:
    """What a dashboard shows: a period, filters, the judging day and the period's snapshot."""

    period: Period
    document_id: int | None = None
    department_ids: frozenset[int] | None = None
    section: str | None = None
    role: Role | None = None
    rag: Rag | None = None  # narrows the matrix and lists, never the figures
    today: date = field(default_factory=clock.local_today)
    snapshot: Snapshot | None = None

    @property
    def frozen(self) -> bool:
        """Whether the period is read from its snapshot."""
        return self.snapshot is not None

    @property
    def judged_on(self) -> date:
        """The day the lights are judged on: the closing day when frozen, else today."""
        return self.snapshot.closes_on if self.snapshot else self.today

    @property
    def thresholds(self) -> Thresholds:
        """The RAG rule's dates for :attr:`judged_on`."""
        return thresholds_on(self.judged_on)

    @property
    def narrows_obligations(self) -> bool:
        """Whether a document, part or role filter drops some of the period's obligations."""
        return self.document_id is not None or bool(self.section) or self.role is not None


def make_scope(
    period: Period,
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    section: str | None = None,
    role: Role | str | None = None,
    rag: Rag | str | None = None,
    today: date | None = None,
    snapshot: Snapshot | None = _LOOK_UP,
) -> Scope:
    """Build a :class:`Scope`; looks the period's snapshot up unless one (or None) is given."""
    if snapshot is _LOOK_UP:
        snapshot = snapshot_for(period)
    return Scope(
        period=period,
        document_id=document_id,
        department_ids=frozenset(department_ids) if department_ids is not None else None,
        section=section or None,
        role=Role(role) if role else None,
        rag=Rag(rag) if rag else None,
        today=today or clock.local_today(),
        snapshot=snapshot,
    )


def amber_working_days() -> int:
    """Working days before the due date when an unsubmitted obligation turns amber."""
    return int(current_app.config["TRACKER_AMBER_WORKING_DAYS"])


def thresholds_on(day: date) -> Thresholds:
    """The RAG rule's dates when judging on ``day`` (the configured amber lead time)."""
    return Thresholds.on(day, report_queries.calendar(), amber_working_days())


def snapshot_for(period: Period) -> Snapshot | None:
    """The period's frozen snapshot, if it has one."""
    return db.session.scalar(sa.select(Snapshot).where(Snapshot.period == period.key))


def snapshots() -> dict[str, Snapshot]:
    """Every snapshot by period key (a handful of rows: one per closed quarter)."""
    return {s.period: s for s in db.session.scalars(sa.select(Snapshot))}


def document_choices() -> list[tuple[int, str]]:
    """(id, number) of every document, newest issue first, for the filter menus."""
    return [
        (doc_id, number)
        for doc_id, number in db.session.execute(
            sa.select(PolicyDocument.id, PolicyDocument.number).order_by(
                PolicyDocument.issued.desc().nulls_last(), PolicyDocument.id
            )
        )
    ]


def department_refs() -> list[DepartmentRef]:
    """Every department in the documents' order, as plain values."""
    rows = db.session.execute(
        sa.select(Department.id, Department.code, Department.name, Department.short_name).order_by(
            Department.position, Department.id
        )
    )
    return [DepartmentRef(*row, position=i) for i, row in enumerate(rows)]


# -- SQL building blocks -----------------------------------------------------------------------


def local_date(column: sa.ColumnElement[Any], period: Period) -> sa.ColumnElement[date]:
    """The Beijing-time (``TRACKER_TIMEZONE``) calendar date of a stored UTC timestamp.

    PostgreSQL converts with the zone's rules; SQLite adds the zone's UTC offset at the
    period's end, which is exact for zones without daylight saving (Asia/Shanghai).
    """
    zone = clock.zone()
    if _dialect() == "postgresql":
        return sa.cast(sa.func.timezone(zone.key, sa.func.timezone("UTC", column)), sa.Date)
    return sa.func.date(column, f"{_offset_minutes(period):+d} minutes", type_=sa.Date)


def _offset_minutes(period: Period) -> int:
    offset = datetime.combine(period.end, time(12), tzinfo=clock.zone()).utcoffset()
    assert offset is not None  # a ZoneInfo always answers for an aware datetime
    return int(offset.total_seconds() // 60)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def in_section(scope: Scope) -> sa.ColumnElement[bool]:
    """The task's section is the scope's part or one of its subsections."""
    section = scope.section or ""
    return sa.or_(_T.c.section == section, _T.c.section.startswith(section + "("))


def task_where(query: _Query, scope: Scope) -> _Query:
    """Narrow a query that already has the task to the scope's document and part."""
    if scope.document_id is not None:
        query = query.where(_T.c.document_id == scope.document_id)
    if scope.section:
        query = query.where(in_section(scope))
    return query


def task_filters(query: _Query, scope: Scope, task_id_column: sa.ColumnElement[int]) -> _Query:
    """Narrow to a document and a main-text part, joining the task only when these need it."""
    if scope.document_id is None and not scope.section:
        return query
    return task_where(query.join(_T, _T.c.id == task_id_column), scope)


def department_filters(query: _Query, scope: Scope, table: sa.Table) -> _Query:
    """Narrow per-obligation rows to the scope's departments and role."""
    if scope.department_ids is not None:
        query = query.where(table.c.department_id.in_(sorted(scope.department_ids)))
    if scope.role is not None:
        query = query.where(table.c.role == scope.role)
    return query


def describe_filters(
    *,
    document: str | None = None,
    section: str | None = None,
    department: str | None = None,
    role: Role | None = None,
    rag: Rag | None = None,
) -> str:
    """The filters in words, for a printed page and a workbook's cover:
    ``"部门 公安部；角色 牵头"``, or ``"全部"`` when nothing is narrowed."""
    parts = [
        f"{name} {value}"
        for name, value in (
            ("文件", document),
            ("正文部分", f"{section}、" if section else None),
            ("部门", department),
            ("角色", role.label if role else None),
            ("状态", rag.short_label if rag else None),
        )
        if value
    ]
    return "；".join(parts) or "全部"
