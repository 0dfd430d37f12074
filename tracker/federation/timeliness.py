"""At the centre: whether each member's roll-up of a quarter arrived on time.

A province reports a quarter up once, after consolidating its own departments' reports, so its
roll-up is due when the centre's lead departments' reports are: the quarter's due date of
:func:`tracker.reports.services.due_dates_for` (``TRACKER_DUE_OFFSET_DAYS`` after the quarter,
moved to the next working day of China's calendar). Judged as an obligation is
(:func:`tracker.reports.queries.timeliness`): on time when the first revision arrived by
23:59:59 Beijing time of the due date; otherwise late by the working days in between (at least
one); a member with nothing received is missing once the due date has passed (its days late
counted to today), not yet due before. Corrections (revision 2, 3, …) do not change when the
quarter was first reported; the items covered are those of the latest revision, as the
provinces matrix shows them.

Two round trips whatever the number of members and documents: the members, then every
revision's figures per (member, document) with the latest revision's body.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from tracker import clock
from tracker.extensions import db
from tracker.federation.models import MemberInstance, ReceivedRollup
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.services import due_dates_for


class Arrival(enum.StrEnum):
    """How a member's roll-up of a quarter stands against the due date (best first)."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_DUE = "not_due"

    @property
    def label(self) -> str:
        return {"on_time": "按时", "late": "迟报", "missing": "逾期未报", "not_due": "未到期"}[
            self.value
        ]

    @property
    def rag(self) -> str:
        """The dashboard's colour class (``rag-green`` …) of the state."""
        return {"on_time": "green", "late": "amber", "missing": "red", "not_due": "grey"}[
            self.value
        ]

    @property
    def order(self) -> int:
        return list(Arrival).index(self)


@dataclass(frozen=True)
class ProvinceArrival:
    """One member's roll-up of one document for one quarter."""

    member_id: int
    code: str
    name: str
    document_number: str
    due_date: date
    arrival: Arrival
    first_received_at: datetime | None  # UTC; the earliest revision's arrival
    days_late: int | None  # working days; for a missing roll-up, as of today
    revisions: int
    latest_revision: int | None
    latest_rollup_id: int | None
    items_covered: int | None  # items of the latest revision
    items: frozenset[int]  # their numbers
    indicators: dict[int, int]  # item number → indicators reported in the latest revision
    rank: int = 0

    @property
    def received_on(self) -> date | None:
        """The day (Beijing time) the roll-up first arrived."""
        return clock.local_date(self.first_received_at) if self.first_received_at else None


def _rank_key(row: ProvinceArrival) -> tuple[int, int]:
    return row.arrival.order, row.days_late or 0


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else 0.0


SORTS: dict[str, Callable[[ProvinceArrival], Any]] = {
    "rank": lambda r: (r.rank, r.code),
    "name": lambda r: r.code,
    "received": lambda r: (r.first_received_at is None, _stamp(r.first_received_at), r.code),
    "days_late": lambda r: (r.days_late or 0, r.rank, r.code),
    "revisions": lambda r: (r.revisions, r.rank, r.code),
    "items": lambda r: (r.items_covered or 0, r.rank, r.code),
}


SORT_LABELS = {
    "rank": "排名",
    "name": "地方",
    "received": "首次送达",
    "days_late": "迟报工作日",
    "revisions": "报送版本数",
    "items": "覆盖事项",
}


