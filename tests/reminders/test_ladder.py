"""The escalation ladder over 2024Q3, on China's calendar, with the clock moved day by day.

2024Q3 is due Thu 2024-10-10 (supporting input Tue 2024-10-08). National Day: 10-01..10-07 off,
Sun 09-29 and Sat 10-12 make-up working days.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from tests.reminders.conftest import beijing, deliver, notes_of, outbox_messages, run_pass, submit
from tracker.audit.models import AuditEvent
from tracker.auth.services import deactivate_user
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.notifications.models import Notification, NotificationKind, OutboxMessage, OutboxStatus
from tracker.reminders import services
from tracker.reminders.ladder import DEFAULT_LADDER, LadderError, parse_ladder
from tracker.reminders.models import ReminderLog
from tracker.reports import queries as report_queries
from tracker.reports.models import Obligation, ReportState

LADDER = parse_ladder(DEFAULT_LADDER)
DUE = date(2024, 10, 10)


def d(text: str) -> date:
    return date.fromisoformat(text)


# -- the ladder itself (pure) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "rung"),
    [
        ("2024-09-24", None),
        ("2024-09-25", "upcoming_7"),  # 7 working days before, counting Sun 09-29
        ("2024-10-03", "upcoming_7"),  # National Day: nothing new
        ("2024-10-08", "upcoming_7"),
        ("2024-10-09", "upcoming_1"),
        ("2024-10-10", "due"),
        ("2024-10-11", "overdue_1"),
        ("2024-10-12", "overdue_1"),  # a make-up Saturday counts, but is only the 2nd day late
        ("2024-10-15", "overdue_1"),
        ("2024-10-16", "overdue_5"),
        ("2024-10-22", "overdue_5"),
        ("2024-10-23", "overdue_w1"),
        ("2024-10-30", "overdue_w2"),
        ("2024-11-06", "overdue_w3"),
    ],
)
def test_the_latest_rung_whose_date_has_come(today, rung):
    current = LADDER.current_rung(DUE, d(today), report_queries.default_calendar())
    assert (current.name if current else None) == rung


def test_schedule_of_the_lead_and_the_supporting_due_dates():
    cal = report_queries.default_calendar()
    lead = [(r.name, when.isoformat()) for r, when in LADDER.schedule(DUE, cal, d("2024-10-31"))]
    assert lead == [
        ("upcoming_7", "2024-09-25"),
        ("upcoming_1", "2024-10-09"),
        ("due", "2024-10-10"),
        ("overdue_1", "2024-10-11"),
        ("overdue_5", "2024-10-16"),
        ("overdue_w1", "2024-10-23"),
        ("overdue_w2", "2024-10-30"),
    ]
    support = dict(
        (r.name, when.isoformat())
        for r, when in LADDER.schedule(d("2024-10-08"), cal, d("2024-10-31"))
    )
    # National Day (10-01..10-07) in between: 7 working days before counts Sun 09-29, 1 working
    # day before is Mon 09-30, and 5 working days late counts Sat 10-12.
    assert support["upcoming_7"] == "2024-09-23"
    assert support["upcoming_1"] == "2024-09-30"
    assert support["overdue_1"] == "2024-10-09"
    assert support["overdue_5"] == "2024-10-14"


def test_audiences_grow_up_the_ladder():
    audiences = [rung.audience for rung in LADDER.rungs]
    assert all(a <= b for a, b in itertools.pairwise(audiences))
    assert LADDER.weekly_rung(3).audience == {"liaison", "coordinator", "viewer"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "为空"),
        ("due:0", "名称:工作日偏移:对象"),
        ("due:x:liaison", "不是整数"),
        ("due:0:boss", "提醒对象"),
        ("Due:0:liaison", "名称"),
        ("overdue_w1:3:liaison", "名称"),
        ("a:1:liaison; b:0:liaison", "递增"),
        ("a:1:liaison; a:2:liaison", "重名"),
        ("weekly:5; a:1:liaison", "最后"),
        ("a:-1:liaison; weekly:5", "weekly"),
        ("a:1:liaison; weekly:0", "正整数"),
    ],
)
def test_a_malformed_ladder_is_refused_with_a_reason(text, message):
    with pytest.raises(LadderError, match=message):
        parse_ladder(text)


def test_a_malformed_ladder_stops_the_app_at_start_up():
    from tracker import create_app

    with pytest.raises(LadderError):
        create_app({"TESTING": True, "SECRET_KEY": "x", "TRACKER_REMINDER_LADDER": "due:zero:x"})


# -- a simulated quarter ---------------------------------------------------------------------


@pytest.fixture
def people(quarter, make_user):
    """Who is on the ladder and who is not."""
    users = {
        "mps_liaison": make_user("liaison", "mps", email="mps@example.org"),
        "mps_retired": make_user("liaison", "mps", email="old@example.org"),
        "mps_viewer": make_user("viewer", "mps", email="mps-head@example.org"),
        "moa_liaison": make_user("liaison", "moa", email="moa@example.org"),
        "mohrss_liaison": make_user("liaison", "mohrss"),  # no address: in the app only
        "coord_a": make_user("coordinator", "mca", email="a@mca.example"),
        "coord_b": make_user("coordinator", "mca", email="b@mca.example"),
        "leader": make_user("viewer", email="leader@example.org"),
        "admin": make_user("admin", email="admin@example.org"),
    }
    deactivate_user(users["mps_retired"])
    db.session.commit()
    return users


def _submit_all_but(quarter, keep: set[tuple[int, str]]) -> None:
    """Every 2024Q3 obligation has been reported on 08-30, except those in ``keep``."""
    for obligation in db.session.scalars(
        sa.select(Obligation).where(Obligation.period == "2024Q3")
    ):
        if (obligation.task.number, obligation.department.code) not in keep:
            submit(obligation, "2024-08-30 10:00")


def _ladder_log(users) -> dict[str, list[tuple]]:
    """Per user: (item, department, rung, due date, day sent), from the reminder log."""
    names = {user.id: name for name, user in users.items()}
    rows = db.session.scalars(sa.select(ReminderLog).order_by(ReminderLog.id))
    sent = defaultdict(list)
    for row in rows:
        obligation = db.session.get(Obligation, row.obligation_id)
        sent[names[row.recipient_id]].append(
            (obligation.task.number, obligation.department.code, row.rung,
             row.due_date.isoformat(), row.sent_on.isoformat())
        )  # fmt: skip
    return dict(sent)


def _carries(mail, title: str) -> bool:
    """Whether an e-mail carries a reminder: as its subject, or as an item of a digest."""
    lines = mail.get_content().splitlines()
    return mail["Subject"] == title or any(line.endswith(f". {title}") for line in lines)


def test_a_quarter_of_reminders_each_sent_once_in_the_app_and_by_mail(quarter, people, smtp):
    """Day by day from 09-02 to 11-15: exactly the ladder's reminders, once each, and no e-mail
    lost while the mail server is down from 10-09 to 10-13."""
    _submit_all_but(quarter, {(11, "mps"), (22, "mps"), (3, "moa"), (3, "mohrss")})
    mohrss3 = quarter.obligation(3, "mohrss")
    day = date(2024, 9, 2)
    while day <= date(2024, 11, 15):
        if day == date(2024, 10, 9):
            smtp.stop()  # down for a while: 10-09 .. 10-13
        if day == date(2024, 10, 14):
            smtp.start()
        run_pass(quarter, day.isoformat())
        deliver()
        quarter.at(f"{day} 15:00")
        if day == date(2024, 10, 8):  # mohrss asks for a week more; approved the same day
            request = followups.request_extension(
                mohrss3, actor=people["mohrss_liaison"], requested_due_date=date(2024, 10, 17),
                reason="需汇总各省数据",
            )  # fmt: skip
            followups.approve_extension(request, actor=people["coord_a"], comment="同意")
            db.session.commit()
        if day == date(2024, 10, 9):
            submit(quarter.obligation(22, "mps"), "2024-10-09 15:00")
        if day == date(2024, 10, 15):  # the day after its overdue_5 (10-14)
            submit(quarter.obligation(3, "moa"), "2024-10-15 15:00")
        if day == date(2024, 10, 18):
            submit(mohrss3, "2024-10-18 15:00")
        day += timedelta(days=1)

    mps11 = [(11, "mps", rung, "2024-10-10", sent) for rung, sent in [
        ("due", "2024-10-10"), ("overdue_1", "2024-10-11"), ("overdue_5", "2024-10-16"),
        ("overdue_w1", "2024-10-23"), ("overdue_w2", "2024-10-30"),
        ("overdue_w3", "2024-11-06"), ("overdue_w4", "2024-11-13")]]  # fmt: skip
    moa3 = [(3, "moa", rung, "2024-10-08", sent) for rung, sent in [
        ("upcoming_7", "2024-09-23"), ("upcoming_1", "2024-09-30"), ("due", "2024-10-08"),
        ("overdue_1", "2024-10-09"), ("overdue_5", "2024-10-14")]]  # fmt: skip
    to_coordinators = sorted(
        moa3[3:] + mps11[1:] + [(3, "mohrss", "overdue_1", "2024-10-17", "2024-10-18")],
        key=lambda row: row[-1],
    )
    expected = {
        "mps_liaison": [
            (11, "mps", "upcoming_7", "2024-10-10", "2024-09-25"),
            (22, "mps", "upcoming_7", "2024-10-10", "2024-09-25"),
            (11, "mps", "upcoming_1", "2024-10-10", "2024-10-09"),
            (22, "mps", "upcoming_1", "2024-10-10", "2024-10-09"),
            *mps11,
        ],
        "mps_viewer": mps11[2:],
        "moa_liaison": moa3,
        "mohrss_liaison": [
            (3, "mohrss", "upcoming_7", "2024-10-10", "2024-09-25"),
            # the extension approved on 10-08 moved the ladder to 10-17
            (3, "mohrss", "upcoming_7", "2024-10-17", "2024-10-09"),
            (3, "mohrss", "upcoming_1", "2024-10-17", "2024-10-16"),
            (3, "mohrss", "due", "2024-10-17", "2024-10-17"),
            (3, "mohrss", "overdue_1", "2024-10-17", "2024-10-18"),
        ],
        "coord_a": to_coordinators,
        "coord_b": to_coordinators,
    }
    assert _ladder_log(people) == expected  # nobody else: not the retired, leader or admin

    # In the app: one notification per recipient and pass, however many items it lists, and
    # nothing else of that kind; each log row links to the notification of its pass.
    for name, user in people.items():
        reminders = [n for n in notes_of(user) if n.kind == NotificationKind.REMINDER]
        assert len(reminders) == len({row[-1] for row in expected.get(name, [])}), name
    by_pass = defaultdict(set)
    for row in db.session.scalars(sa.select(ReminderLog)):
        assert row.notification is not None and row.notification.user_id == row.recipient_id
        by_pass[(row.recipient_id, row.sent_on)].add(row.notification_id)
    assert {len(ids) for ids in by_pass.values()} == {1}
    assert len({next(iter(ids)) for ids in by_pass.values()}) == len(by_pass)

    # By e-mail: every message went out exactly once, although the server was down for days.
    messages = outbox_messages()
    assert {m.status for m in messages} == {OutboxStatus.SENT}
    ids = Counter(m["Message-ID"] for m in smtp.received)
    assert len(smtp.received) == len(messages) and set(ids.values()) == {1}
    retried = [m for m in messages if m.attempts > 1]
    outage = (beijing("2024-10-08 12:00"), beijing("2024-10-14 00:00"))
    assert retried and all(outage[0] <= m.created_at < outage[1] for m in retried)
    # One e-mail per recipient and pass: the two 09-25 reminders of mps arrive together.
    mps_mail = smtp.mailbox.to("mps@example.org")
    assert len(mps_mail) == 9
    digest = mps_mail[0].get_content()
    assert "您有 2 条新的提醒" in digest and "第11项" in digest and "第22项" in digest
    for name in ("mps_liaison", "mps_viewer", "moa_liaison", "coord_a", "coord_b"):
        user, inbox = people[name], smtp.mailbox.to(people[name].email)
        for note in (n for n in notes_of(user) if n.kind == NotificationKind.REMINDER):
            # Two passes may word a list alike: the mail is the one of the note's outbox row.
            prefix = f"<outbox-{note.outbox_message_id}-"
            arrived = [m for m in inbox if m["Message-ID"].startswith(prefix)]
            assert len(arrived) == 1 and _carries(arrived[0], note.title), (name, note.title)
    assert not any(n.outbox_message_id for n in notes_of(people["mohrss_liaison"]))
    for address in ("old@example.org", "leader@example.org", "admin@example.org"):
        assert smtp.mailbox.to(address) == []


# -- idempotence -----------------------------------------------------------------------------


def test_a_pass_run_twice_sends_nothing_twice(quarter, people):
    first = run_pass(quarter, "2024-10-11")
    again = run_pass(quarter, "2024-10-11", "17:00")
    assert first.reminders > first.notifications > 0 and first.emails > 0
    assert (again.reminders, again.notifications, again.emails) == (0, 0, 0)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ReminderLog))
    assert count == first.reminders
    notes = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    assert notes == first.notifications
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reminders.pass"))
    assert [(e.after["reminders"], e.after["notifications"]) for e in events] == [
        (first.reminders, first.notifications)
    ]


def test_two_passes_at_once_send_each_reminder_once(app, quarter, people):
    quarter.at("2024-10-11 09:00")
    start, results, errors = threading.Barrier(2), [], []

    def one_pass():
        with app.app_context():
            try:
                start.wait()
                results.append(services.run_reminder_pass())
                db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r.notifications for r in results)[0] == 0  # the second found it all done
    rows = db.session.execute(
        sa.select(ReminderLog.obligation_id, ReminderLog.rung, ReminderLog.recipient_id)
    ).all()
    assert len(rows) == len(set(rows)) == sum(r.reminders for r in results) > 0
    notes = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.kind == NotificationKind.REMINDER)
    )
    assert notes == len({recipient for _, _, recipient in rows})  # one per recipient


# -- what is sent when -----------------------------------------------------------------------


def test_a_late_first_run_sends_only_the_latest_rung(quarter, people):
    """Going live on 10-14 does not replay 09-25, 10-09 and 10-10: only 'overdue_1'."""
    run_pass(quarter, "2024-10-14")
    mps = db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == people["mps_liaison"].id)
    ).all()
    assert sorted(r.rung for r in mps) == ["overdue_1", "overdue_1"]  # items 11 and 22
    (note,) = notes_of(people["mps_liaison"])  # one notification listing both items
    assert note.title.startswith("【催报提醒】2 项待报送（2 项已逾期）：第11项 公安部、第22项")
    assert note.body.count("已逾期 3 个工作日") == 2


def test_supporting_input_late_first_run(quarter, people):
    run_pass(quarter, "2024-10-14")
    moa = db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == people["moa_liaison"].id)
    ).all()
    # moa supports items 3, 11 and 18 (due 10-08, overdue_5 since 10-14) and joins 2, 4, 19
    # and 22 (due 10-10, overdue_1 since 10-11): one reminder each, the latest.
    assert Counter(r.rung for r in moa) == {"overdue_5": 3, "overdue_1": 4}


def test_nothing_is_sent_on_a_holiday_and_what_fell_due_goes_out_next(quarter, people):
    holiday = run_pass(quarter, "2024-10-03")
    assert not holiday.working_day and holiday.notifications == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderLog)) == 0
    run_pass(quarter, "2024-10-08")  # the first working day after: 'upcoming_7' of 09-25
    (note,) = notes_of(people["mps_liaison"])
    assert (
        note.body.count("还有 2 个工作日截止") == 2 and "提醒级别：截止前 7 个工作日" in note.body
    )


def test_submitted_waived_and_deactivated_get_nothing_and_a_return_does_not_restart(
    quarter, people
):
    from tracker.reports import services as report_services

    submit(quarter.obligation(11, "mps"), "2024-10-09 10:00")
    report = quarter.obligation(11, "mps").report
    report_services.return_report(report, actor=people["coord_a"], reason="请补充数据")
    moa11 = quarter.obligation(11, "moa")  # supporting: waived
    report_services.waive_obligation(moa11, actor=people["coord_a"], reason="本期无相关工作")
    db.session.commit()
    assert report.state == ReportState.RETURNED
    for day in ("2024-10-10", "2024-10-11", "2024-10-16", "2024-10-23"):
        run_pass(quarter, day)
    sent = db.session.scalars(sa.select(ReminderLog)).all()
    assert quarter.obligation(11, "mps").id not in {r.obligation_id for r in sent}
    assert moa11.id not in {r.obligation_id for r in sent}
    assert people["mps_retired"].id not in {r.recipient_id for r in sent}
    assert people["leader"].id not in {r.recipient_id for r in sent}


def test_a_liaison_added_later_receives_the_current_rung(quarter, people, make_user):
    run_pass(quarter, "2024-10-11")
    newcomer = make_user("liaison", "mps", email="new@example.org")
    run_pass(quarter, "2024-10-12")
    rows = db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == newcomer.id)
    ).all()
    assert {(r.rung, r.sent_on.isoformat()) for r in rows} == {("overdue_1", "2024-10-12")}


def test_the_ladder_is_configurable(quarter, people, app, monkeypatch):
    monkeypatch.setitem(
        app.config, "TRACKER_REMINDER_LADDER", "soon:-3:liaison+coordinator; late:2:viewer"
    )
    run_pass(quarter, "2024-09-30")  # 3 working days before 10-10: 09-30 (09-29 is 4)
    assert {r.rung for r in db.session.scalars(sa.select(ReminderLog))} == {"soon"}
    assert notes_of(people["coord_a"]) and notes_of(people["mps_liaison"])
    assert not notes_of(people["mps_viewer"])


def test_a_reminder_names_item_department_period_due_date_and_link(quarter, people):
    """One item due: the notification is worded as that reminder, with every fact."""
    _submit_all_but(quarter, {(11, "mps")})
    run_pass(quarter, "2024-10-11")
    obligation = quarter.obligation(11, "mps")
    assert notes_of(people["mps_viewer"]) == []  # viewers join at overdue_5
    (note,) = notes_of(people["coord_a"])
    assert note.obligation_id == obligation.id
    assert note.title.startswith("【逾期未报】第11项 · 公安部 · 2024年第三季度")
    assert "已逾期 1 个工作日" in note.title
    for text in ("民发〔2019〕86号 第11项", "加大对侵害农村留守妇女合法权益违法犯罪行为的打击",
                 "公安部（牵头）", "报告期：2024年第三季度", "2024年10月10日（星期四）",
                 "请跟进督办"):  # fmt: skip
        assert text in note.body
    assert "2024Q3" not in note.title + note.body  # the label, never the key
    assert note.link == f"/obligations/{obligation.id}"
    message = db.session.get(OutboxMessage, note.outbox_message_id)
    assert f"http://127.0.0.1:5000/obligations/{obligation.id}" in message.body


def test_a_coordinator_gets_one_notification_listing_every_item_of_a_pass(quarter, people):
    """The flood this replaces: one notification per overdue item and coordinator."""
    result = run_pass(quarter, "2024-10-11")
    coordinator = people["coord_a"]
    logs = db.session.scalars(
        sa.select(ReminderLog).where(ReminderLog.recipient_id == coordinator.id)
    ).all()
    assert len(logs) > 20  # every department's overdue items of 2024Q3
    (note,) = notes_of(coordinator)
    assert {log.notification_id for log in logs} == {note.id}
    assert note.obligation_id is None and note.link == ""
    assert note.title.startswith(f"【催报提醒】{len(logs)} 项待报送（{len(logs)} 项已逾期）：")
    assert note.title.endswith(f"等 {len(logs)} 项") and len(note.title) <= 255
    assert note.body.startswith(f"以下 {len(logs)} 项本期进展报告尚未报送，请跟进督办。")
    mps11 = quarter.obligation(11, "mps")
    lines = note.body.splitlines()
    start = next(
        i for i, line in enumerate(lines) if "第11项 · 公安部（牵头） · 2024年第三季度" in line
    )
    assert lines[start].split(". ", 1)[1].startswith("【逾期未报】民发〔2019〕86号 第11项")
    assert lines[start + 1] == "   截止日期：2024年10月10日（星期四）；已逾期 1 个工作日，尚未报送"
    assert lines[start + 2] == "   提醒级别：逾期 1 个工作日"
    assert lines[start + 3] == f"   链接：/obligations/{mps11.id}"
    assert sum(1 for line in lines if line.startswith("   链接：/obligations/")) == len(logs)
    # The e-mail of the pass: one, subject the notification's title, every item in full.
    message = db.session.get(OutboxMessage, note.outbox_message_id)
    assert message.subject == note.title
    assert f"您有 {len(logs)} 条新的提醒" in message.body
    assert f"http://127.0.0.1:5000/obligations/{mps11.id}" in message.body
    assert "加大对侵害农村留守妇女合法权益违法犯罪行为的打击" in message.body
    assert result.notifications == len({log.recipient_id for log in db.session.scalars(
        sa.select(ReminderLog))})  # fmt: skip


def test_remind_command_runs_one_pass_for_a_given_day(quarter, people, runner):
    result = runner.invoke(args=["remind", "--today", "2024-10-11", "--no-mail"])
    assert result.exit_code == 0, result.output
    assert "2024-10-11：新提醒" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderLog)) > 0
    again = runner.invoke(args=["remind", "--today", "2024-10-11"])
    assert "新提醒 0 条" in again.output
    assert "未配置邮件服务器" in again.output
    holiday = runner.invoke(args=["remind", "--today", "2024-10-05"])
    assert "不是工作日" in holiday.output
