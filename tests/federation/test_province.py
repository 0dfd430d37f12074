"""A province adopts the centre's document, maps departments, breaks an item down, accepts
a newer export, and reports a consolidated quarter up through the push outbox."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.conftest import beijing
from tests.federation.conftest import department, local_task
from tracker import clock
from tracker.catalogue.models import Assignment, Role
from tracker.delivery.models import DeliveryPlan
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.federation import outbox, queries, services, wire
from tracker.federation.models import PushMessage, PushStatus
from tracker.periods import Period
from tracker.reports import services as report_services
from tracker.reports.models import MilestoneProgress, Obligation, ProgressStatus


def _map(adoption, **pairs):
    services.map_departments(
        adoption, {central: department(local) for central, local in pairs.items()}, actor=None
    )
    db.session.commit()


def test_adopting_creates_the_document_and_links_every_item(province, centre):
    assert province.central_number == "民发〔2019〕86号"
    assert province.revision == centre["revision"]
    assert [link.central_item_number for link in province.items] == list(range(1, 24))
    assert local_task(23).text == centre["items"][22]["text"]
    # nothing is assigned before the departments are mapped
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_mapping_creates_assignments_and_copies_the_plan_keeping_its_keys(province, centre):
    _map(province, mca="hb-mca", acwf="hb-acwf")
    roles = {(a.department.code, a.role) for a in local_task(23).assignments}
    assert roles == {("hb-mca", Role.LEAD), ("hb-acwf", Role.SUPPORT)}
    assert department("hb-mca").central_code == "mca"
    plan = db.session.scalar(sa.select(DeliveryPlan))
    central = centre["plans"][0]
    assert plan.department.code == "hb-mca"
    assert [m.key for m in plan.milestones] == [m["key"] for m in central["milestones"]]
    assert [i.key for i in plan.indicators] == [i["key"] for i in central["indicators"]]
    assert set(plan.indicators[0].department_ids) == {
        department("hb-mca").id,
        department("hb-acwf").id,
    }
    # mapping again changes nothing
    _map(province, mca="hb-mca")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryPlan)) == 1


def test_a_department_mapped_later_reports_the_copied_plans_indicators(province):
    _map(province, mca="hb-mca")
    plan = db.session.scalar(sa.select(DeliveryPlan))
    assert plan.indicators[0].department_ids == [department("hb-mca").id]
    _map(province, acwf="hb-acwf")
    db.session.refresh(plan)
    assert set(plan.indicators[0].department_ids) == {
        department("hb-mca").id,
        department("hb-acwf").id,
    }


def test_one_local_department_maps_to_one_central_department(province):
    _map(province, mca="hb-mca")
    with pytest.raises(DomainError, match="已对应"):
        services.map_departments(province, {"acwf": department("hb-mca")}, actor=None)


def test_breaking_an_item_down_keeps_the_link_and_copies_the_plan(province):
    _map(province, mca="hb-mca", acwf="hb-acwf")
    link = next(i for i in province.items if i.central_item_number == 23)
    sub = services.break_down(
        link, "各市县建立台账并按季更新", department("hb-mps"), [department("hb-acwf")], actor=None
    )
    db.session.commit()
    assert sub.parent_task_id == link.task_id and sub.central_item_number == 23
    assert sub.task.number == 24
    assert {(a.department.code, a.role) for a in sub.task.assignments} == {
        ("hb-mps", Role.LEAD),
        ("hb-acwf", Role.SUPPORT),
    }
    plan = db.session.scalar(sa.select(DeliveryPlan).where(DeliveryPlan.task_id == sub.task_id))
    assert plan.department.code == "hb-mps" and len(plan.indicators) == 5
    with pytest.raises(DomainError):
        services.break_down(link, "联系 13812345678", department("hb-mps"), [], actor=None)


def test_a_newer_export_waits_as_a_diff_until_accepted(province, centre):
    _map(province, mca="hb-mca", acwf="hb-acwf")
    newer = copy.deepcopy(centre)
    newer["items"][0]["text"] += "（修订）"
    newer["items"].append({**newer["items"][22], "number": 24, "text": "新增事项"})
    newer["plans"][0]["milestones"].append(
        {"key": "m-new", "title": "新节点", "due_period": "2025Q1", "department_code": "mca"}
    )
    newer["revision"] = wire.export_revision(newer)
    services.adopt(services.read_export(newer), actor=None)
    db.session.commit()
    assert province.pending_revision == newer["revision"]
    diff = queries.export_diff(province.content, province.pending_content)
    assert diff.items_added == [24] and diff.items_changed == [1]
    assert diff.plans_changed == ["第23项·mca"] and not diff.items_removed
    assert local_task(1).text == centre["items"][0]["text"]  # unchanged until accepted
    services.accept_update(province, actor=None)
    db.session.commit()
    assert local_task(1).text.endswith("（修订）")
    assert local_task(24).text == "新增事项"
    assert {a.department.code for a in local_task(24).assignments} == {"hb-mca", "hb-acwf"}
    assert province.revision == newer["revision"] and province.pending_content is None


def test_an_export_whose_revision_does_not_match_is_refused(province, centre):
    forged = copy.deepcopy(centre)
    forged["items"][0]["text"] = "改动"
    with pytest.raises(DomainError, match="revision"):
        services.read_export(forged)


@pytest.fixture
def quarter_filed(province, app, make_user):
    """2024Q3 opened on the province; 省民政厅 and 省妇联 report item 23 with values; a
    sub-item led by 省公安厅 reports too."""
    _map(province, mca="hb-mca", acwf="hb-acwf")
    link = next(i for i in province.items if i.central_item_number == 23)
    services.break_down(link, "公安配合摸排", department("hb-mps"), [], actor=None)
    db.session.commit()
    frozen = clock.frozen(beijing("2024-10-05 10:00"))
    frozen.__enter__()
    report_services.open_period(Period(2024, 3))
    db.session.commit()
    key = province.content["plans"][0]["indicators"][0]["key"]
    filed = {}
    for code, task_number, value in (
        ("hb-acwf", 23, "30"),
        ("hb-mca", 23, "100"),
        ("hb-mps", 24, "7"),
    ):
        obligation = db.session.scalar(
            sa.select(Obligation)
            .join(Obligation.task)
            .where(
                Obligation.department_id == department(code).id,
                Obligation.task.has(number=task_number),
            )
        )
        liaison = make_user("liaison", code)
        said = MilestoneProgress.DONE if code == "hb-mca" else MilestoneProgress.PARTLY
        statuses = {"m-ledger": (said, "摸排")} if obligation.role != Role.SUPPORT else None
        report = report_services.save_draft(
            obligation,
            report_services.ReportInput(
                status=ProgressStatus.IN_PROGRESS, progress=f"{code} 进展",
                indicator_values={key: Decimal(value)}, milestone_statuses=statuses,
            ),
            actor=liaison, expected_version=None,
        )  # fmt: skip
        filed[code] = (obligation, report, liaison)
    mine = {o.id for o, _, _ in filed.values()}
    for other in db.session.scalars(sa.select(Obligation).where(Obligation.id.not_in(mine))):
        other.waived, other.waiver_reason = True, "本季度不涉及"  # only item 23 is reported
    db.session.commit()
    yield province, key, filed
    frozen.__exit__(None, None, None)


def _submit(filed, *codes):
    for code in codes:
        _, report, liaison = filed[code]
        report_services.submit_report(report, actor=liaison)
    db.session.commit()


def test_reporting_up_needs_a_consolidated_quarter(quarter_filed):
    adoption, _, filed = quarter_filed
    _submit(filed, "hb-acwf")
    with pytest.raises(DomainError, match="尚未汇总完毕"):
        services.report_up(adoption, "2024Q3", actor=None)


def test_the_rollup_combines_values_over_sub_items_and_goes_to_the_outbox(quarter_filed):
    adoption, key, filed = quarter_filed
    _submit(filed, "hb-acwf", "hb-mca", "hb-mps")
    push = services.report_up(adoption, "2024Q3", actor=None)
    db.session.commit()
    body = wire.Rollup.model_validate_json(push.body)
    assert push.digest == wire.sha256_hex(push.body.encode())
    assert body.revision == 1 and body.instance.code == "130000"
    (item,) = [i for i in body.items if i.item_number == 23]
    values = {i.key: i.value for i in item.indicators}
    assert values == {key: "137"}  # summed: 30 + 100 (item 23) + 7 (its sub-item)
    assert item.units_reporting == 3
    assert [(m.key, m.status) for m in item.milestones] == [("m-ledger", "partly")]
    assert "hb-mca 进展" in item.narrative and "hb-mps 进展" in item.narrative
    assert "hb-acwf" not in item.narrative  # the supporting input is the lead's to consolidate
    again = services.report_up(adoption, "2024Q3", actor=None)
    assert again.revision == 2


def test_an_unreachable_centre_keeps_the_rollup_queued_with_back_off(quarter_filed, app):
    adoption, _, filed = quarter_filed
    _submit(filed, "hb-acwf", "hb-mca", "hb-mps")
    push = services.report_up(adoption, "2024Q3", actor=None)
    db.session.commit()
    report = outbox.deliver_pending()
    assert report.retrying == 1 and report.delivered == 0
    db.session.refresh(push)
    assert push.status == PushStatus.PENDING and push.attempts == 1
    assert push.next_attempt_at - clock.utcnow() >= timedelta(seconds=59)
    assert "Error" in (push.last_error or "")
    # not due yet: a second run does not try again
    assert outbox.deliver_pending().attempted == 0
    assert db.session.scalar(sa.select(PushMessage.attempts)) == 1


def test_reporting_up_on_the_page_says_the_quarter_in_words(
    quarter_filed, client, make_user, login
):
    adoption, _, filed = quarter_filed
    _submit(filed, "hb-acwf", "hb-mca", "hb-mps")
    login(make_user("coordinator", "hb-mca"))
    page = client.get(f"/federation/adoptions/{adoption.id}").get_data(as_text=True)
    assert local_task(23).text[:30] in page  # each item is told by its text, not a number only
    assert "同一季度再次上报即为更正" in page  # the period field's hint
    response = client.post(f"/federation/adoptions/{adoption.id}/report",
                           data={"period": "2024Q3"}, follow_redirects=True)  # fmt: skip
    page = response.get_data(as_text=True)
    assert "2024年第三季度第 1 版已进入上报队列" in page and "2024Q3 第 1 版" not in page
    link = next(i for i in adoption.items if i.central_item_number == 23)
    form = client.get(f"/federation/items/{link.id}/break-down").get_data(as_text=True)
    assert "可多选" in form and f"/federation/adoptions/{adoption.id}" in form
