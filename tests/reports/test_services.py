"""The reporting rules: obligations, due dates, the state machine, consolidation, timeliness."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.catalogue.models import Assignment, Department, Role, Task
from tracker.extensions import db
from tracker.reports import queries, services
from tracker.reports.models import Obligation, ProgressStatus, ReportState, ReportVersion
from tracker.reports.services import ReportError, ReportInput, StaleReportError

FILLED = ReportInput(status=ProgressStatus.IN_PROGRESS, progress="已开展培训 3 期。")


def _draft(obligation, liaison, data=FILLED):
    report = services.save_draft(obligation, data, actor=liaison,
                                 expected_version=obligation.report.version
                                 if obligation.report else None)  # fmt: skip
    db.session.commit()
    return report


def test_every_assignment_becomes_an_obligation_once(quarter):
    assignments = db.session.scalar(sa.select(sa.func.count()).select_from(Assignment))
    count = sa.select(sa.func.count()).select_from(Obligation)
    assert db.session.scalar(count) == assignments == 74
    assert services.open_period(quarter.period) == 0
    assert db.session.scalar(count) == 74


def test_due_dates_follow_the_official_calendar(quarter):
    # 2024Q3 ends Mon 2024-09-30; +10 days is Thu 2024-10-10, a working day after National Day.
    assert quarter.obligation(3, "mohrss").due_date == date(2024, 10, 10)  # lead
    assert quarter.obligation(1, "mca").due_date == date(2024, 10, 10)  # joint
    assert quarter.obligation(5, "mca").due_date == date(2024, 10, 10)  # sole
    # Supporting input: never before the quarter is over. 5 working days earlier would be
    # 09-27; 3 working days after the end (10-01..10-07 off) is 10-10 itself, so the lead keeps
    # two working days: Tue 2024-10-08.
    assert quarter.obligation(3, "acwf").due_date == date(2024, 10, 8)


def test_support_floor_after_the_quarter_is_configurable(quarter, app, monkeypatch):
    from tracker.periods import Period

    monkeypatch.setitem(app.config, "TRACKER_SUPPORT_MIN_DAYS_AFTER_QUARTER", 0)
    services.open_period(Period(2024, 4))  # ends Tue 2024-12-31, lead due Fri 2025-01-10
    db.session.flush()
    q4 = sa.select(Obligation.due_date).join(Department).where(Obligation.period == "2024Q4")
    support = q4.where(Department.code == "acwf", Obligation.role == Role.SUPPORT).limit(1)
    assert db.session.scalar(support) == date(2025, 1, 3)  # 3 after the end would be 01-06


def test_document_imported_later_has_no_earlier_obligations(quarter, at):
    from tracker.catalogue.seedfile import SeedDocument, SeedTask
    from tracker.catalogue.services import create_document
    from tracker.periods import Period

    at("2024-11-15 10:00")  # imported in 2024Q4, while 2024Q3 is still being followed up
    document = create_document(
        SeedDocument("民发〔2024〕9号", "后来的文件", "民政部", date(2024, 11, 1)),
        [SeedTask(1, None, "一项任务", "民政部牵头", None, [("mca", "lead")])],
    )
    assert document.first_period == "2024Q4"
    assert services.open_period(quarter.period) == 0  # 2024Q3: nothing of the new document
    assert services.open_period(Period(2024, 4)) == 75  # 74 seed assignments + its one
    db.session.flush()
    periods = db.session.scalars(
        sa.select(Obligation.period).join(Task).where(Task.document_id == document.id)
    ).all()
    assert periods == ["2024Q4"]


def test_due_date_offset_is_configurable(quarter, app, monkeypatch):
    from tracker.periods import Period

    monkeypatch.setitem(app.config, "TRACKER_DUE_OFFSET_DAYS", 3)
    due, _ = services.due_dates_for(Period(2024, 3))
    assert due == date(2024, 10, 8)  # 10-03 falls in the holiday: next working day


def test_draft_submit_return_resubmit_accept(quarter, make_user):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    obligation = quarter.obligation(5, "mca")
    report = _draft(obligation, liaison)
    assert report.state == ReportState.DRAFT
    services.submit_report(report, actor=liaison)
    services.return_report(report, actor=coordinator, reason="请补充具体数据。")
    db.session.commit()
    assert report.state == ReportState.RETURNED and report.return_reason == "请补充具体数据。"
    _draft(
        obligation,
        liaison,
        ReportInput(
            status=ProgressStatus.IN_PROGRESS, progress="已开展培训 3 期，覆盖 1200 人次。"
        ),
    )
    services.submit_report(report, actor=liaison)
    services.accept_report(
        report, actor=coordinator, confirmed_status=ProgressStatus.COMPLETED, comment="同意"
    )
    db.session.commit()
    assert report.state == ReportState.ACCEPTED
    assert report.status_disagrees  # self: in progress, confirmed: completed
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.object_type == "report")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "report.create",
        "report.submit",
        "report.return",
        "report.update",
        "report.resubmit",
        "report.accept",
    ]
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_type == "report"))
    assert all(e.actor_id is not None and e.at is not None for e in events)


@pytest.mark.parametrize("state_change", ["accept", "return"])
def test_only_submitted_reports_can_be_reviewed(quarter, make_user, state_change):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    report = _draft(quarter.obligation(5, "mca"), liaison)
    with pytest.raises(ReportError, match="不能"):
        if state_change == "accept":
            services.accept_report(
                report, actor=coordinator, confirmed_status=ProgressStatus.COMPLETED
            )
        else:
            services.return_report(report, actor=coordinator, reason="x")


def test_return_needs_a_reason(quarter, make_user):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    report = _draft(quarter.obligation(5, "mca"), liaison)
    services.submit_report(report, actor=liaison)
    with pytest.raises(ReportError, match="退回理由"):
        services.return_report(report, actor=coordinator, reason="   ")


def test_submit_needs_status_and_progress(quarter, make_user):
    liaison = make_user("liaison", "mca")
    report = _draft(quarter.obligation(5, "mca"), liaison, ReportInput(problems="只写了困难"))
    with pytest.raises(ReportError, match="自评状态、工作进展"):
        services.submit_report(report, actor=liaison)


def test_accepted_and_submitted_reports_cannot_be_edited(quarter, make_user):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = _draft(obligation, liaison)
    services.submit_report(report, actor=liaison)
    db.session.commit()
    with pytest.raises(ReportError, match="不能修改"):
        services.save_draft(obligation, FILLED, actor=liaison, expected_version=report.version)


def test_only_the_owning_liaison_edits_and_only_coordinators_review(quarter, make_user):
    other, admin = make_user("liaison", "mps"), make_user("admin")
    obligation = quarter.obligation(5, "mca")
    with pytest.raises(services.PermissionDenied):
        services.save_draft(obligation, FILLED, actor=other, expected_version=None)
    liaison = make_user("liaison", "mca")
    report = _draft(obligation, liaison)
    services.submit_report(report, actor=liaison)
    for actor in (liaison, admin):
        with pytest.raises(services.PermissionDenied):
            services.accept_report(report, actor=actor, confirmed_status=ProgressStatus.ONGOING)


def test_stale_save_is_refused(quarter, make_user):
    first, second = make_user("liaison", "mca"), make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = _draft(obligation, first)
    read_version = report.version
    services.save_draft(
        obligation, ReportInput(progress="A 的修改"), actor=first, expected_version=read_version
    )
    db.session.commit()
    with pytest.raises(StaleReportError, match="已被他人修改"):
        services.save_draft(
            obligation,
            ReportInput(progress="B 的修改"),
            actor=second,
            expected_version=read_version,
        )
    db.session.rollback()
    assert obligation.report.progress == "A 的修改"


def test_versions_keep_every_save_with_changes(quarter, make_user):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    _draft(obligation, liaison)
    _draft(
        obligation,
        liaison,
        ReportInput(
            status=ProgressStatus.IN_PROGRESS,
            progress="已开展培训 4 期。",
            figures=[("培训人次", Decimal("1200"), "人次")],
        ),
    )
    _draft(
        obligation,
        liaison,
        ReportInput(
            status=ProgressStatus.IN_PROGRESS,
            progress="已开展培训 4 期。",
            figures=[("培训人次", Decimal("1200"), "人次")],
        ),
    )
    versions = queries.report_versions(obligation.report.id)
    assert [v.number for v in versions] == [1, 2]  # an unchanged save adds no version
    changes = {
        c.label: c for c in queries.version_changes(versions[0].content, versions[1].content)
    }
    assert (changes["工作进展"].before, changes["工作进展"].after) == (
        "已开展培训 3 期。", "已开展培训 4 期。",
    )  # fmt: skip
    assert changes["关键数据"].figures == (queries.FigureRow("培训人次", "1200", "人次", "新增"),)
    assert versions[0].content["progress"] == "已开展培训 3 期。"  # earlier version unchanged


def test_lead_cannot_submit_until_supporting_inputs_are_in(quarter, make_user):
    lead = make_user("liaison", "mohrss")
    coordinator = make_user("coordinator", "mca")
    supporters = {code: make_user("liaison", code) for code in ("moa", "mct", "acwf")}
    lead_report = _draft(quarter.obligation(3, "mohrss"), lead)
    with pytest.raises(ReportError) as refused:
        services.submit_report(lead_report, actor=lead)
    assert "农业农村部、文化和旅游部、全国妇联" in str(refused.value)
    db.session.rollback()
    for code in ("moa", "mct"):
        report = _draft(quarter.obligation(3, code), supporters[code])
        services.submit_report(report, actor=supporters[code])
    db.session.commit()
    with pytest.raises(ReportError, match="全国妇联"):
        services.submit_report(lead_report, actor=lead)
    db.session.rollback()
    services.waive_obligation(
        quarter.obligation(3, "acwf"), actor=coordinator, reason="本期无相关工作"
    )
    services.submit_report(lead_report, actor=lead)
    db.session.commit()
    assert lead_report.state == ReportState.SUBMITTED


def test_waiver_rules(quarter, make_user):
    coordinator = make_user("coordinator", "mca")
    with pytest.raises(ReportError, match="理由"):
        services.waive_obligation(quarter.obligation(3, "acwf"), actor=coordinator, reason="")
    with pytest.raises(ReportError, match="配合部门"):
        services.waive_obligation(quarter.obligation(3, "mohrss"), actor=coordinator, reason="x")
    with pytest.raises(services.PermissionDenied):
        services.waive_obligation(
            quarter.obligation(3, "acwf"), actor=make_user("liaison", "acwf"), reason="x"
        )


def test_joint_items_report_each_share_and_sole_items_one(quarter):
    joint = db.session.scalars(
        sa.select(Obligation).where(Obligation.task_id == quarter.obligation(14, "mca").task_id)
    ).all()
    assert len(joint) == 5 and {o.role for o in joint} == {Role.JOINT}
    sole = db.session.scalars(
        sa.select(Obligation).where(Obligation.task_id == quarter.obligation(7, "acwf").task_id)
    ).all()
    assert len(sole) == 1 and sole[0].role == Role.LEAD
    assert queries.supporting_obligations(sole[0]) == []  # nothing to consolidate


@pytest.mark.parametrize(
    ("submitted_at", "on_time", "days_late"),
    [
        ("2024-10-10 23:59:59", True, 0),  # the last second of the due date, Beijing time
        ("2024-10-11 00:00:01", False, 1),  # Fri
        ("2024-10-12 09:00", False, 2),  # Sat 2024-10-12 is a make-up working day
        ("2024-10-14 09:00", False, 3),  # Sun is not; Mon is
    ],
)
def test_timeliness_in_beijing_working_days(quarter, make_user, submitted_at, on_time, days_late):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    report = _draft(obligation, liaison)
    quarter.at(submitted_at)
    services.submit_report(report, actor=liaison)
    db.session.commit()
    timing = queries.timeliness(obligation)
    assert (timing.on_time, timing.days_late) == (on_time, days_late)
    assert report.first_submitted_at.tzinfo is not None
    assert report.first_submitted_at.utcoffset().total_seconds() == 0  # stored in UTC


def test_resubmission_keeps_the_first_submission_time(quarter, make_user):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    obligation = quarter.obligation(5, "mca")
    report = _draft(obligation, liaison)
    services.submit_report(report, actor=liaison)
    first = report.first_submitted_at
    services.return_report(report, actor=coordinator, reason="补充")
    quarter.at("2024-10-20 10:00")
    services.submit_report(report, actor=liaison)
    assert report.first_submitted_at == first
    assert queries.timeliness(obligation).on_time is True


def test_overdue_unsubmitted_obligation_counts_working_days(quarter):
    quarter.at("2024-10-14 10:00")
    timing = queries.timeliness(quarter.obligation(5, "mca"))
    assert timing.overdue and timing.days_late == 3 and timing.days_left == -3


def test_removing_an_assignment_with_a_report_is_refused(quarter, make_user, runner, tmp_path):
    import yaml

    from tests.conftest import SEED_FILE

    liaison = make_user("liaison", "acwf")
    _draft(quarter.obligation(3, "acwf"), liaison)
    data = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    data["tasks"][2]["support"] = ["农业农村部", "文化和旅游部"]
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(args=["seed", "--file", str(path)])
    assert result.exit_code != 0
    assert "第3项：全国妇联的分工已有进展报告，不能删除" in result.output


def test_versions_are_immutable_rows(quarter, make_user):
    liaison = make_user("liaison", "mca")
    obligation = quarter.obligation(5, "mca")
    _draft(obligation, liaison)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion))
    services.submit_report(obligation.report, actor=liaison)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)) == count + 1


def test_configured_holidays_extend_the_official_calendar(app, monkeypatch):
    """For a year the package does not cover yet, the configured days count."""
    from tracker.periods import Period

    monkeypatch.setitem(app.config, "TRACKER_EXTRA_HOLIDAYS", (date(2099, 1, 12),))
    monkeypatch.setitem(app.config, "TRACKER_EXTRA_WORKDAYS", ())
    # 2098Q4 ends Wed 2098-12-31; +10 days is Sat 2099-01-10 → Mon 01-12 is a holiday → Tue.
    due, _ = services.due_dates_for(Period(2098, 4))
    assert due == date(2099, 1, 13)


def test_extra_dates_are_read_from_the_environment(monkeypatch, tmp_path):
    from tracker.config import ConfigError, from_environment

    monkeypatch.setenv("TRACKER_EXTRA_HOLIDAYS", "2027-01-01, 2027-02-08")
    config = from_environment(str(tmp_path))
    assert config["TRACKER_EXTRA_HOLIDAYS"] == (date(2027, 1, 1), date(2027, 2, 8))
    monkeypatch.setenv("TRACKER_EXTRA_WORKDAYS", "2027-13-01")
    with pytest.raises(ConfigError, match="TRACKER_EXTRA_WORKDAYS"):
        from_environment(str(tmp_path))


def _submitted(quarter, make_user):
    liaison, coordinator = make_user("liaison", "mca"), make_user("coordinator", "mca")
    report = _draft(quarter.obligation(5, "mca"), liaison)  # self-rated in progress
    services.submit_report(report, actor=liaison)
    db.session.commit()
    return report, liaison, coordinator


def _report_actions(report) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "report", AuditEvent.object_id == report.id)
            .order_by(AuditEvent.id)
        )
    )


def test_accepting_without_a_confirmed_status_confirms_the_self_rating(quarter, make_user):
    report, _, coordinator = _submitted(quarter, make_user)
    services.accept_report(report, actor=coordinator)
    assert report.confirmed_status == ProgressStatus.IN_PROGRESS
    assert not report.status_disagrees


def test_reopen_goes_back_to_submitted_with_an_audited_reason(quarter, make_user):
    report, liaison, coordinator = _submitted(quarter, make_user)
    services.accept_report(report, actor=coordinator, confirmed_status=ProgressStatus.NOT_STARTED)
    db.session.commit()
    with pytest.raises(ReportError, match="理由") as refused:
        services.reopen_report(report, actor=coordinator, reason="  ")
    assert refused.value.field == "reason"
    with pytest.raises(services.PermissionDenied):
        services.reopen_report(report, actor=liaison, reason="x")
    services.reopen_report(report, actor=coordinator, reason="核定状态选错。")
    db.session.commit()
    assert report.state == ReportState.SUBMITTED
    assert report.confirmed_status == ProgressStatus.NOT_STARTED  # until the next decision
    versions = queries.report_versions(report.id)
    assert (versions[-1].action, versions[-1].state) == ("reopen", "submitted")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.reopen"))
    assert event.actor_id == coordinator.id and event.after["reopen_reason"] == "核定状态选错。"
    with pytest.raises(ReportError, match="只有已审核通过"):
        services.reopen_report(report, actor=coordinator, reason="再次")
    services.accept_report(report, actor=coordinator, confirmed_status=ProgressStatus.ONGOING)
    assert report.confirmed_status == ProgressStatus.ONGOING
    services.reopen_report(report, actor=coordinator, reason="应退回补充。")
    services.return_report(report, actor=coordinator, reason="请补充数据。")
    assert report.state == ReportState.RETURNED


def test_a_submission_nobody_reviewed_can_be_withdrawn(quarter, make_user):
    report, liaison, coordinator = _submitted(quarter, make_user)
    assert services.may_withdraw(report)
    with pytest.raises(services.PermissionDenied):
        services.withdraw_report(report, actor=coordinator)
    services.withdraw_report(report, actor=liaison)
    db.session.commit()
    assert report.state == ReportState.DRAFT
    # The first submission was taken back: timeliness waits for the next one.
    assert report.first_submitted_at is None and report.submitted_at is None
    assert _report_actions(report)[-2:] == ["report.submit", "report.withdraw"]
    assert queries.report_versions(report.id)[-1].action == "withdraw"
    with pytest.raises(ReportError, match="只有已报送待审核"):
        services.withdraw_report(report, actor=liaison)


@pytest.mark.parametrize("review", ["accept", "return", "reopen"])
def test_a_submission_a_coordinator_acted_on_cannot_be_withdrawn(quarter, make_user, review):
    report, liaison, coordinator = _submitted(quarter, make_user)
    if review == "return":
        services.return_report(report, actor=coordinator, reason="请补充。")
    else:
        services.accept_report(report, actor=coordinator)
    if review == "reopen":
        services.reopen_report(report, actor=coordinator, reason="重新核定。")
    db.session.commit()
    state = report.state
    assert not services.may_withdraw(report)
    with pytest.raises(ReportError, match="撤回"):
        services.withdraw_report(report, actor=liaison)
    assert report.state == state != ReportState.DRAFT


def test_a_resubmission_can_be_withdrawn_and_keeps_the_first_submission(quarter, make_user):
    report, liaison, coordinator = _submitted(quarter, make_user)
    first = report.first_submitted_at
    services.return_report(report, actor=coordinator, reason="请补充。")
    services.submit_report(report, actor=liaison)
    assert services.may_withdraw(report)
    services.withdraw_report(report, actor=liaison)
    assert report.state == ReportState.DRAFT and report.first_submitted_at == first
