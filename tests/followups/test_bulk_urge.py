"""Bulk 催办 from the dashboard's overdue list: a confirmation page that says what will be
urged and what cannot be, then every urge at once, each audited, all or none."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.followups import services
from tracker.followups.models import Urge
from tracker.notifications.models import Notification
from tracker.reports import services as reports
from tracker.reports.models import ProgressStatus
from tracker.reports.services import ReportInput


@pytest.fixture
def overdue(quarter, make_user):
    """2024-10-11: the leads' and the joint items' due date (10-10) has passed."""
    people = {"coordinator": make_user("coordinator", "mca"),
              "mps": make_user("liaison", "mps"), "mca": make_user("liaison", "mca")}  # fmt: skip
    quarter.at("2024-10-11 09:00")
    items = {"mps22": (22, "mps"), "mca5": (5, "mca"), "mps11": (11, "mps")}
    return {"people": people, **{k: quarter.obligation(*v) for k, v in items.items()}}


def _urges() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Urge))


def test_the_dashboard_offers_checkboxes_on_its_overdue_list(client, login, overdue):
    login(overdue["people"]["coordinator"])
    page = unescape(client.get("/dashboard?period=2024Q3").get_data(as_text=True))
    listed = page[page.index('id="overdue"') :]
    assert 'action="/urges/selected"' in listed
    assert re.search(r'type="checkbox" name="ids" value="\d+"', listed)
    login(overdue["people"]["mps"])
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    assert 'action="/urges/selected"' not in page


def test_confirm_first_then_urge_each(client, login, overdue, quarter):
    coordinator = overdue["people"]["coordinator"]
    services.urge_obligation(overdue["mps11"], actor=coordinator)  # urged yesterday-ish
    report = reports.save_draft(overdue["mca5"], ReportInput(status=ProgressStatus.COMPLETED,
                                progress="已完成"), actor=overdue["people"]["mca"],
                                expected_version=None)  # fmt: skip
    reports.submit_report(report, actor=overdue["people"]["mca"])
    db.session.commit()
    before = _urges()
    login(coordinator)
    ids = [overdue[k].id for k in ("mps22", "mca5", "mps11")]
    first = client.post("/urges/selected", data={"ids": ids, "next": "/dashboard?period=2024Q3"})
    assert first.status_code == 200 and _urges() == before
    page = unescape(first.get_data(as_text=True))
    assert "确认催办 1 项" in page
    skipped = page[page.index('id="urge-skipped"') :]
    assert "第5项 · 民政部：该事项本期已报送" in skipped
    assert "第11项 · 公安部：该事项已于" in skipped and "3 天内不能重复催办" in skipped
    eligible = re.findall(r'<input type="hidden" name="ids" value="(\d+)"', page)
    assert eligible == [str(overdue["mps22"].id)]

    done = client.post("/urges/selected", data={
        "ids": eligible, "confirm": "1", "message": "请于今日内报送。",
        "next": "/dashboard?period=2024Q3"})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard?period=2024Q3"
    assert _urges() == before + 1
    urge = db.session.scalar(sa.select(Urge).order_by(Urge.id.desc()))
    assert urge.obligation_id == overdue["mps22"].id and urge.message == "请于今日内报送。"
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification)
        .where(Notification.user_id == overdue["people"]["mps"].id)
    ) == 2  # fmt: skip


def test_all_or_none(client, login, overdue):
    coordinator = overdue["people"]["coordinator"]
    login(coordinator)
    services.urge_obligation(overdue["mps11"], actor=coordinator)  # meanwhile, by another
    db.session.commit()
    before = (_urges(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))
    response = client.post("/urges/selected", data={
        "ids": [overdue["mps22"].id, overdue["mps11"].id], "confirm": "1"})  # fmt: skip
    assert response.status_code == 422
    assert "本次未催办任何事项" in unescape(response.get_data(as_text=True))
    after = (_urges(), db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))
    assert after == before


def test_a_too_long_message_keeps_the_selection_and_the_text(client, login, overdue):
    login(overdue["people"]["coordinator"])
    text = "催" * 1001
    response = client.post("/urges/selected", data={
        "ids": [overdue["mps22"].id], "confirm": "1", "message": text})  # fmt: skip
    assert response.status_code == 422 and _urges() == 0
    page = unescape(response.get_data(as_text=True))
    assert "催办内容不能超过" in page and text in page
    assert f'name="ids" value="{overdue["mps22"].id}"' in page


def test_nothing_ticked_and_not_a_coordinator(client, login, overdue):
    login(overdue["people"]["coordinator"])
    response = client.post("/urges/selected", data={"confirm": "1"})
    assert response.status_code == 302 and _urges() == 0
    login(overdue["people"]["mps"])
    response = client.post("/urges/selected", data={"ids": [overdue["mps22"].id], "confirm": "1"})
    assert response.status_code == 403 and _urges() == 0
