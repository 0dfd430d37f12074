"""Sign-off inside the department (审核签发): liaison prepares → approver signs off → submitted.

2024Q3 of the seed, due Thu 2024-10-10. 民政部 (mca) answers item 5 without supporting
departments; sign-off is the deployed default, switched on here (the suite's other tests
switch it off).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.reminders.conftest import notes_of, run_pass
from tracker.audit.models import AuditEvent
from tracker.auth.services import resolve_department
from tracker.catalogue.services import DepartmentInput, edit_department
from tracker.config import Settings
from tracker.extensions import db
from tracker.notifications.models import NotificationKind
from tracker.reminders.models import ReminderLog
from tracker.reports import queries, services, signoff
from tracker.reports.limits import MAX_REVIEW_TEXT
from tracker.reports.models import ProgressStatus, ReportState
from tracker.reports.services import ReportError, ReportInput

FILLED = ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已部署关爱服务。")


@pytest.fixture
def on(app, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_SIGNOFF_REQUIRED", True)


@pytest.fixture
def mps(quarter, make_user, on):
    """民政部's liaison and approver, another department's approver, a coordinator, and the
    liaison's draft on item 11."""
    people = {
        "liaison": make_user("liaison", "mca", display_name="张联络"),
        "approver": make_user("approver", "mca", display_name="王处长", phone="010-66261234"),
        "other_approver": make_user("approver", "moa"),
        "coordinator": make_user("coordinator", "mca"),
    }
    obligation = quarter.obligation(5, "mca")
    report = services.save_draft(obligation, FILLED, actor=people["liaison"], expected_version=None)
    db.session.commit()
    return {**people, "obligation": obligation, "report": report}


def _actions(report) -> list[str]:
    return [v.action for v in queries.report_versions(report.id)]


def test_sign_off_is_the_deployed_default_and_each_department_can_differ(quarter):
    assert Settings().signoff_required is True
    mps = resolve_department("mps")
    assert services.signoff_required(mps) is False  # the suite's setting
    edit_department(mps, DepartmentInput(name=mps.name, short_name=mps.short_name,
                                         aliases=mps.aliases, signoff="on"))  # fmt: skip
    assert services.signoff_required(mps) is True
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "department.edit")
    ).all()
    assert events[-1].before["signoff_required"] is None
    assert events[-1].after["signoff_required"] is True


def test_a_liaison_sends_the_draft_and_the_approver_signs_it_off_which_submits_it(quarter, mps):
    report, liaison, approver = mps["report"], mps["liaison"], mps["approver"]
    with pytest.raises(ReportError, match="审核签发"):
        services.submit_report(report, actor=liaison)
    quarter.at("2024-10-09 16:00")
    signoff.request_approval(report, actor=liaison)
    db.session.commit()
    assert report.awaiting_approval and report.state == ReportState.DRAFT
    assert report.first_submitted_at is None  # not yet with the coordinators
    (note,) = notes_of(approver)
    assert note.kind == NotificationKind.SIGNOFF and "张联络已将以下事项" in note.body
    assert notes_of(mps["other_approver"]) == []
    # Locked while the approver reads it: no edit, no evidence.
    with pytest.raises(ReportError, match="撤回送审"):
        services.save_draft(report.obligation, FILLED, actor=liaison,
                            expected_version=report.version)  # fmt: skip
    with pytest.raises(ReportError, match="撤回送审"):
        services.add_evidence(report, "a.pdf", b"%PDF-1.4\n%%EOF\n", actor=liaison)
    # Only an approver of the department signs off; the liaison cannot.
    for wrong in (liaison, mps["other_approver"], mps["coordinator"]):
        with pytest.raises(services.PermissionDenied):
            signoff.approve(report, actor=wrong)
    quarter.at("2024-10-11 09:30")  # the day after the due date
    signoff.approve(report, actor=approver)
    db.session.commit()
    assert report.state == ReportState.SUBMITTED and not report.awaiting_approval
    assert report.approved_by_id == approver.id and report.approved_at is not None
    timing = queries.timeliness(report.obligation)
    assert timing.on_time is False and timing.days_late == 1  # judged on the sign-off
    assert _actions(report)[-2:] == ["request_approval", "approve"]
    assert queries.report_versions(report.id)[-1].actor_id == approver.id
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_id == report.id)
    ).all()
    assert "report.request_approval" in actions and "report.approve" in actions
    assert any(n.title.startswith("【已签发】") for n in notes_of(liaison))


