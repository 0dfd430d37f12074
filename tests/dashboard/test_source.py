"""The live and the frozen source answer every reader's questions alike for the same quarter."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
import sqlalchemy as sa

from tracker.catalogue.models import PolicyDocument
from tracker.dashboard import queries, services
from tracker.dashboard.queries.cell import cells_query, read_cells
from tracker.dashboard.queries.source import FrozenSource, LiveSource, source_for, sources_for
from tracker.dashboard.rag import Rag
from tracker.extensions import db
from tracker.periods import Period

Q2, Q3 = Period(2024, 2), Period(2024, 3)
CLOSE = date(2024, 10, 16)  # Q3's closing day (see test_snapshots)


@pytest.fixture
def both(scenario):
    """Q3 frozen the morning after its close, and the scopes reading it live and frozen."""
    scenario["quarter"].at("2024-10-17 09:00")
    snapshot = services.freeze_due_snapshots()["2024Q3"]
    db.session.commit()
    live = queries.make_scope(Q3, today=CLOSE, snapshot=None)
    return live, replace(live, snapshot=snapshot)


def _merged(groups):
    """Groups summed by what both sources key them on (the live one also splits by dates)."""
    totals: Counter = Counter()
    worst: dict = {}
    for g in groups:
        key = (g.department_id, g.role, g.reason, g.lead_department_id)
        totals.update({(*key, "count"): g.count, (*key, "late"): g.late_submitted,
                       (*key, "days"): g.days_late, (*key, "returns"): g.returns})  # fmt: skip
        worst[key] = max(worst.get(key, 0), g.max_days_late)
    return +totals, worst


def _lights(scope, **filters):
    scope = replace(scope, **filters)
    source = source_for(scope)
    return sorted(
        (task.number, cell.department_id, cell.role, cell.due_date, cell.light.reason,
         cell.light.days_late, cell.light.late)
        for cell, task in read_cells(cells_query(scope, source), source)
    )  # fmt: skip


def test_source_for_picks_the_snapshot_when_frozen(both):
    live, frozen = both
    assert isinstance(source_for(live), LiveSource)
    assert isinstance(source_for(frozen), FrozenSource)


def test_groups_agree_at_the_close(both):
    live, frozen = both
    counted = _merged(source_for(live).groups(live))
    assert counted == _merged(source_for(frozen).groups(frozen))
    assert sum(n for key, n in counted[0].items() if key[-1] == "count") == 74


def test_cells_agree_at_the_close_whatever_the_colour(both):
    live, frozen = both
    everything = _lights(live)
    assert len(everything) == 74
    assert _lights(frozen) == everything
    for rag in Rag:
        assert _lights(frozen, rag=rag) == _lights(live, rag=rag)
    assert len(_lights(live, rag=Rag.RED)) == 8 + 61 - 1 - 1  # the headline's overdue


def test_trend_counts_agree_at_the_close(both):
    """Unfiltered, the frozen source reads the totals kept per department; by document, the
    cells: both match the live count."""
    live, frozen = both
    document_id = db.session.scalars(sa.select(PolicyDocument.id)).one()
    for document in (None, document_id):
        counts = sorted(source_for(live).trend_counts(document))
        assert counts and counts == sorted(source_for(frozen).trend_counts(document))


def test_sources_for_reads_unfrozen_periods_live_then_frozen_ones(both):
    _, frozen = both
    sources = sources_for([Q3, Q2, Q3], {"2024Q3": frozen.snapshot}, CLOSE)
    assert [type(s) for s in sources] == [LiveSource, FrozenSource]
    assert [p.key for p in sources[0].periods] == ["2024Q2"]
    assert sources[1].period_of(frozen.snapshot.id) == "2024Q3"
    assert sources_for([Q2], {}, CLOSE)[0].judged_on == CLOSE
