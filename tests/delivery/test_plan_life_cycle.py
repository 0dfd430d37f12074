"""A plan's life cycle on the pages: propose → return → resubmit → approve → change → approve."""

from __future__ import annotations

import sqlalchemy as sa

from tests.delivery.conftest import plan_form, task
from tracker.audit.models import AuditEvent
from tracker.delivery import queries
from tracker.delivery.models import DeliveryPlan, PlanState
from tracker.extensions import db


def _versions(task_id):
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(DeliveryPlan)
            .where(DeliveryPlan.task_id == task_id)
            .order_by(DeliveryPlan.number)
        )
    )


def test_propose_return_resubmit_approve_change_approve(client, login, people):
    item = task(23)
    login(people["lead"])
    response = client.post(f"/delivery/tasks/{item.id}/plan", data=plan_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    (v1,) = _versions(item.id)
    assert (v1.number, v1.state) == (1, PlanState.PROPOSED)
    assert [m.title for m in v1.milestones] == ["完成县级摸底排查"]
    assert v1.indicators[0].department_ids == sorted(v1.indicators[0].department_ids)

    login(people["coordinator"])
    response = client.post(f"/delivery/plans/{v1.id}/return", data={"reason": ""})
    assert response.status_code == 422
    assert "请填写退回理由" in response.get_data(as_text=True)
    assert _versions(item.id)[0].state == PlanState.PROPOSED
    response = client.post(f"/delivery/plans/{v1.id}/return", data={"reason": "目标值偏低"})
    assert response.status_code == 302
    assert _versions(item.id)[0].state == PlanState.RETURNED

    login(people["lead"])
    page = client.get(f"/delivery/tasks/{item.id}/plan").get_data(as_text=True)
    assert "目标值偏低" in page and "完成县级摸底排查" in page  # prefilled from the returned
    response = client.post(
        f"/delivery/tasks/{item.id}/plan", data=plan_form(**{"indicators-0-target_value": "2850"})
    )
    assert response.status_code == 302
    (v1,) = _versions(item.id)  # resubmitted in place: still version 1
    assert v1.state == PlanState.PROPOSED and v1.return_reason is None
    assert v1.indicators[0].target_value == 2850
    key = v1.indicators[0].key

    login(people["coordinator"])
    assert client.post(f"/delivery/plans/{v1.id}/approve").status_code == 302
    assert _versions(item.id)[0].state == PlanState.APPROVED
    # approving twice is refused with a message, not a 500
    assert client.post(f"/delivery/plans/{v1.id}/approve").status_code == 422

    login(people["lead"])
    change = plan_form(**{"indicators-0-key": key, "indicators-0-target_value": "2900"})
    response = client.post(f"/delivery/tasks/{item.id}/plan", data=change)
    assert response.status_code == 422
    assert "变更须填写变更理由" in response.get_data(as_text=True)
    assert len(_versions(item.id)) == 1
    change["change_reason"] = "国家统计口径调整"
    assert client.post(f"/delivery/tasks/{item.id}/plan", data=change).status_code == 302
    v1, v2 = _versions(item.id)
    assert (v1.state, v2.state, v2.number) == (PlanState.APPROVED, PlanState.PROPOSED, 2)
    assert v2.change_reason == "国家统计口径调整"
    assert v2.indicators[0].key == key  # the indicator is the same one across versions
    assert queries.approved_plan(item.id, v1.department_id).id == v1.id  # v1 still in force

    login(people["coordinator"])
    assert client.post(f"/delivery/plans/{v2.id}/approve").status_code == 302
    v1, v2 = _versions(item.id)
    assert (v1.state, v2.state) == (PlanState.SUPERSEDED, PlanState.APPROVED)
    page = client.get(f"/delivery/tasks/{item.id}").get_data(as_text=True)
    assert "国家统计口径调整" in page and "目标值偏低" not in page.split("版本记录")[0]
    assert "已被新版本替代" in page

    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.object_type == "delivery_plan")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "plan.propose", "plan.return", "plan.resubmit", "plan.approve", "plan.change",
        "plan.approve",
    ]  # fmt: skip


def test_a_forged_key_gets_a_new_one(client, login, people):
    item = task(23)
    login(people["lead"])
    client.post(f"/delivery/tasks/{item.id}/plan", data=plan_form(**{"indicators-0-key": "forged"}))
    (v1,) = _versions(item.id)
    assert v1.indicators[0].key != "forged" and len(v1.indicators[0].key) == 16


def test_a_joint_department_proposes_its_own_share_only(client, login, people, make_user):
    from tests.delivery.conftest import department

    item = task(1)  # 民政部、国务院妇儿工委办公室、全国妇联 按照职责分工负责
    login(people["support"])  # 全国妇联 is joint on item 1
    acwf, mca = department("acwf"), department("mca")
    data = plan_form(**{"milestones-0-department": str(mca.id),
                        "indicators-0-departments": [str(acwf.id)]})  # fmt: skip
    response = client.post(f"/delivery/tasks/{item.id}/plan", data=data)
    assert response.status_code == 422  # 民政部 is not offered on 全国妇联's share
    assert _versions(item.id) == []
    data["milestones-0-department"] = str(acwf.id)
    assert client.post(f"/delivery/tasks/{item.id}/plan", data=data).status_code == 302
    (plan,) = _versions(item.id)
    assert plan.department_id == acwf.id


def test_a_supporting_department_proposes_nothing(client, login, people):
    item = task(23)
    login(people["support"])
    assert client.get(f"/delivery/tasks/{item.id}/plan").status_code == 403
    assert client.post(f"/delivery/tasks/{item.id}/plan", data=plan_form()).status_code == 403
    assert _versions(item.id) == []
