"""Reads of the county ledger: counties, accounts' scope, the indicators counties report,
the counts of a quarter with their completeness, and totals above county level.

Aggregates are computed in SQL (``GROUP BY``), a fixed number of queries whatever the number
of counties. :func:`province_totals` is what the cascade feeds into a province's report up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from tracker import clock
from tracker.auth.models import User, UserRole
from tracker.catalogue.models import Department, Task
from tracker.counties.counts import counts_counties, yes_no_question
from tracker.counties.models import County, CountyAccount, CountyValue
from tracker.delivery.models import DeliveryPlan, Indicator, PlanState
from tracker.extensions import db
from tracker.periods import Period


def all_counties() -> list[County]:
    """Every county of the instance, by prefecture and code."""
    return list(db.session.scalars(sa.select(County).order_by(County.code)))


def county_count() -> int:
    """How many counties the instance's list holds."""
    return int(db.session.scalar(sa.select(sa.func.count(County.id))) or 0)


def county(county_id: int) -> County | None:
    return db.session.get(County, county_id)


def counties_by_code() -> dict[str, County]:
    return {c.code: c for c in all_counties()}


def scope_of(user: User) -> int | None:
    """The county a county account is given (its whole scope), or None."""
    if user.role != UserRole.COUNTY:
        return None
    return db.session.scalar(
        sa.select(CountyAccount.county_id).where(CountyAccount.user_id == user.id)
    )


def county_accounts() -> list[tuple[User, County | None]]:
    """Every account with the county role, with the county it is given (None: not yet)."""
    rows = db.session.execute(
        sa.select(User, County)
        .outerjoin(CountyAccount, CountyAccount.user_id == User.id)
        .outerjoin(County, County.id == CountyAccount.county_id)
        .where(User.role == UserRole.COUNTY)
        .order_by(User.username)
    )
    return [(user, found) for user, found in rows]


@dataclass(frozen=True)
class CountyIndicator:
    """An indicator counties report: its stable key, name and unit, and its item."""

    key: str
    name: str
    unit: str
    item: str  # 第23项

    @property
    def yes_no(self) -> bool:
        """Whether the indicator counts counties (已完成摸底排查的县, unit 个 or 县): one county
        answers it 是 or 否, stored as the count 1 or 0, so that the counties' values sum
        to how many counties there are (:func:`tracker.counties.counts.counts_counties`)."""
        return counts_counties(self.name, self.unit)

    @property
    def question(self) -> str:
        """The indicator as one county's yes/no question: 本县是否已完成摸底排查."""
        return yes_no_question(self.name)


def county_indicators() -> list[CountyIndicator]:
    """The indicators of plans in force that the configured county department
    (``TRACKER_COUNTY_DEPARTMENT``, a department code) reports: what every county reports too,
    as counts. One per key (the first plan in force naming it), in the items' order."""
    code = current_app.config["TRACKER_COUNTY_DEPARTMENT"]
    department_id = db.session.scalar(sa.select(Department.id).where(Department.code == code))
    if department_id is None:
        return []
    rows = db.session.execute(
        sa.select(Indicator, Task.number)
        .join(DeliveryPlan, Indicator.plan_id == DeliveryPlan.id)
        .join(Task, DeliveryPlan.task_id == Task.id)
        .where(DeliveryPlan.state == PlanState.APPROVED)
        .order_by(Task.document_id, Task.number, DeliveryPlan.department_id, Indicator.position)
    )
    found: dict[str, CountyIndicator] = {}
    for indicator, number in rows:
        if department_id in (indicator.department_ids or []) and indicator.key not in found:
            found[indicator.key] = CountyIndicator(
                indicator.key, indicator.name, indicator.unit, f"第{number}项"
            )
    return list(found.values())


def values_of_county(county_id: int, period: Period) -> dict[str, int]:
    """One county's counts of a quarter, by indicator key."""
    rows = db.session.execute(
        sa.select(CountyValue.indicator_key, CountyValue.value).where(
            CountyValue.county_id == county_id, CountyValue.period == period.key
        )
    )
    return {key: value for key, value in rows}


