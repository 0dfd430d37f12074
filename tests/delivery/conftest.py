"""Delivery fixtures: item 23 (民政部 leads, 全国妇联 supports) and item 1 (joint)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracker.catalogue.models import Department, Task
from tracker.extensions import db


def department(code: str) -> Department:
    return db.session.scalar(sa.select(Department).where(Department.code == code))


def task(number: int) -> Task:
    return db.session.scalar(sa.select(Task).where(Task.number == number))


def plan_form(**overrides) -> dict:
    """A valid plan form for item 23: one milestone of 民政部, one indicator both report."""
    mca, acwf = department("mca"), department("acwf")
    data = {
        "milestones-0-title": "完成县级摸底排查",
        "milestones-0-due_period": "2024Q4",
        "milestones-0-department": str(mca.id),
        "indicators-0-name": "已完成摸底排查的县",
        "indicators-0-unit": "个",
        "indicators-0-direction": "higher",
        "indicators-0-baseline_value": "0",
        "indicators-0-baseline_date": "2019-05-01",
        "indicators-0-target_value": "2800",
        "indicators-0-target_date": "2025-12-31",
        "indicators-0-combine": "sum",
        "indicators-0-departments": [str(mca.id), str(acwf.id)],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def people(seeded, make_user):
    return {
        "lead": make_user("liaison", "mca"),
        "support": make_user("liaison", "acwf"),
        "other": make_user("liaison", "mohrss"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "viewer": make_user("viewer", "mca"),
    }
