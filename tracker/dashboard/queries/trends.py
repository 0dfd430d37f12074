"""On-time rates across quarters: frozen quarters from their snapshots, the others live."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from tracker import clock
from tracker.dashboard.models import Snapshot
from tracker.dashboard.queries.aggregate import Tally
from tracker.dashboard.queries.scope import DepartmentRef, department_refs, snapshots
from tracker.dashboard.queries.source import sources_for
from tracker.periods import Period


@dataclass
class Trend:
    """On-time rate per department across quarters (oldest first)."""

    periods: list[Period]
    departments: list[DepartmentRef]
    rates: dict[int, list[float | None]]  # department id → one rate per period
    overall: list[float | None]
    frozen: list[bool]


def trend(
    periods: Iterable[Period],
    document_id: int | None = None,
    department_ids: Iterable[int] | None = None,
    *,
    today: date | None = None,
    known_snapshots: dict[str, Snapshot] | None = None,
) -> Trend:
    """On-time rates across ``periods``: frozen quarters from their snapshots, others live.

    At most three queries whatever the number of periods: the snapshots, their counts, and one
    live ``GROUP BY`` over the quarters not yet frozen.
    """
    ordered = sorted(set(periods))
    frozen = snapshots() if known_snapshots is None else known_snapshots
    counts: dict[tuple[str, int], Tally] = defaultdict(Tally)
    for source in sources_for(ordered, frozen, today or clock.local_today()):
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
    rates = {d.id: [counts[(p.key, d.id)].on_time_rate for p in ordered] for d in departments}
    return Trend(ordered, departments, rates, _overall(counts, ordered, departments),
                 [p.key in frozen for p in ordered])  # fmt: skip


def _overall(
    counts: dict[tuple[str, int], Tally], periods: list[Period], departments: list[DepartmentRef]
) -> list[float | None]:
    """The on-time rate of the shown departments together, per period."""
    overall = []
    for p in periods:
        total = Tally()
        for d in departments:
            t = counts.get((p.key, d.id))
            if t:
                total.on_time += t.on_time
                total.late += t.late
        overall.append(total.on_time_rate)
    return overall
