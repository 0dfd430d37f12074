"""County ledger fixtures: item 23's seeded ledger indicators (民政部 reports them, so the
counties do), five counties in two prefectures, a coordinator, an admin, two county accounts."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from tracker import resources
from tracker.counties import queries, services
from tracker.counties.models import County
from tracker.counties.sheets import CountyRow
from tracker.extensions import db

COUNTIES = [
    CountyRow("130102", "长安区", "石家庄市"),
    CountyRow("130104", "桥西区", "石家庄市"),
    CountyRow("130105", "新华区", "石家庄市"),
    CountyRow("130202", "路南区", "唐山市"),
    CountyRow("130203", "路北区", "唐山市"),
]


def county(code: str) -> County:
    return db.session.scalar(sa.select(County).where(County.code == code))


@pytest.fixture
def ledger(seeded, make_user):
    """The world of a provincial ledger, committed."""
    return build_ledger(make_user)


def build_ledger(make_user) -> dict:
    """Item 23's seeded plan, the five counties, and the people (after ``seeded``)."""
    from tracker.delivery.seed import apply_delivery_seed

    apply_delivery_seed(resources.seed_file())
    services.import_counties(COUNTIES, actor=None)
    db.session.commit()
    people = {
        "coordinator": make_user("coordinator", "mca"),
        "admin": make_user("admin"),
        "leader": make_user("viewer"),
        "liaison": make_user("liaison", "mca"),
        "chang_an": make_user("county", display_name="长安区填报员"),
        "lu_nan": make_user("county", display_name="路南区填报员"),
    }
    services.assign_county(people["chang_an"], county("130102"), actor=people["admin"])
    services.assign_county(people["lu_nan"], county("130202"), actor=people["admin"])
    db.session.commit()
    indicators = queries.county_indicators()
    assert len(indicators) == 5
    return {"people": people, "indicators": indicators, "period": queries.default_period()}


def values_form(indicators, **by_position) -> dict[str, str]:
    """A county values form: ``v0="12"`` is the first indicator's text."""
    return {f"v_{i.key}": by_position.get(f"v{n}", "") for n, i in enumerate(indicators)}


def workbook_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
