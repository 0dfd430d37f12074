"""Cascade fixtures: a centre (the seed document with item 23's plan and a milestone), a
registered province, and a provincial instance that adopted the centre's export."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import _empty_tables
from tracker import resources
from tracker.catalogue.models import Department, PolicyDocument, Task
from tracker.delivery.models import DeliveryPlan, Milestone
from tracker.delivery.seed import apply_delivery_seed
from tracker.extensions import db
from tracker.federation import queries, services, wire

SEED_NUMBER = "民发〔2019〕86号"
PROVINCE = {"code": "130000", "name": "河北省", "level": "provincial"}


def seed_document() -> PolicyDocument:
    return db.session.scalar(sa.select(PolicyDocument).where(PolicyDocument.number == SEED_NUMBER))


def with_plans() -> None:
    """Item 23's seeded plan (five indicators), plus one milestone of 民政部."""
    apply_delivery_seed(resources.seed_file())
    plan = db.session.scalar(sa.select(DeliveryPlan))
    mca = db.session.scalar(sa.select(Department).where(Department.code == "mca"))
    plan.milestones.append(
        Milestone(key="m-ledger", position=0, title="完成县级摸底排查", due_period="2024Q3",
                  department_id=mca.id)
    )  # fmt: skip
    db.session.commit()


@pytest.fixture
def centre(seeded):
    """The centre's seed document with plans; returns its export."""
    with_plans()
    return queries.export_document(seed_document())


@pytest.fixture
def member(centre):
    """河北省 registered at the centre: (row, token)."""
    row, token = services.add_member(PROVINCE["code"], PROVINCE["name"], "provincial", actor=None)
    db.session.commit()
    return row, token


def rollup_body(revision: int = 1, *, value: str = "120", code: str = "130000", **extra) -> dict:
    """A valid roll-up of item 23 for 2024Q3."""
    indicator = next(
        i["key"] for p in queries.export_document(seed_document())["plans"] for i in p["indicators"]
    )
    body = {
        "format": wire.ROLLUP_FORMAT,
        "instance": {**PROVINCE, "code": code},
        "document_number": SEED_NUMBER,
        "period": "2024Q3",
        "revision": revision,
        "submitted_at": "2024-10-12T02:00:00+00:00",
        "items": [
            {"item_number": 23, "narrative": "全省完成摸底排查。",
             "milestones": [{"key": "m-ledger", "status": "done", "note": ""}],
             "indicators": [{"key": indicator, "value": value}], "units_reporting": 2}
        ],
    }  # fmt: skip
    body.update(extra)
    return body


def post_rollup(client, token: str, body: dict | bytes, *, now: float | None = None,
                code: str = "130000", signature: str | None = None):  # fmt: skip
    """POST a roll-up signed as the sender would."""
    data = body if isinstance(body, bytes) else wire.canonical(body)
    headers = wire.signed_headers(token, code, data, time.time() if now is None else now)
    if signature is not None:
        headers[wire.SIGNATURE_HEADER] = signature
    return client.post("/api/v1/federation/rollups", data=data, headers=headers)


PROVINCIAL_DEPARTMENTS = [
    ("hb-mca", "河北省民政厅", "省民政厅"),
    ("hb-acwf", "河北省妇女联合会", "省妇联"),
    ("hb-mps", "河北省公安厅", "省公安厅"),
]


@pytest.fixture
def provincial(app, monkeypatch):
    """This app as 河北省's instance, its upstream configured."""
    for key, value in {
        "TRACKER_INSTANCE_LEVEL": "provincial",
        "TRACKER_INSTANCE_CODE": "130000",
        "TRACKER_INSTANCE_NAME": "河北省",
        "TRACKER_UPSTREAM_URL": "http://127.0.0.1:9",
        "TRACKER_UPSTREAM_TOKEN": "fed_x_y",
        "TRACKER_FIRST_PERIOD": "2024Q3",
    }.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def province(centre, provincial):
    """A provincial database: its own departments, and the centre's export adopted."""
    _empty_tables()
    db.session.remove()
    for n, (code, name, short) in enumerate(PROVINCIAL_DEPARTMENTS):
        db.session.add(Department(code=code, name=name, short_name=short, position=n))
    db.session.flush()
    adoption = services.adopt(services.read_export(centre), actor=None)
    db.session.commit()
    return adoption


def department(code: str) -> Department:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def local_task(number: int) -> Task:
    return db.session.scalar(sa.select(Task).where(Task.number == number))


__all__ = ["Decimal"]
