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
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tracker.catalogue.models import Department
from tracker.dashboard.delivery_light import expected_value
from tracker.delivery.models import Direction, Indicator
from tracker.periods import Period
from tracker.reports import queries as report_queries
from tracker.reports.queries import IndicatorResult

# The planned value is computed to as many decimals as the values may carry (what the API
# gives); the page, the chart and the workbook show it at the indicator's precision (places).
PLANNED_PLACES = Decimal("0.0001")
MAX_PLACES = 4
# Units that count whole things (people, counties, households…): whole numbers when the
# baseline and the target are whole. Shares: one decimal at least. Anything else (amounts,
# 万人, 公里): two.
COUNT_UNITS = frozenset(
    {"人", "个", "县", "户", "家", "所", "名", "次", "件", "项", "座", "张", "套", "间", "处",
     "条", "份", "场", "批", "人次", "户次", "个县", "个村", "村", "乡镇"}
)  # fmt: skip
SHARE_UNITS = frozenset({"%", "％", "‰", "百分比", "百分点"})


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

    @property
    def places(self) -> int:
        """The decimals the planned values are shown with (:func:`places`)."""
        return places(self.indicator)

    def shown(self, value: Decimal | None, *, exact: bool = True) -> str:
        """A value of this indicator as the page shows it (:func:`shown`)."""
        return shown(value, self.places, exact=exact)


def decimals(value: Decimal) -> int:
    """How many decimals ``value`` carries once trailing zeros are dropped (100 → 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def places(indicator: Indicator) -> int:
    """The decimals an indicator's planned values are shown with: the most its baseline or
    target carries, at least 0 for a count (人, 个, 县…), 1 for a share (%, ‰, …率), 2 for
    anything else, at most 4."""
    given = max(
        decimals(Decimal(indicator.baseline_value)), decimals(Decimal(indicator.target_value))
    )
    unit = (indicator.unit or "").strip()
    if unit in COUNT_UNITS:
        least = 0
    elif unit in SHARE_UNITS or unit.endswith("率"):
        least = 1
    else:
        least = 2
    return min(max(given, least), MAX_PLACES)


def rounded(value: Decimal, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals (5,133,922.9311 → 5,133,923 at 0)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def shown(value: Decimal | None, places: int, *, exact: bool = False) -> str:
    """A value as the page shows it, with thousands separators: a planned value rounded to
    ``places``; an ``exact`` one (reported, baseline, target) with every decimal it has and
    at least ``places`` (— for None)."""
    if value is None:
        return "—"
    value = Decimal(value)
    if exact:
        return f"{value:,.{max(places, decimals(value))}f}"
    return f"{rounded(value, places):,f}"


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


EPOCH = date(1970, 1, 1)


def day(on: date) -> int:
    """A date as the chart's x value: days since 1970-01-01."""
    return (on - EPOCH).days


def year_ticks(first: date, last: date) -> list[dict[str, Any]]:
    """The x axis' ticks: 1 January of each year after ``first`` up to ``last``; over less
    than two years, the first day of each quarter instead (1 April is 2024年第二季度)."""
    years = [
        {"value": day(date(year, 1, 1)), "label": f"{year}年"}
        for year in range(first.year + 1, last.year + 1)
    ]
    if len(years) >= 2:
        return years
    quarters = Period.range(Period.containing(first), Period.containing(last))
    return [{"value": day(q.start), "label": q.label} for q in quarters if first < q.start <= last]


def chart_data(t: Trajectory) -> dict[str, Any]:
    """The chart's data: each point's date on a linear day axis (the baseline on its date,
    each quarter at its end, the target on its date) and its label, the planned line from
    baseline to target (rounded as the table shows it), the combined values and, if separate,
    each department's values.

    The axis is linear in days, not a category per point: the baseline and target dates are
    no quarters and years lie between them and the tracked quarters, so equal steps would bend
    the straight planned line and squeeze the years. Chart.js's time scale needs a date
    adapter the vendored build does not have; a linear scale over day numbers, ticked at each
    1 January, needs none.
    """
    i = t.indicator
    dates = [i.baseline_date, *(p.period.end for p in t.points), i.target_date]
    labels = [f"基线 {i.baseline_date.isoformat()}"]
    labels += [p.period.label for p in t.points]
    labels.append(f"目标 {i.target_date.isoformat()}")
    gap: list[float | None] = [None]
    places = t.places
    series: list[dict[str, Any]] = [
        {
            "label": "计划（基线至目标直线）",
            "values": [number(i.baseline_value)]
            + [number(rounded(p.planned, places)) for p in t.points]
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
    return {
        "kind": "trajectory",
        "labels": labels,
        "x": [day(on) for on in dates],
        "ticks": year_ticks(dates[0], dates[-1]),
        "series": series,
        "unit": i.unit,
        "places": places,
    }