def values_of_quarter(period: Period) -> dict[tuple[int, str], int]:
    """Every county's counts of a quarter, by (county id, indicator key): one read by the
    quarter's own index (``ix_county_value_period_indicator``, which covers the three
    columns), whatever the number of quarters held."""
    rows = db.session.execute(
        sa.select(CountyValue.county_id, CountyValue.indicator_key, CountyValue.value).where(
            CountyValue.period == period.key
        )
    )
    return {(county_id, key): value for county_id, key, value in rows}


@dataclass
class Completeness:
    """How many counties reported one indicator in a quarter, and which did not."""

    reported: int
    missing: list[County] = field(default_factory=list)
    total: int = 0  # exact sum over the counties that reported


def completeness(
    period: Period, indicators: list[CountyIndicator], counties: list[County]
) -> tuple[dict[tuple[int, str], int], dict[str, Completeness]]:
    """The quarter's values and, per indicator, reported / missing counties and the sum: one
    pass over the counties per indicator (each county's id read once, not per indicator)."""
    values = values_of_quarter(period)
    ids = [(c, c.id) for c in counties]
    result = {}
    for indicator in indicators:
        key, reported, total, missing = indicator.key, 0, 0, []
        for county_row, county_id in ids:
            value = values.get((county_id, key))
            if value is None:
                missing.append(county_row)
            else:
                reported += 1
                total += value
        result[key] = Completeness(reported=reported, missing=missing, total=total)
    return values, result


@dataclass(frozen=True)
class CountyTotal:
    """The exact sum of one indicator over the counties that reported it in one quarter."""

    total: int
    counties_reporting: int


def province_totals(
    periods: Iterable[Period | str], indicator_keys: Iterable[str] | None = None
) -> dict[tuple[str, str], CountyTotal]:
    """Per (indicator key, quarter key): the exact total over the counties and how many
    counties reported, in one ``GROUP BY`` query. Pairs no county reported are absent.

    Exact on purpose: this is what a province sends up (the receiving level applies its own
    small-count rule when it shows figures); nothing here is suppressed.
    """
    keys = [p.key if isinstance(p, Period) else Period.parse(p).key for p in periods]
    query = (
        sa.select(
            CountyValue.indicator_key,
            CountyValue.period,
            sa.func.sum(CountyValue.value),
            sa.func.count(CountyValue.county_id),
        )
        .where(CountyValue.period.in_(keys))
        .group_by(CountyValue.indicator_key, CountyValue.period)
    )
    if indicator_keys is not None:
        query = query.where(CountyValue.indicator_key.in_(list(indicator_keys)))
    return {
        (key, period): CountyTotal(int(total), int(reporting))
        for key, period, total, reporting in db.session.execute(query)
    }


NO_PREFECTURE = "（未填地市）"


def prefecture_totals(period: Period) -> dict[tuple[str, str], CountyTotal]:
    """Per (prefecture, indicator key): the exact sum and how many counties reported."""
    prefecture = sa.func.coalesce(County.prefecture, NO_PREFECTURE)
    rows = db.session.execute(
        sa.select(
            prefecture,
            CountyValue.indicator_key,
            sa.func.sum(CountyValue.value),
            sa.func.count(CountyValue.county_id),
        )
        .join(County, County.id == CountyValue.county_id)
        .where(CountyValue.period == period.key)
        .group_by(prefecture, CountyValue.indicator_key)
    )
    return {(p, key): CountyTotal(int(t), int(n)) for p, key, t, n in rows}


def prefectures() -> list[tuple[str, int]]:
    """Every prefecture (blank ones under one heading) and how many counties it has, in the
    order of the division codes (a prefecture where its first county is: 石家庄市 130102,
    辛集市 130181, 唐山市 130202 …), as official tables list them."""
    prefecture = sa.func.coalesce(County.prefecture, NO_PREFECTURE)
    rows = db.session.execute(
        sa.select(prefecture, sa.func.count(County.id))
        .group_by(prefecture)
        .order_by(sa.func.min(County.code), prefecture)
    )
    return [(name, int(count)) for name, count in rows]


def default_period() -> Period:
    """The quarter the counties report now: the one before today's quarter in Beijing."""
    return Period.containing(clock.local_today()).previous()


def latest_period() -> Period:
    """The last quarter a county may report: today's (in Beijing)."""
    return Period.containing(clock.local_today())