def arrivals(
    document_numbers: Sequence[str], period: Period, today: date | None = None
) -> list[ProvinceArrival]:
    """Every member × document of ``document_numbers`` for ``period``, ranked (documents in
    the order given, then the ranking): active members, and revoked ones that sent this
    quarter's roll-up (as the provinces matrix lists them). Ties share a rank."""
    if not document_numbers:
        return []
    members = list(db.session.scalars(sa.select(MemberInstance).order_by(MemberInstance.code)))
    if not members:
        return []
    stats = (
        sa.select(
            ReceivedRollup.member_id,
            ReceivedRollup.document_number,
            sa.func.count().label("revisions"),
            sa.func.min(ReceivedRollup.received_at).label("first_at"),
            sa.func.max(ReceivedRollup.revision).label("latest"),
        )
        .where(
            ReceivedRollup.period == period.key,
            ReceivedRollup.document_number.in_(list(document_numbers)),
        )
        .group_by(ReceivedRollup.member_id, ReceivedRollup.document_number)
        .subquery()
    )
    latest = aliased(ReceivedRollup)
    received: dict[tuple[int, str], tuple[int, datetime, int, int, dict[str, Any]]] = {}
    for member_id, number, revisions, first_at, revision, rollup_id, body in db.session.execute(
        sa.select(
            stats.c.member_id, stats.c.document_number, stats.c.revisions, stats.c.first_at,
            stats.c.latest, latest.id, latest.body,
        ).join(
            latest,
            sa.and_(
                latest.member_id == stats.c.member_id,
                latest.document_number == stats.c.document_number,
                latest.period == period.key,
                latest.revision == stats.c.latest,
            ),
        )
    ):  # fmt: skip
        # min() keeps its column's type, so the time comes back aware (UTC) on both databases
        received[(member_id, number)] = (revisions, first_at, revision, rollup_id, body)
    due = due_dates_for(period)[0]
    cal = report_queries.calendar()
    today = today or clock.local_today()
    rows: list[ProvinceArrival] = []
    for number in document_numbers:
        shown: list[ProvinceArrival] = []
        for member in members:
            got = received.get((member.id, number))
            if got is None and member.revoked_at is not None:
                continue
            shown.append(_arrival(member, number, due, got, cal, today))
        rows.extend(_ranked(shown))
    return rows


def _arrival(
    member: MemberInstance,
    number: str,
    due: date,
    got: tuple[int, datetime, int, int, dict[str, Any]] | None,
    cal: Any,
    today: date,
) -> ProvinceArrival:
    if got is None:
        if today > due:
            arrival, late = Arrival.MISSING, cal.working_days_between(due, today)
        else:
            arrival, late = Arrival.NOT_DUE, None
        return ProvinceArrival(
            member.id, member.code, member.name, number, due, arrival, None, late, 0, None,
            None, None, frozenset(), {},
        )  # fmt: skip
    revisions, first_at, revision, rollup_id, body = got
    late = cal.working_days_between(due, clock.local_date(first_at))
    items = body.get("items", [])
    return ProvinceArrival(
        member.id, member.code, member.name, number, due,
        Arrival.ON_TIME if late == 0 else Arrival.LATE, first_at, late, revisions, revision,
        rollup_id, len(items), frozenset(i["item_number"] for i in items),
        {i["item_number"]: len(i.get("indicators", [])) for i in items},
    )  # fmt: skip


def _ranked(rows: list[ProvinceArrival]) -> list[ProvinceArrival]:
    """Best first: on time, late (fewest days first), missing (fewest days first), not yet
    due; equal standing, equal rank (1, 1, 3)."""
    rows = sorted(rows, key=lambda r: (_rank_key(r), r.code))
    ranked: list[ProvinceArrival] = []
    for index, row in enumerate(rows):
        same = ranked and _rank_key(ranked[-1]) == _rank_key(row)
        rank = ranked[-1].rank if same else index + 1
        ranked.append(replace(row, rank=rank))
    return ranked


def sort_arrivals(
    rows: list[ProvinceArrival], key: str = "rank", descending: bool = False
) -> list[ProvinceArrival]:
    """Rows sorted by one column (an unknown key sorts by rank), each document's together."""
    getter = SORTS.get(key, SORTS["rank"])
    order = {number: n for n, number in enumerate(dict.fromkeys(r.document_number for r in rows))}
    by_document: dict[str, list[ProvinceArrival]] = {}
    for row in rows:
        by_document.setdefault(row.document_number, []).append(row)
    result: list[ProvinceArrival] = []
    for number in sorted(by_document, key=order.__getitem__):
        result.extend(sorted(by_document[number], key=getter, reverse=descending))
    return result


@dataclass(frozen=True)
class Summary:
    """The counts of one document's rows per state."""

    on_time: int
    late: int
    missing: int
    not_due: int


def summary(rows: Sequence[ProvinceArrival]) -> Summary:
    counts = {a: sum(1 for r in rows if r.arrival == a) for a in Arrival}
    return Summary(
        counts[Arrival.ON_TIME], counts[Arrival.LATE], counts[Arrival.MISSING],
        counts[Arrival.NOT_DUE],
    )  # fmt: skip
