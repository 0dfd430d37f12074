"""An indicator's trajectory: baseline, each tracked quarter's reported value, the planned line
and the target, per reporting department where more than one reports.

The reported value of a quarter is the combined value of the submitted or accepted reports
(:func:`tracker.reports.queries.combined_results`); the planned value is the straight line
from baseline to target read at the quarter's end (:func:`expected_value`, the same line the
suggested delivery light judges against). The page, its chart and the quarterly workbook's
sheet 指标轨迹 all read the figures from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracker.catalogue.models import Department
from tracker.dashboard.delivery_light import expected_value
from tracker.delivery.models import Direction, Indicator
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.queries import IndicatorResult

# The planned value is shown with as many decimals as the values may carry.
PLANNED_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class TrajectoryPoint:
    """One quarter: the combined value, each department's own, and the planned value."""

    period: Period
    combined: Decimal | None
    by_department: dict[int, Decimal]
    planned: Decimal
    reported: int  # how many departments' values make the combined one
    higher: bool  # the indicator's direction: higher is better

    @property
    def on_pace(self) -> bool | None:
        """Whether the combined value is on or beyond the line (None without a value)."""
        if self.combined is None:
            return None
        return self.combined >= self.planned if self.higher else self.combined <= self.planned


@dataclass(frozen=True)
class Trajectory:
    """An indicator across the tracked quarters, oldest first."""

    indicator: Indicator
    points: list[TrajectoryPoint]
    departments: list[Department]  # the reporting departments, when more than one reports

    @property
    def separate(self) -> bool:
        """Whether departments report separately (a column per department)."""
        return len(self.departments) > 1


def planned(indicator: Indicator, period: Period) -> Decimal:
    """The line's value at the end of ``period``, to four decimals."""
    return expected_value(indicator, period.end).quantize(PLANNED_PLACES)


def trajectory(
    indicator: Indicator,
    by_period: dict[str, IndicatorResult],
    periods: list[Period],
    departments: dict[int, Department],
) -> Trajectory:
    """The trajectory over ``periods`` (any order; shown oldest first)."""
    points = []
    for period in sorted(periods):
        result = by_period.get(period.key)
        values = result.values if result is not None else []
        points.append(
            TrajectoryPoint(
                period=period,
                combined=result.combined if result is not None else None,
                by_department=dict(values),
                planned=planned(indicator, period),
                reported=len({d for d, _ in values}),
                higher=indicator.direction == Direction.HIGHER,
            )
        )
    reporting = [departments[d] for d in indicator.department_ids or [] if d in departments]
    return Trajectory(indicator, points, reporting if len(reporting) > 1 else [])


def of_item(task_id: int, indicator: Indicator, departments: dict[int, Department]) -> Trajectory:
    """The indicator's trajectory over every tracked quarter, from the submitted or accepted
    reports of the item (one round trip): what the page and the API show."""
    periods = report_queries.tracked_periods()
    ((_, by_period),) = report_queries.combined_results({task_id}, [indicator], periods)
    return trajectory(indicator, by_period, periods, departments)


def number(value: Decimal | None) -> float | None:
    """A value for the chart (a JSON number), None kept."""
    return None if value is None else float(value)


def chart_data(t: Trajectory) -> dict[str, Any]:
    """The chart's data: x labels (baseline, each quarter, target), the planned line from
    baseline to target, the combined values and, if separate, each department's values."""
    i = t.indicator
    labels = [f"基线 {i.baseline_date.isoformat()}"]
    labels += [p.period.label for p in t.points]
    labels.append(f"目标 {i.target_date.isoformat()}")
    gap: list[float | None] = [None]
    series: list[dict[str, Any]] = [
        {
            "label": "计划（基线至目标直线）",
            "values": [number(i.baseline_value)]
            + [number(p.planned) for p in t.points]
            + [number(i.target_value)],
            "planned": True,
        },
        {
            "label": "合计报送值" if t.separate else "报送值",
            "values": gap + [number(p.combined) for p in t.points] + gap,
            "overall": True,
        },
    ]
    for d in t.departments:
        series.append(
            {
                "label": d.short_name,
                "values": gap + [number(p.by_department.get(d.id)) for p in t.points] + gap,
            }
        )
    return {"kind": "trajectory", "labels": labels, "series": series, "unit": i.unit}
