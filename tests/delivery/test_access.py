"""Who sees which plan: the own department while unapproved, coordinators all, leaders and
the item's other departments only what is approved."""

from __future__ import annotations

import sqlalchemy as sa

from tests.delivery.conftest import plan_form, task
from tracker.delivery.models import DeliveryPlan
from tracker.extensions import db


def _propose(client, login, people):
    login(people["lead"])
    assert client.post(f"/delivery/tasks/{task(23).id}/plan", data=plan_form()).status_code == 302
    return db.session.scalar(sa.select(DeliveryPlan))


def _sees_plan(client, login, user) -> bool:
    login(user)
    response = client.get(f"/delivery/tasks/{task(23).id}")
    assert response.status_code == 200
    return "完成县级摸底排查" in response.get_data(as_text=True)


def test_an_unapproved_plan_is_seen_by_its_department_and_coordinators_only(client, login, people):
    plan = _propose(client, login, people)
    assert _sees_plan(client, login, people["lead"])
    assert _sees_plan(client, login, people["viewer"])  # 民政部's own viewer
    assert _sees_plan(client, login, people["coordinator"])
    assert not _sees_plan(client, login, people["support"])  # 全国妇联, on the item
    assert not _sees_plan(client, login, people["leader"])
    login(people["support"])
    assert "完成县级摸底排查" not in client.get("/delivery").get_data(as_text=True)
    login(people["coordinator"])
    index = client.get("/delivery").get_data(as_text=True)
    assert f'data-plan="{plan.id}"' in index
    assert client.post(f"/delivery/plans/{plan.id}/approve").status_code == 302
    assert _sees_plan(client, login, people["support"])
    assert _sees_plan(client, login, people["leader"])


def test_a_department_not_on_the_item_is_refused(client, login, people):
    _propose(client, login, people)
    login(people["other"])  # 人社部 has no part in item 23
    assert client.get(f"/delivery/tasks/{task(23).id}").status_code == 403
    assert client.get(f"/delivery/tasks/{task(23).id}/plan").status_code == 403


def test_only_coordinators_decide(client, login, people):
    plan = _propose(client, login, people)
    for who in ("lead", "support", "leader", "viewer"):
        login(people[who])
        assert client.post(f"/delivery/plans/{plan.id}/approve").status_code == 403
        assert (
            client.post(f"/delivery/plans/{plan.id}/return", data={"reason": "x"}).status_code
            == 403
        )
    db.session.expire_all()
    assert plan.state.value == "proposed"


def test_leaders_and_viewers_propose_nothing(client, login, people):
    for who in ("leader", "viewer", "coordinator"):
        login(people[who])
        response = client.post(f"/delivery/tasks/{task(23).id}/plan", data=plan_form())
        assert response.status_code == 403, who
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 0
