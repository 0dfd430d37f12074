"""Writes of the county ledger: the county list, the county accounts' scope and the counts.

Every write is audited; services flush and never commit (the request or command commits).
Every county input passes the personal-data guard, here as well as in forms and files.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from tracker.audit.services import record_event
from tracker.auth.models import User, UserRole
from tracker.counties import queries
from tracker.counties.counts import MAX_COUNT, YES_NO_PROBLEM
from tracker.counties.models import County, CountyAccount, CountyValue
from tracker.counties.sheets import CountyRow, FileRefused
from tracker.errors import Invalid, NotAllowed
from tracker.extensions import db
from tracker.periods import Period
from tracker.privacy import check_text


def import_counties(rows: list[CountyRow], *, actor: User | None) -> tuple[int, int, int]:
    """Add the file's new counties and update the names and prefectures of known ones (by
    code); counties missing from the file are kept. Idempotent: (added, changed, unchanged)."""
    problems = [p for row in rows for p in _row_problems(row)]
    if problems:
        raise FileRefused(problems)
    known = queries.counties_by_code()
    added = changed = unchanged = 0
    for row in rows:
        found = known.get(row.code)
        if found is None:
            found = County(code=row.code, name=row.name, prefecture=row.prefecture)
            db.session.add(found)
            record_event("county.create", found, actor=actor, after=_county_state(found))
            added += 1
        elif (found.name, found.prefecture) != (row.name, row.prefecture):
            before = _county_state(found)
            found.name, found.prefecture = row.name, row.prefecture
            record_event("county.update", found, actor=actor, before=before,
                         after=_county_state(found))  # fmt: skip
            changed += 1
        else:
            unchanged += 1
    db.session.flush()
    return added, changed, unchanged


def _row_problems(row: CountyRow) -> list[str]:
    # The same checks as the file reader, for callers that build rows themselves.
    problems = []
    if len(row.code) != 6 or not row.code.isascii() or not row.code.isdigit():
        problems.append(f"区划代码“{row.code}”应为 6 位数字")
    for label, text in (("名称", row.name), ("地市", row.prefecture)):
        refusal = check_text(label, text)
        if refusal:
            problems.append(refusal)
    return problems


def _county_state(county: County) -> dict[str, str | None]:
    return {"code": county.code, "name": county.name, "prefecture": county.prefecture}


def assign_county(user: User, county: County | None, *, actor: User) -> None:
    """Give a county account its county (None: take it away). Only accounts with the county
    role have a county scope, and each at most one county."""
    if user.role != UserRole.COUNTY:
        raise Invalid(f"只有“{UserRole.COUNTY.label}”角色的账号可以指定县。", field="user")
    row = db.session.get(CountyAccount, user.id)
    before = {"county": row.county.code if row else None}
    if county is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(CountyAccount(user_id=user.id, county_id=county.id))
    else:
        row.county_id = county.id
    db.session.flush()
    record_event("county.assign", user, actor=actor, object_type="user", before=before,
                 after={"county": county.code if county else None})  # fmt: skip


def set_county_values(
    county: County,
    period: Period,
    values: Mapping[str, int | None],
    *,
    actor: User,
    source: str = "form",
) -> int:
    """Store a county's counts of a quarter (None: the value is taken away), for the
    indicators counties report; audited with the values before and after. How many changed.

    A county account writes its own county only (also checked here, not only in the view).
    """
    scope = queries.scope_of(actor)
    if actor.role == UserRole.COUNTY and scope != county.id:
        raise NotAllowed("只能填报本县的数据。")
    if period > queries.latest_period():
        raise Invalid(f"{period.label}尚未开始，不能填报。", field="period")
    indicators = {i.key: i for i in queries.county_indicators()}
    unknown = sorted(set(values) - set(indicators))
    if unknown:
        raise Invalid(f"不是县级填报的指标：{'、'.join(unknown)}")
    for key, value in values.items():
        if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_COUNT):
            raise Invalid("只能填写 0 或正整数", field=f"v_{key}")
        if value is not None and indicators[key].yes_no and value not in (0, 1):
            raise Invalid(f"{indicators[key].question}：{YES_NO_PROBLEM}", field=f"v_{key}")
    rows = {
        row.indicator_key: row
        for row in db.session.scalars(
            sa.select(CountyValue).where(
                CountyValue.county_id == county.id, CountyValue.period == period.key
            )
        )
    }
    before, after = {}, {}
    for key, value in values.items():
        row = rows.get(key)
        old = row.value if row is not None else None
        if old == value:
            continue
        before[key], after[key] = old, value
        if value is None:
            assert row is not None
            db.session.delete(row)
        elif row is None:
            db.session.add(
                CountyValue(county_id=county.id, indicator_key=key, period=period.key,
                            value=value, source=source, entered_by_id=actor.id)
            )  # fmt: skip
        else:
            row.value, row.source, row.entered_by_id = value, source, actor.id
    if after:
        db.session.flush()
        record_event("county.values", county, actor=actor,
                     before={"period": period.key, "values": before},
                     after={"period": period.key, "source": source, "values": after})  # fmt: skip
    return len(after)


def apply_template(
    period: Period, parsed: dict[int, dict[str, int]], *, actor: User
) -> tuple[int, int]:
    """Store an uploaded template's counts (blank cells keep what is stored): how many
    counties and values changed. Only a province's coordinator uploads a template."""
    if actor.role != UserRole.COORDINATOR:
        raise NotAllowed("只有督办协调员可以上传县级台账模板。")
    counties = {c.id: c for c in queries.all_counties()}
    changed_counties = changed_values = 0
    for county_id, values in parsed.items():
        changed = set_county_values(
            counties[county_id], period, values, actor=actor, source="template"
        )
        if changed:
            changed_counties += 1
            changed_values += changed
    return changed_counties, changed_values
