"""On-time rates across quarters: frozen quarters from their snapshots, the others live.

Only quarters that are due are shown: a quarter whose lead due date has not come yet has only
the reports handed in early in its count, all of them on time, and would read as 100 %.
Every rate keeps its numerator and denominator (:class:`TrendCell`), so pages show "9 / 84".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask import current_app

from tracker import clock
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.aggregate import Tally
from tracker.dashboard.queries.scope import DepartmentRef, department_refs, snapshots
from tracker.dashboard.queries.source import sources_for
from tracker.periods import Period
from tracker.reports import queries as report_queries


@dataclass(frozen=True)
class TrendCell:
    """One department's (or the average's) figures in one quarter."""

    on_time: int = 0  # first submitted by the due date
    judged: int = 0  # due by the judging day, or handed in: the rate's denominator

    @property
    def rate(self) -> float | None:
        """``on_time / judged``; None when nothing is judged yet."""
        return self.on_time / self.judged if self.judged else None


@dataclass
class Trend:
    """On-time rate per department across the due quarters (oldest first)."""

    periods: list[Period]
    departments: list[DepartmentRef]
    rates: dict[int, list[float | None]]  # department id → one rate per period
    overall: list[float | None]
    frozen: list[bool]
    cells: dict[int, list[TrendCell]]  # department id → one cell per period
    totals: list[TrendCell]  # the shown departments together, per period
    not_due: list[Period]  # tracked quarters left out: their due date has not come yet


def is_due(period: Period, today: date, frozen: dict[str, Snapshot]) -> bool:
    """Whether ``period`` is due on ``today``: frozen, or its lead due date has come."""
    if period.key in frozen:
        return True
    offset = int(current_app.config["TRACKER_DUE_OFFSET_DAYS"])
    return period.due_date(report_queries.calendar(), offset_days=offset) <= today


def trend(
    periods: Iterable[Period],
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    today: date | None = None,
    known_snapshots: dict[str, Snapshot] | None = None,
) -> Trend:
    """On-time rates across the due quarters of ``periods``: frozen ones from their snapshots,
    others live. Quarters not yet due are listed in :attr:`Trend.not_due`, not counted.

    At most three queries whatever the number of periods: the snapshots, their counts, and one
    live ``GROUP BY`` over the quarters not yet frozen.
    """
    day = today or clock.local_today()
    frozen = snapshots() if known_snapshots is None else known_snapshots
    every = sorted(set(periods))
    ordered = [p for p in every if is_due(p, day, frozen)]
    counts: dict[tuple[str, int], Tally] = defaultdict(Tally)
    for source in sources_for(ordered, frozen, day) if ordered else []:
        for key, dept, on_time, judged in source.trend_counts(document_id):
            tally = counts[(key, dept)]
            tally.on_time += on_time
            tally.late += judged - on_time
    departments = department_refs()
    if department_ids is not None:
        wanted = set(department_ids)
        departments = [d for d in departments if d.id in wanted]
    present = {dept for (_, dept) in counts}
    departments = [d for d in departments if d.id in present]
    cells = {d.id: [_cell(counts.get((p.key, d.id))) for p in ordered] for d in departments}
    totals = _totals(cells, len(ordered))
    return Trend(
        periods=ordered,
        departments=departments,
        rates={d: [c.rate for c in row] for d, row in cells.items()},
        overall=[t.rate for t in totals],
        frozen=[p.key in frozen for p in ordered],
        cells=cells,
        totals=totals,
        not_due=[p for p in every if p not in ordered],
    )


def _cell(tally: Tally | None) -> TrendCell:
    if tally is None:
        return TrendCell()
    return TrendCell(tally.on_time, tally.on_time + tally.late)


def _totals(cells: dict[int, list[TrendCell]], periods: int) -> list[TrendCell]:
    """The shown departments together, per period (the average the pages compare with)."""
    return [
        TrendCell(
            sum(row[i].on_time for row in cells.values()),
            sum(row[i].judged for row in cells.values()),
        )
        for i in range(periods)
    ]
