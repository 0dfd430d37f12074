"""The suggested delivery light of an item: milestones done on time, indicators on pace.

A suggestion beside the filing lights, never replacing them; judged in one place:

- **milestones**: of the milestones in force whose quarter has passed, the share that a
  submitted report says are 已完成 (1 when none is due yet);
- **indicators**: the latest combined value of each indicator against the straight line from
  its baseline (value, date) to its target (value, date), read at the end of the value's
  quarter (before the baseline date the line is the baseline, after the target date the
  target). An indicator with no value yet is not judged.

Colour, first match wins: no plan in force → none; share below one half, or an indicator that
has made less than half the progress the line expects by then → red (落后); every due milestone
done and every judged indicator on or beyond its line → green (符合序时进度); otherwise amber
(部分落后).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tracker.dashboard.rag import Rag
from tracker.delivery import queries as delivery_queries
from tracker.delivery.models import DeliveryStep, Direction, Indicator
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.queries import IndicatorResult

HALF = Decimal("0.5")

# The suggestion on the coordinator's five-step scale: each colour maps onto the step that
# says the same in words; 基本按序时 and 严重滞后 are shades only a coordinator's judgement gives
# (a suggestion cannot tell "nearly on pace" from "at risk", nor "far behind" from "gravely").
SUGGESTED_STEP = {
    Rag.GREEN: DeliveryStep.ON_PACE,
    Rag.AMBER: DeliveryStep.AT_RISK,
    Rag.RED: DeliveryStep.BEHIND,
}


def expected_value(indicator: Indicator, on: date) -> Decimal:
    """The straight line from baseline to target, read on ``on`` (clamped at both ends)."""
    start, end = indicator.baseline_date, indicator.target_date
    baseline, target = Decimal(indicator.baseline_value), Decimal(indicator.target_value)
    if on <= start:
        return baseline
    if on >= end:
        return target
    share = Decimal((on - start).days) / Decimal((end - start).days)
    return baseline + (target - baseline) * share


@dataclass(frozen=True)
class IndicatorPace:
    """An indicator's latest value beside what the line expects at the end of its quarter."""

    indicator: Indicator
    period: Period
    value: Decimal
    expected: Decimal

    @property
    def on_pace(self) -> bool:
        if self.indicator.direction == Direction.HIGHER:
            return self.value >= self.expected
        return self.value <= self.expected

    @property
    def far_behind(self) -> bool:
        """Less than half the progress from the baseline that the line expects by now."""
        planned = abs(self.expected - Decimal(self.indicator.baseline_value))
        if planned == 0:
            return False
        made = (self.value - Decimal(self.indicator.baseline_value)) * (
            1 if self.indicator.direction == Direction.HIGHER else -1
        )
        return made < planned * HALF


def latest_pace(
    indicator: Indicator, by_period: dict[str, IndicatorResult], periods: list[Period]
) -> IndicatorPace | None:
    """The pace of the newest quarter (of ``periods``) with a combined value, if any."""
    for period in sorted(periods, reverse=True):
        result = by_period.get(period.key)
        if result is not None and result.combined is not None:
            return IndicatorPace(
                indicator, period, result.combined, expected_value(indicator, period.end)
            )
    return None


@dataclass(frozen=True)
class DeliveryLight:
    """The suggestion: its colour and the figures it rests on."""

    rag: Rag
    due: int
    done: int
    paces: list[IndicatorPace]

    @property
    def label(self) -> str:
        return {Rag.GREEN: "符合序时进度", Rag.AMBER: "部分落后", Rag.RED: "落后"}.get(
            self.rag, "无计划"
        )


def delivery_light(due: int, done: int, paces: list[IndicatorPace]) -> DeliveryLight:
    """Decide the colour from the due and done milestones and the indicators' paces."""
    share = Decimal(done) / Decimal(due) if due else Decimal(1)
    if share < HALF or any(p.far_behind for p in paces):
        rag = Rag.RED
    elif share == 1 and all(p.on_pace for p in paces):
        rag = Rag.GREEN
    else:
        rag = Rag.AMBER
    return DeliveryLight(rag, due, done, paces)


def _as_of(period: Period) -> str:
    """The quarter key before which a milestone counts as due when judging ``period``: the
    next quarter once ``period`` is over, the current one while it runs (as on the item page)."""
    now = delivery_queries.current_quarter()
    return min(period.next(), now).key if period <= now else period.next().key


def suggested_light(task_id: int, period: Period, tracked: list[Period]) -> DeliveryLight | None:
    """The suggested light of an item for ``period``, judged by the plans in force: the
    milestones due by then, done by a submitted report of a quarter up to it, and each
    indicator's latest combined value of the (up to four) tracked quarters up to it. None
    while the item has no plan in force."""
    plans = delivery_queries.approved_plans(task_id)
    if not plans:
        return None
    as_of = _as_of(period)
    due = [m for p in plans for m in p.milestones if m.due_period < as_of]
    done = report_queries.milestone_keys_done([m.key for m in due], up_to=period.key)
    recent = sorted((p for p in tracked if p <= period), reverse=True)[:4]
    paces = [
        pace
        for indicator, by_period in report_queries.indicator_results(task_id, recent)
        if (pace := latest_pace(indicator, by_period, recent)) is not None
    ]
    return delivery_light(len(due), sum(1 for m in due if m.key in done), paces)
