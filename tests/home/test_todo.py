"""The to-do block at the top of each role's landing page, and where each role lands."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from tracker import clock
from tracker.auth.models import LoginThrottle
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.notifications.models import OutboxMessage, OutboxStatus
from tracker.reports import services
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


def _todo(client, url: str) -> dict[str, tuple[int, str]]:
    """{item key: (count, its text)} of the to-do block on ``url``."""
    response = client.get(url)
    assert response.status_code == 200, url
    html = unescape(response.get_data(as_text=True))
    assert 'id="todo"' in html, url
    block = html[html.index('id="todo"') :]
    block = block[: block.index("</section>")]
    items = {}
    for part in block.split('data-todo="')[1:]:
        key, _, body = part.partition('"')
        count = re.search(r'class="state[^"]*">(\d+)<', body)
        items[key] = (int(count.group(1)) if count else 0, re.sub(r"<[^>]+>", " ", body))
    return items


def _submit(obligation, liaison, progress="已开展工作。"):
    report = services.save_draft(
        obligation, ReportInput(status=ProgressStatus.IN_PROGRESS, progress=progress),
        actor=liaison, expected_version=None,
    )  # fmt: skip
    services.submit_report(report, actor=liaison)
    return report


@pytest.fixture
def people(quarter, make_user):
    return {
        "mps": make_user("liaison", "mps"),
        "mps_viewer": make_user("viewer", "mps"),
        "moj": make_user("liaison", "moj"),
        "mca": make_user("liaison", "mca"),
        "coordinator": make_user("coordinator", "mca"),
        "leader": make_user("viewer"),
        "admin": make_user("admin"),
    }


def test_each_role_lands_where_its_work_is(client, login, people):
    for who, place in (("admin", "/admin"), ("coordinator", "/dashboard"),
                       ("leader", "/dashboard"), ("mps_viewer", "/dashboard"),
                       ("mps", "/reports")):  # fmt: skip
        login(people[who])
        assert client.get("/").headers["Location"] == place, who


def test_the_coordinators_to_do(client, login, quarter, people):
    _submit(quarter.obligation(5, "mca"), people["mca"])
    followups.request_extension(
        quarter.obligation(11, "mps"), actor=people["mps"],
        requested_due_date=services.queries.calendar().add_working_days(
            quarter.obligation(11, "mps").due_date, 3), reason="需汇总地方数据",
    )  # fmt: skip
    followups.urge_obligation(quarter.obligation(22, "mps"), actor=people["coordinator"])
    db.session.commit()
    login(people["coordinator"])
    todo = _todo(client, "/dashboard")
    assert todo["review"][0] == 1 and "第5项 · 民政部" in todo["review"][1]
    assert todo["extensions"][0] == 1 and "第11项 · 公安部" in todo["extensions"][1]
    assert todo["urges"][0] == 1 and "第22项" in todo["urges"][1]
    assert "leads-behind" not in todo  # nothing is past due on 2024-10-05
    quarter.at("2024-10-11 09:00")  # the leads' due date (10-10) has passed
    todo = _todo(client, "/dashboard")
    leads = db.session.scalar(
        sa.select(sa.func.count()).select_from(services.queries.Obligation)
        .where(services.queries.Obligation.role == "lead")
    )  # fmt: skip
    assert 0 < todo["leads-behind"][0] <= leads
    # the to-do stands on the landing page only, not on another department's view
    assert 'id="todo"' not in client.get("/dashboard/departments/mps").get_data(as_text=True)


def test_a_liaisons_to_do_is_its_own_department_only(client, login, quarter, people):
    lead = quarter.obligation(11, "mps")
    _submit(quarter.obligation(11, "moj"), people["moj"])
    returned = _submit(quarter.obligation(22, "mps"), people["mps"])
    services.return_report(returned, actor=people["coordinator"], reason="请补充破案数")
    followups.urge_obligation(lead, actor=people["coordinator"], message="请尽快报送")
    db.session.commit()
    login(people["mps"])
    todo = _todo(client, "/reports")
    assert todo["due-soon"][0] >= 1 and "第11项 · 公安部" in todo["due-soon"][1]
    assert todo["returned"][0] == 1 and "请补充破案数" in todo["returned"][1]
    assert todo["urges"][0] == 1
    supporting = todo["supporting"]
    assert "第11项 · 公安部" in supporting[1] and "农业农村部" in supporting[1]
    assert "司法部" not in supporting[1]  # it has submitted
    assert "overdue" not in todo
    quarter.at("2024-10-11 09:00")
    assert "第11项 · 公安部" in _todo(client, "/reports")["overdue"][1]
    # the department's viewer reads the same on the department's dashboard; another
    # department's liaison sees none of it
    login(people["mps_viewer"])
    assert _todo(client, "/dashboard")["returned"][0] == 1
    login(people["moj"])
    todo = _todo(client, "/reports")
    assert "returned" not in todo and "公安部" not in " ".join(t for _, t in todo.values())


def test_the_administrators_home(client, login, people, at):
    db.session.add(OutboxMessage(to_address="x@example.org", subject="【催办】第3项",
                                 body="…", status=OutboxStatus.FAILED))  # fmt: skip
    db.session.add(LoginThrottle(scope="pair", key=f"203.0.113.9\n{people['mps'].username}",
                                 failures=5,
                                 first_failed_at=clock.utcnow(),
                                 locked_until=clock.utcnow() + timedelta(minutes=10)))  # fmt: skip
    db.session.commit()
    login(people["admin"])
    todo = _todo(client, "/admin")
    assert todo["failed-mail"][0] == 1 and "【催办】第3项" in todo["failed-mail"][1]
    assert todo["locked"][0] == 1 and people["mps"].username in todo["locked"][1]
    assert "203.0.113.9" in todo["locked"][1]
    # everyone but the administrator, who has just signed in, never has
    assert todo["never-signed-in"][0] == len(people) - 1
    assert "2024 年和 2025 年的节假日安排均已录入" in todo["calendar"][1]
    at("2026-12-02 09:00")  # the package knows 2026; 2027's arrangement is not out yet
    todo = _todo(client, "/admin")
    assert "2027 年节假日安排尚未录入" in todo["calendar"][1]
    page = unescape(client.get("/admin").get_data(as_text=True))
    assert re.search(r'data-year="2027">.*?尚未录入', page, re.S)
    assert re.search(r'data-year="2026">.*?已内置', page, re.S)


def test_configured_holidays_cover_a_year(client, login, people, at, app, monkeypatch):
    from datetime import date

    monkeypatch.setitem(app.config, "TRACKER_EXTRA_HOLIDAYS", (date(2027, 1, 1),))
    at("2026-12-02 09:00")
    login(people["admin"])
    assert "均已录入" in _todo(client, "/admin")["calendar"][1]
    page = unescape(client.get("/admin").get_data(as_text=True))
    assert re.search(r'data-year="2027">.*?已在配置中录入', page, re.S)


def test_only_administrators_open_the_admin_home(client, login, people):
    for who in ("coordinator", "mps", "leader"):
        login(people[who])
        assert client.get("/admin").status_code == 403, who


def test_a_frozen_quarters_late_leads_leave_the_coordinators_to_do(client, login, quarter, people):
    from tracker.dashboard import services as dashboard_services

    quarter.at("2024-10-11 09:00")  # 2024Q3's leads are late
    login(people["coordinator"])
    late = _todo(client, "/dashboard")["leads-behind"][0]
    assert late > 0
    quarter.at("2024-10-17 09:00")  # 2024Q3 closes after its grace days and is frozen
    dashboard_services.freeze_due_snapshots()
    db.session.commit()
    todo = _todo(client, "/dashboard?period=2024Q3")
    assert "leads-behind" not in todo
    # The quarter's own record still shows them.
    import re

    frozen = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    listed = re.search(r"逾期未报清单（(\d+) 项", frozen)
    assert listed and int(listed.group(1)) > 0


def test_the_review_count_is_every_waiting_report_and_no_other(client, login, quarter, people):
    """The count of the review queue (read from the report's state alone) is the number of
    submitted reports, beyond the five listed: not drafts, not accepted reports."""
    for number in (1, 2, 5, 6, 14, 15, 17):
        _submit(quarter.obligation(number, "mca"), people["mca"])
    services.accept_report(
        quarter.obligation(17, "mca").report, actor=people["coordinator"],
        confirmed_status=ProgressStatus.IN_PROGRESS,
    )  # fmt: skip
    services.save_draft(
        quarter.obligation(11, "mps"), ReportInput(progress="草稿"), actor=people["mps"],
        expected_version=None,
    )  # fmt: skip
    db.session.commit()
    login(people["coordinator"])
    count, text = _todo(client, "/dashboard")["review"]
    assert count == 6
    assert text.count("报送于") == 5 and "共 6 项" in text  # the first five listed