def test_the_approver_returns_it_with_a_reason_and_nothing_goes_up(quarter, mps):
    report, liaison, approver = mps["report"], mps["liaison"], mps["approver"]
    signoff.request_approval(report, actor=liaison)
    with pytest.raises(ReportError, match="退回理由") as refused:
        signoff.return_to_liaison(report, actor=approver, reason="  ")
    assert refused.value.field == "reason"
    signoff.return_to_liaison(report, actor=approver, reason="请补充培训人次。")
    db.session.commit()
    assert report.state == ReportState.DRAFT and not report.awaiting_approval
    assert report.signoff_return_reason == "请补充培训人次。"
    assert report.submitted_at is None
    (note,) = [n for n in notes_of(liaison) if n.kind == NotificationKind.SIGNOFF]
    assert "请补充培训人次。" in note.body
    # The liaison edits and sends it again; a second approval step follows.
    services.save_draft(report.obligation, ReportInput(status=FILLED.status,
                        progress="已部署，培训 1200 人次。"), actor=liaison,
                        expected_version=report.version)  # fmt: skip
    signoff.request_approval(report, actor=liaison)
    assert report.signoff_return_reason is None
    signoff.approve(report, actor=approver)
    assert _actions(report)[-5:] == [
        "request_approval",
        "signoff_return",
        "save",
        "request_approval",
        "approve",
    ]


def test_a_report_the_coordinator_returned_is_signed_off_again(quarter, mps):
    report, liaison, approver = mps["report"], mps["liaison"], mps["approver"]
    signoff.request_approval(report, actor=liaison)
    signoff.approve(report, actor=approver)
    first = report.first_submitted_at
    services.return_report(report, actor=mps["coordinator"], reason="数据有误。")
    with pytest.raises(ReportError, match="送审"):
        services.submit_report(report, actor=liaison)
    signoff.request_approval(report, actor=liaison)
    assert report.state == ReportState.RETURNED and report.awaiting_approval
    assert report.state_label == "待本部门审核签发"
    signoff.approve(report, actor=approver)
    assert report.state == ReportState.SUBMITTED and report.first_submitted_at == first
    assert _actions(report)[-1] == "approve"


def test_the_liaison_takes_the_draft_back_before_the_approver_decides(quarter, mps):
    report, liaison, approver = mps["report"], mps["liaison"], mps["approver"]
    signoff.request_approval(report, actor=liaison)
    with pytest.raises(ReportError, match="已送审"):
        signoff.request_approval(report, actor=liaison)
    signoff.cancel_request(report, actor=liaison)
    assert not report.awaiting_approval
    with pytest.raises(ReportError, match="不在待审核签发"):
        signoff.approve(report, actor=approver)
    with pytest.raises(ReportError, match="无需撤回"):
        signoff.cancel_request(report, actor=liaison)


def test_no_approver_no_request_and_an_incomplete_draft_is_refused(quarter, mps, app):
    report, liaison = mps["report"], mps["liaison"]
    from tracker.auth.services import deactivate_user

    deactivate_user(mps["approver"])
    with pytest.raises(ReportError, match="尚无在岗的审核人"):
        signoff.request_approval(report, actor=liaison)
    assert not report.awaiting_approval
    empty = services.save_draft(quarter.obligation(6, "mca"), ReportInput(), actor=liaison,
                                expected_version=None)  # fmt: skip
    with pytest.raises(ReportError, match="送审前请填写：自评状态、工作进展"):
        signoff.request_approval(empty, actor=liaison)


def test_a_department_switched_off_submits_directly(quarter, mps):
    mps_dept = resolve_department("mca")
    mps_dept.signoff_required = False
    with pytest.raises(ReportError, match="无需审核签发"):
        signoff.request_approval(mps["report"], actor=mps["liaison"])
    services.submit_report(mps["report"], actor=mps["liaison"])
    assert mps["report"].state == ReportState.SUBMITTED and mps["report"].approved_by is None


