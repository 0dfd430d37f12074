"""Milestone status in the report, and overdue milestones on the item and department pages."""

from __future__ import annotations

import sqlalchemy as sa

from tests.delivery.conftest import approved_plan, milestone, report_form, task
from tracker.extensions import db
from tracker.reports.models import MilestoneStatus


def _plan(people):
    return approved_plan(23, "mca", people=people, milestones=[
        milestone("完成县级摸底排查", "2024Q3", "mca"),  # due in the report's quarter
        milestone("建立信息台账", "2025Q2", "mca"),  # not yet due
        milestone("妇联协助排查", "2024Q2", "acwf"),  # 全国妇联's
    ])  # fmt: skip


def _submit_support(client, login, quarter, people, **values):
    login(people["support"])
    obligation = quarter.obligation(23, "acwf")
    return client.post(f"/obligations/{obligation.id}/edit",
                       data=report_form(save_and_submit="1", **values))  # fmt: skip


def test_each_department_states_only_its_own_due_milestones(client, login, quarter, people):
    plan = _plan(people)
    due, later, support = plan.milestones
    login(people["lead"])
    page = client.get(f"/obligations/{quarter.obligation(23, 'mca').id}/edit").get_data(
        as_text=True
    )
    assert f"milestone_{due.key}" in page
    assert f"milestone_{later.key}" not in page and f"milestone_{support.key}" not in page
    login(people["support"])
    page = client.get(f"/obligations/{quarter.obligation(23, 'acwf').id}/edit").get_data(
        as_text=True
    )
    assert f"milestone_{support.key}" in page and f"milestone_{due.key}" not in page


def test_not_done_needs_a_sentence_and_submitting_needs_a_status(client, login, quarter, people):
    support = _plan(people).milestones[2]
    field = f"milestone_{support.key}"
    response = _submit_support(client, login, quarter, people, **{field: "partly"})
    assert response.status_code == 422
    assert "未完成或部分完成时，请用一句话说明情况" in response.get_data(as_text=True)
    assert quarter.obligation(23, "acwf").report is None
    # no status at all: saved as a draft, but not submitted
    response = _submit_support(client, login, quarter, people)
    assert response.status_code == 422
    assert "请说明到期节点的完成情况：“妇联协助排查”" in response.get_data(as_text=True)
    db.session.expire_all()
    report = quarter.obligation(23, "acwf").report
    assert report is None or report.state.value == "draft"
    # a forged status is refused in words
    response = _submit_support(client, login, quarter, people, **{field: "maybe"})
    assert response.status_code == 422
    assert "请从列表中选择节点完成情况" in response.get_data(as_text=True)
    response = _submit_support(
        client, login, quarter, people, **{field: "not_done", f"{field}_note": "部分县尚未上报"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    (status,) = db.session.scalars(sa.select(MilestoneStatus))
    assert (status.progress.value, status.note) == ("not_done", "部分县尚未上报")
    assert quarter.obligation(23, "acwf").report.state.value == "submitted"
    # the coordinator reads what was said on the report's page
    login(people["coordinator"])
    page = client.get(f"/obligations/{quarter.obligation(23, 'acwf').id}").get_data(as_text=True)
    assert "妇联协助排查" in page and "未完成" in page and "部分县尚未上报" in page


def test_overdue_milestones_are_listed_until_a_submitted_report_says_done(
    client, login, quarter, people
):
    plan = _plan(people)
    support = plan.milestones[2]  # due 2024Q2; today is 2024-10-05 (2024Q4)
    item = task(23)
    login(people["coordinator"])
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert "妇联协助排查" in page and "未报送完成情况" in page
    assert "完成县级摸底排查" in page  # due 2024Q3, which is over
    assert "建立信息台账" not in page  # due 2025Q2
    # the suggested light: none of the two due milestones done
    assert "到期节点 2 个，已报完成 0 个" in page and 'data-rag="red"' in page
    login(people["support"])
    page = client.get("/dashboard/departments/acwf").get_data(as_text=True)
    assert "妇联协助排查" in page  # the department's view
    field = f"milestone_{support.key}"
    assert (
        _submit_support(
            client, login, quarter, people, **{field: "partly", f"{field}_note": "完成八成"}
        ).status_code
        == 302
    )
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert "部分完成" in page and "完成八成" in page  # still overdue, with what was said
    # the coordinator returns it; the department says done and resubmits
    from tracker.reports import services

    login(people["coordinator"])
    report = quarter.obligation(23, "acwf").report
    services.return_report(report, actor=people["coordinator"], reason="请核实")
    db.session.commit()
    login(people["support"])
    db.session.expire_all()
    version = str(quarter.obligation(23, "acwf").report.version)
    response = _submit_support(client, login, quarter, people, version=version, **{field: "done"})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(f"/dashboard/items/{item.id}").get_data(as_text=True)
    assert "妇联协助排查" not in page.split('id="overdue-milestones"')[1]
    assert "到期节点 2 个，已报完成 1 个（50%）" in page and 'data-rag="amber"' in page
