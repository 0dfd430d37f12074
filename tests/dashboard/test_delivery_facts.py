"""A suggestion reads only its own indicator's values: those of its item, its quarters and the
indicator's departments, looked up by (indicator, item, quarter) rather than by scanning every
value read for the page (which grew with the square of the portfolio)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tracker.dashboard.queries.delivery import PlanFacts, suggested_step
from tracker.delivery.models import Combine, DeliveryStep, Direction, Indicator
from tracker.periods import Period


def _indicator() -> Indicator:
    return Indicator(
        key="k-cover", name="覆盖率", unit="%", direction=Direction.HIGHER,
        baseline_value=Decimal(0), baseline_date=date(2024, 1, 1),
        target_value=Decimal(100), target_date=date(2024, 12, 31),
        combine=Combine.SUM, department_ids=[1, 2],
    )  # fmt: skip


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        ([], DeliveryStep.ON_PACE),  # 80 against about 75 expected at the end of 2024Q3
        ([("k-cover", 8, "2024Q3", 1, Decimal(-500))], DeliveryStep.ON_PACE),  # another item
        ([("k-cover", 7, "2024Q3", 3, Decimal(-500))], DeliveryStep.ON_PACE),  # not its dept.
        ([("k-other", 7, "2024Q3", 1, Decimal(-500))], DeliveryStep.ON_PACE),  # another key
        ([("k-cover", 7, "2024Q3", 2, Decimal(-500))], DeliveryStep.BEHIND),  # its own: counted
    ],
)
def test_a_suggestion_counts_its_own_values_only(others, expected):
    values = [("k-cover", 7, "2024Q3", 1, Decimal(80)), *others]
    facts = PlanFacts({}, {7: [_indicator()], 8: [_indicator()]}, {}, values)
    step = suggested_step(facts, 7, Period(2024, 3), now=Period(2024, 4))
    assert step == expected
    assert suggested_step(facts, 9, Period(2024, 3), now=Period(2024, 4)) is None  # no plan