def test_approvers_hear_of_a_waiting_draft_the_working_day_before_the_due_date(quarter, mps):
    """Sent on Mon 10-07? No: a holiday. 10-09 (Wed) is one working day before Thu 10-10."""
    report, liaison, approver = mps["report"], mps["liaison"], mps["approver"]
    signoff.request_approval(report, actor=liaison)
    db.session.commit()
    run_pass(quarter, "2024-10-08")
    assert not db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == approver.id)
    ).all()
    run_pass(quarter, "2024-10-09")
    run_pass(quarter, "2024-10-09", "15:00")  # again: nothing twice
    (log,) = db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == approver.id)
    ).all()
    assert log.rung == "approval" and log.sent_on.isoformat() == "2024-10-09"
    reminder = [n for n in notes_of(approver) if n.kind == NotificationKind.REMINDER]
    assert len(reminder) == 1 and reminder[0].title.startswith("【待审核签发】")
    assert "尚待审核签发" in reminder[0].title
    # Once signed off, the approver hears nothing more of it.
    signoff.approve(report, actor=approver)
    db.session.commit()
    run_pass(quarter, "2024-10-11")
    assert len(db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == approver.id)
    ).all()) == 1  # fmt: skip


# -- on the web (the API: tests/api/test_signoff.py) ------------------------------------


def test_the_pages_walk_the_sign_off_and_keep_a_refused_reason(client, login, quarter, mps):
    report, obligation = mps["report"], mps["obligation"]
    page = f"/obligations/{obligation.id}"
    login(mps["liaison"])
    html = client.get(page).get_data(as_text=True)
    assert 'id="request-approval"' in html and 'id="submit-report"' not in html
    assert "保存并送审" in client.get(f"{page}/edit").get_data(as_text=True)
    assert client.post(f"{page}/submit").status_code == 303  # refused, with a message
    assert db.session.get(type(report), report.id).state == ReportState.DRAFT
    response = client.post(f"{page}/request-approval", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "报告已送审" in html and 'id="cancel-approval"' in html
    assert 'id="edit-report"' not in html
    assert "待本部门审核签发" in html
    edit = client.get(f"{page}/edit", follow_redirects=True).get_data(as_text=True)
    assert "撤回送审" in edit  # the edit page is closed while the approver reads it

    login(mps["approver"])
    html = client.get(page).get_data(as_text=True)
    assert 'id="approve-report"' in html and 'id="return-to-liaison"' in html
    assert 'id="edit-report"' not in html
    home = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "待您审核签发" in home
    refused = client.post(f"{page}/return-to-liaison", data={"reason": ""})
    assert refused.status_code == 422 and "请填写退回理由" in refused.get_data(as_text=True)
    long = "长" * (MAX_REVIEW_TEXT + 1)
    refused = client.post(f"{page}/return-to-liaison", data={"reason": long})
    assert refused.status_code == 422 and long in refused.get_data(as_text=True)
    done = client.post(f"{page}/approve", follow_redirects=True).get_data(as_text=True)
    assert "已审核签发" in done and "王处长" in done and "010-66261234" in done
    assert db.session.get(type(report), report.id).state == ReportState.SUBMITTED

    login(mps["coordinator"])
    html = client.get(page).get_data(as_text=True)
    assert "审核人：" in html and "王处长" in html
    department = client.get("/departments/mca").get_data(as_text=True)
    assert (
        "开启：本部门的报告须经审核人签发" in department and "王处长（010-66261234）" in department
    )


def test_an_approver_must_belong_to_a_department(client, login, make_user, seeded):
    login(make_user("admin"))
    response = client.post("/admin/users", data={"username": "wang", "display_name": "王",
                                                 "role": "approver", "department": ""})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "审核人（部门领导）必须属于一个部门" in html and 'value="wang"' in html
    assert PASSWORD  # the fixture's password is the suite's


def test_the_workbook_names_the_approver_and_the_time_of_sign_off(quarter, mps):
    import io

    import openpyxl

    from tracker.exports.quarterly import QuarterlyRequest, write_quarterly

    quarter.at("2024-10-09 16:05")
    signoff.request_approval(mps["report"], actor=mps["liaison"])
    signoff.approve(mps["report"], actor=mps["approver"])
    db.session.commit()
    out = io.BytesIO()
    write_quarterly(out, QuarterlyRequest(quarter.period))
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["报告明细"]
    header = [cell.value for cell in sheet[5]]  # under the title block
    column = header.index("审核签发")
    row = next(r for r in sheet.iter_rows(min_row=6, values_only=True)
               if (r[0], r[2]) == (5, "民政部"))  # fmt: skip
    assert row[column] == "王处长\n2024-10-09 16:05"
