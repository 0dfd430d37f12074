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


def approved_plan(number: int, code: str, *, indicators=(), milestones=(), people=None):
    """Propose and approve a plan of department ``code`` on item ``number`` (committed)."""
    from tracker.delivery import services

    data = services.PlanInput(milestones=list(milestones), indicators=list(indicators))
    plan = services.propose_plan(task(number), department(code), data, actor=people["lead"])
    services.approve_plan(plan, actor=people["coordinator"])
    db.session.commit()
    return plan


def indicator(name: str, combine: str, codes: list[str], unit: str = "个"):
    import datetime as dt
    from decimal import Decimal

    from tracker.delivery.models import Combine, Direction
    from tracker.delivery.services import IndicatorInput

    return IndicatorInput(
        name, unit, Direction.HIGHER, Decimal(0), dt.date(2019, 5, 1), Decimal(100),
        dt.date(2027, 12, 31), Combine(combine), [department(c).id for c in codes],
    )  # fmt: skip


def milestone(title: str, due: str, code: str):
    from tracker.delivery.services import MilestoneInput

    return MilestoneInput(title, due, department(code).id)


def report_form(**extra) -> dict:
    """A report form ready to submit (status and progress filled)."""
    return {"status": "in_progress", "progress": "按计划推进", "problems": "", "practices": "",
            "suggestions": "", "next_steps": "", **extra}  # fmt: skip
