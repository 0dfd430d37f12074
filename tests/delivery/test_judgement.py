"""The coordinator's delivery judgement: who judges, the reason, the trend, snapshots, the
matrix and the lead-department view."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import QueryCounter
from tests.delivery.conftest import approved_plan, milestone, report_form, task
from tracker.audit.models import AuditEvent
from tracker.dashboard import services as dashboard_services
from tracker.dashboard.queries.cache import answer_cache
from tracker.dashboard.queries.delivery import item_deliveries
from tracker.dashboard.queries.grid import Change
from tracker.delivery.models import DeliveryJudgement, DeliveryStep
from tracker.extensions import db
from tracker.periods import Period

Q3 = Period(2024, 3)


def _behind_plan(people):
    """Item 23's plan with one milestone overdue (2024Q2, not done): the suggestion is red,
    明显滞后."""
    return approved_plan(23, "mca", people=people, milestones=[
        milestone("完成县级摸底排查", "2024Q2", "mca"),
    ])  # fmt: skip


def _judge(client, item_id, step, reason="", period="2024Q3", revision=""):
    return client.post(
        f"/dashboard/items/{item_id}/judgement",
        data={"period": period, "step": step, "reason": reason, "revision": revision},
    )


def _judgements():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(DeliveryJudgement)))


def test_only_a_coordinator_judges(client, login, quarter, people, make_user):
    _behind_plan(people)
    item = task(23)
    for who in (people["lead"], people["leader"], people["viewer"], make_user("admin")):
        login(who)
        assert _judge(client, item.id, "behind").status_code == 403
    assert _judgements() == []
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert 'id="delivery-judgement"' in page and 'data-suggested="behind"' in page
    login(people["lead"])
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert 'id="delivery-judgement"' not in page  # no form for a liaison


def test_a_judgement_that_differs_needs_a_reason(client, login, quarter, people):
    _behind_plan(people)
    item = task(23)
    login(people["coordinator"])
    response = _judge(client, item.id, "mostly", reason="  ")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "判断与建议的落实灯（明显滞后）不同，请填写理由" in page
    assert re.search(r'<input checked[^>]*value="mostly"', page)  # the choice is kept
    assert _judgements() == []
    # the same as the suggestion: no reason needed
    assert _judge(client, item.id, "behind").status_code == 302
    [j] = _judgements()
    assert (j.step, j.suggested, j.reason) == (DeliveryStep.BEHIND, DeliveryStep.BEHIND, None)
    # judged again, differing, with a reason: the row changes, audited before and after
    response = _judge(
        client, item.id, "mostly", reason="排查已基本完成，待汇总", revision=j.revision
    )
    assert response.status_code == 302
    [j] = _judgements()
    assert (j.step, j.suggested, j.reason) == (DeliveryStep.MOSTLY, DeliveryStep.BEHIND,
                                               "排查已基本完成，待汇总")  # fmt: skip
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "delivery.judge").order_by(AuditEvent.id)
    ).all()
    assert len(events) == 2
    assert events[1].before["step"] == "behind" and events[1].after["step"] == "mostly"


def test_a_stale_form_personal_data_and_a_frozen_quarter_are_refused(
    client, login, quarter, people
):
    _behind_plan(people)
    item = task(23)
    login(people["coordinator"])
    assert _judge(client, item.id, "behind").status_code == 302
    # a second coordinator's form built before the first judgement
    response = _judge(client, item.id, "severe", reason="严重", revision="")
    assert response.status_code == 409
    response = _judge(client, item.id, "severe", reason="联系人13812345678", revision="1")
    assert response.status_code == 422 and "138******78" in response.get_data(as_text=True)
    assert _judgements()[0].step == DeliveryStep.BEHIND
    # a quarter outside the tracked ones is a bad request, not a judgement
    assert _judge(client, item.id, "behind", period="2019Q1").status_code == 400
    quarter.at("2024-10-17 09:00")  # 2024Q3 closed on 10-16
    dashboard_services.freeze_due_snapshots()
    db.session.commit()
    response = _judge(client, item.id, "severe", reason="严重滞后", revision="1")
    assert response.status_code == 409
    assert "已封存，落实判断不能再改" in response.get_data(as_text=True)
    assert _judgements()[0].step == DeliveryStep.BEHIND


def test_the_snapshot_keeps_what_the_quarter_showed(client, login, quarter, people):
    _behind_plan(people)
    item = task(23)
    login(people["coordinator"])
    assert _judge(client, item.id, "severe", reason="两个季度未见进展").status_code == 302
    quarter.at("2024-10-17 09:00")
    dashboard_services.freeze_due_snapshots()
    db.session.commit()
    # later: the plan changes (nothing due any more) and the judgement row is changed
    from tracker.delivery import services as delivery_services

    data = delivery_services.PlanInput(
        milestones=[milestone("完成县级摸底排查", "2025Q2", "mca")], change_reason="节点顺延"
    )
    changed = delivery_services.propose_plan(
        task(23), people["lead"].department, data, actor=people["lead"]
    )
    delivery_services.approve_plan(changed, actor=people["coordinator"])
    db.session.execute(sa.update(DeliveryJudgement).values(step=DeliveryStep.ON_PACE))
    db.session.commit()
    live = item_deliveries([item.id], [Q3])[(item.id, Q3.key)]
    assert (live.suggested, live.judged) == (DeliveryStep.ON_PACE, DeliveryStep.ON_PACE)
    from tracker.dashboard import queries

    kept = item_deliveries([item.id], [Q3], queries.snapshots())[(item.id, Q3.key)]
    assert kept.frozen
    assert (kept.suggested, kept.judged) == (DeliveryStep.BEHIND, DeliveryStep.SEVERE)
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    row = page.split('data-period="2024Q3"')[1].split("</tr>")[0]
    assert 'data-delivery="severe"' in row


def test_the_change_against_the_previous_quarter(app, quarter, people):
    _behind_plan(people)
    item = task(23)
    q2 = Q3.previous()
    db.session.add(DeliveryJudgement(task_id=item.id, period=q2.key, step=DeliveryStep.ON_PACE))
    db.session.commit()
    found = item_deliveries([item.id], [Q3])
    # 2024Q2: judged 按序时推进; 2024Q3: suggested 明显滞后, not judged
    assert found[(item.id, q2.key)].shown == DeliveryStep.ON_PACE
    assert found[(item.id, Q3.key)].is_suggestion
    assert found[(item.id, Q3.key)].change == Change.WORSE
    db.session.execute(sa.update(DeliveryJudgement).values(step=DeliveryStep.SEVERE))
    db.session.commit()
    assert item_deliveries([item.id], [Q3])[(item.id, Q3.key)].change == Change.BETTER
    db.session.execute(sa.update(DeliveryJudgement).values(step=DeliveryStep.BEHIND))
    db.session.commit()
    assert item_deliveries([item.id], [Q3])[(item.id, Q3.key)].change == Change.SAME
    # an item without a plan has nothing to compare
    other = task(22)
    assert item_deliveries([other.id], [Q3])[(other.id, Q3.key)].change == Change.NONE


def test_the_matrix_and_the_lead_view_show_it_beside_the_filing_light(
    client, login, quarter, people
):
    _behind_plan(people)
    item = task(23)
    login(people["coordinator"])
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    row = page.split(f'data-task="{item.id}"')[1].split("</tr>")[0]
    assert 'data-delivery="behind"' in row and "delivery-suggested" in row  # marked 建议
    from tracker.dashboard import freshness

    db.session.commit()
    before = freshness.versions(db.session(), "2024Q3")
    db.session.commit()
    assert _judge(client, item.id, "at_risk", reason="已部署补救措施").status_code == 302
    assert freshness.versions(db.session(), "2024Q3")[0] != before[0]  # the period's version
    db.session.commit()
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)  # the cache moved on
    row = page.split(f'data-task="{item.id}"')[1].split("</tr>")[0]
    assert 'data-delivery="at_risk"' in row and 'data-judged="yes"' in row
    assert "delivery-suggested" not in row and "↑ 好转" in row  # 2024Q2 was 明显滞后
    # the lead department's view (民政部 leads item 23); a supporting department reads it too
    login(people["viewer"])
    page = client.get("/dashboard/departments/mca?period=2024Q3").get_data(as_text=True)
    lead = page.split('id="lead-items"')[1].split("</section>")[0]
    row = lead.split('data-number="23"')[1].split("</tr>")[0]
    assert 'data-delivery="at_risk"' in row
    login(people["support"])
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert 'data-delivery="at_risk"' in page
    login(people["other"])  # 人力资源社会保障部 is not on item 23
    assert client.get(f"/dashboard/items/{item.id}").status_code == 403
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    assert f'data-task="{item.id}"' not in page


def test_the_dashboard_reads_delivery_lights_in_a_fixed_number_of_queries(
    client, login, quarter, people
):
    login(people["coordinator"])

    def count() -> int:
        answer_cache().clear()
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get("/dashboard?period=2024Q3").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
        return counter.count

    _behind_plan(people)
    one = count()
    for number in (5, 9, 12):  # more items with plans (民政部 leads or shares them), one judged
        approved_plan(number, "mca", people=people, milestones=[
            milestone(f"第{number}项节点", "2024Q2", "mca"),
        ])  # fmt: skip
    assert _judge(client, task(23).id, "severe", reason="严重").status_code == 302
    assert count() == one


def test_the_scorecard_shows_each_department_s_delivery_record(client, login, quarter, people):
    plan = approved_plan(23, "mca", people=people, milestones=[
        milestone("完成县级摸底排查", "2024Q2", "mca"),  # overdue, never said done
        milestone("妇联协助排查", "2024Q3", "acwf"),  # said done in 2024Q3's report: on time
    ])  # fmt: skip
    key = plan.milestones[1].key
    login(people["support"])
    obligation = quarter.obligation(23, "acwf")
    response = client.post(
        f"/obligations/{obligation.id}/edit",
        data=report_form(save_and_submit="1", **{f"milestone_{key}": "done"}),
    )
    assert response.status_code == 302
    login(people["coordinator"])
    assert _judge(client, task(23).id, "at_risk", reason="仍有节点逾期").status_code == 302
    page = client.get("/dashboard/scorecard?period=2024Q3").get_data(as_text=True)
    record = page.split('id="delivery-record"')[1]

    def figures(code):
        row = record.split(f'data-delivery-of="{code}"')[1].split("</tr>")[0]
        return dict(re.findall(r'data-figure="(\w+)">(\d+)<', row))

    mca = figures("mca")
    assert (mca["lagging"], mca["on_pace"], mca["judged"]) == ("1", "0", "1")
    assert int(mca["unlit"]) == int(mca["items"]) - 1  # its other items have no plan
    assert (mca["milestones_on_time"], mca["milestones_overdue"]) == ("0", "1")
    acwf = figures("acwf")
    assert (acwf["milestones_on_time"], acwf["milestones_overdue"]) == ("1", "0")


def test_the_quarterly_workbook_carries_both_lights_per_item(client, login, quarter, people):
    import io

    from tests.exports.conftest import data_rows, load
    from tracker.exports.quarterly import QuarterlyRequest, write_quarterly

    _behind_plan(people)
    login(people["coordinator"])
    assert _judge(client, task(23).id, "severe", reason="两个季度未见进展").status_code == 302
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(Q3))
    sheet = load(out.getvalue())["任务分工落实情况"]
    header = [c.value for c in next(sheet.iter_rows(min_row=5, max_row=5))]
    assert header[8:11] == ["落实灯（协调员判断）", "落实灯（系统建议）", "落实较上季度"]
    rows = data_rows(sheet)
    item = [r for r in rows if r[0] == 23]
    assert len(item) == 2  # 民政部 and 全国妇联, the delivery light merged down the block
    assert all(r[8:11] == ("严重滞后", "明显滞后", "退步") for r in item)  # 2024Q2: 明显滞后
    other = next(r for r in rows if r[0] == 22)
    assert other[8:11] == ("未判断", "无计划", "—")
