"""The suggested delivery light: milestones done, indicators against the baseline→target line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tracker.dashboard.delivery_light import IndicatorPace, delivery_light, expected_value
from tracker.dashboard.rag import Rag
from tracker.delivery.models import Combine, Direction, Indicator
from tracker.periods import Period


def _indicator(direction=Direction.HIGHER, baseline=0, target=100):
    return Indicator(
        key="k", name="覆盖县", unit="个", direction=direction, combine=Combine.SUM,
        baseline_value=Decimal(baseline), baseline_date=dt.date(2020, 1, 1),
        target_value=Decimal(target), target_date=dt.date(2022, 1, 1), department_ids=[1],
    )  # fmt: skip


def test_the_line_runs_from_baseline_to_target_and_stops_at_both_ends():
    i = _indicator()
    assert expected_value(i, dt.date(2019, 6, 1)) == 0
    assert abs(expected_value(i, dt.date(2021, 1, 1)) - Decimal(36600) / 731) < Decimal("1e-9")
    assert expected_value(i, dt.date(2030, 1, 1)) == 100
    lower = _indicator(Direction.LOWER, baseline=50, target=10)
    assert abs(expected_value(lower, dt.date(2021, 1, 1)) - (50 - Decimal(14640) / 731)) < Decimal(
        "1e-9"
    )


def _pace(value, direction=Direction.HIGHER, baseline=0, target=100):
    i = _indicator(direction, baseline, target)
    when = Period(2020, 4)  # ends 2020-12-31: the line expects about 50
    return IndicatorPace(i, when, Decimal(value), expected_value(i, when.end))


@pytest.mark.parametrize(
    ("due", "done", "values", "rag"),
    [
        (0, 0, [], Rag.GREEN),  # nothing due, nothing to judge
        (2, 2, [60], Rag.GREEN),
        (2, 1, [60], Rag.AMBER),  # half the milestones
        (2, 2, [40], Rag.AMBER),  # behind the line, but more than half way
        (2, 2, [20], Rag.RED),  # less than half the planned progress
        (3, 1, [60], Rag.RED),  # a third of the milestones
    ],
)
def test_the_colour(due, done, values, rag):
    assert delivery_light(due, done, [_pace(v) for v in values]).rag == rag


def test_lower_is_better_counts_the_other_way():
    assert _pace(20, Direction.LOWER, baseline=50, target=10).on_pace  # expected about 30
    assert not _pace(40, Direction.LOWER, baseline=50, target=10).on_pace
    assert _pace(48, Direction.LOWER, baseline=50, target=10).far_behind
