"""Bad plan input: a clear Chinese message beside the field, the input kept, nothing saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.delivery.conftest import plan_form, task
from tracker.delivery.models import DeliveryPlan
from tracker.extensions import db


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("indicators-0-baseline_value", "-1", "基线值应为不小于 0 的数字"),
        ("indicators-0-target_value", "很多", "目标值应为不小于 0 的数字"),
        ("indicators-0-target_value", "1e9", "目标值应为不小于 0 的数字"),
        ("indicators-0-target_value", "9" * 17, "目标值应为不小于 0 的数字"),
        ("indicators-0-baseline_date", "2026-13-01", "日期格式应为 YYYY-MM-DD"),
        ("indicators-0-target_date", "2019-01-01", "目标日期应晚于基线日期"),
        ("indicators-0-target_value", "0", "目标值应高于基线值"),
        ("indicators-0-direction", "sideways", "请从列表中选择方向"),
        ("indicators-0-combine", "median", "请从列表中选择汇总方式"),
        ("indicators-0-departments", ["999999"], "请从列表中选择报送部门"),
        ("indicators-0-unit", "", "请填写单位"),
        # a quarter before the document's start (2019Q3), or garbage, or too far
        ("milestones-0-due_period", "2019Q2", "完成季度须在2019年第三季度（文件的起始季度）至其后"),
        ("milestones-0-due_period", "明年", "完成季度须在2019年第三季度（文件的起始季度）至其后"),
        ("milestones-0-due_period", "2099Q1", "请从列表中选择"),
        ("milestones-0-due_period", "", "请选择完成季度"),
        ("milestones-0-department", "999999", "请从列表中选择责任部门"),
        ("milestones-0-title", "", "请填写节点内容"),
    ],
)
def test_bad_input_is_refused_in_words(client, login, people, field, value, message):
    login(people["lead"])
    data = plan_form(**{field: value})
    response = client.post(f"/delivery/tasks/{task(23).id}/plan", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "完成县级摸底排查" in page or field == "milestones-0-title"  # the input is kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 0


def test_an_empty_plan_is_refused(client, login, people):
    login(people["lead"])
    response = client.post(f"/delivery/tasks/{task(23).id}/plan", data={})
    assert response.status_code == 422
    assert "请至少填写一个节点或一个指标" in response.get_data(as_text=True)


def test_thousands_commas_are_read(client, login, people):
    login(people["lead"])
    data = plan_form(**{"indicators-0-target_value": "2,800"})
    assert client.post(f"/delivery/tasks/{task(23).id}/plan", data=data).status_code == 302
    plan = db.session.scalar(sa.select(DeliveryPlan))
    assert plan.milestones[0].due_period == "2024Q4" and plan.indicators[0].target_value == 2800
