"""The plan's rules are the domain's: the service refuses what the form refuses, by field."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.delivery.conftest import department, indicator, milestone, task
from tracker.delivery import services
from tracker.delivery.models import DeliveryPlan
from tracker.errors import Invalid
from tracker.extensions import db


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"milestone": {"due_period": "2019Q2"}},
            "milestones-0-due_period",
            "不能早于文件的起始季度",
        ),
        ({"milestone": {"due_period": "明年"}}, "milestones-0-due_period", "请选择完成季度"),
        ({"milestone": {"due_period": "2099Q1"}}, "milestones-0-due_period", "10 年内"),
        ({"milestone": {"title": "  "}}, "milestones-0-title", "请填写节点内容"),
        ({"indicator": {"baseline_value": Decimal(-1)}}, "indicators-0-baseline_value", "不小于 0"),
        (
            {"indicator": {"target_value": Decimal("1.00001")}},
            "indicators-0-target_value",
            "4 位小数",
        ),
        ({"indicator": {"target_value": Decimal("1e15")}}, "indicators-0-target_value", "不小于 0"),
        ({"indicator": {"target_value": Decimal(0)}}, "indicators-0-target_value", "应高于基线值"),
        ({"indicator": {"unit": ""}}, "indicators-0-unit", "请填写单位"),
        ({"indicator": {"department_ids": []}}, "indicators-0-department_ids", "报送部门"),
    ],
)
def test_the_service_refuses_a_bad_plan_naming_the_field(people, change, field, message):
    m = dataclasses.replace(
        milestone("完成县级摸底排查", "2024Q4", "mca"), **change.get("milestone", {})
    )
    i = dataclasses.replace(
        indicator("已完成摸底排查的县", "sum", ["mca"]), **change.get("indicator", {})
    )
    data = services.PlanInput(milestones=[m], indicators=[i])
    with pytest.raises(Invalid) as refused:
        services.propose_plan(task(23), department("mca"), data, actor=people["lead"])
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 0
