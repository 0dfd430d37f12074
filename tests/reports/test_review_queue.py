"""Review at volume: the queue filtered and sorted by due date with the self-rating shown; after
a decision the coordinator lands on the next report of the same queue; bulk accept, each
report confirming its own self-rating, all or none."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.reports import services
from tracker.reports.models import ProgressStatus, Report, ReportState
from tracker.reports.services import ReportInput

S = ProgressStatus


@pytest.fixture
def queue(quarter, make_user):
    """Submitted reports: item 11 by 公安部 (lead, in progress) and 司法部 (support, completed),
    item 5 by 民政部 (not started), item 22 by 公安部 (joint, ongoing)."""
    people = {code: make_user("liaison", code) for code in ("mps", "moj", "mca")}
    people["coordinator"] = make_user("coordinator", "mca")
    made = {}
    for minute, (key, (number, code, status)) in enumerate({
        "moj11": (11, "moj", S.COMPLETED), "mca5": (5, "mca", S.NOT_STARTED),
        "mps22": (22, "mps", S.ONGOING),
    }.items()):  # fmt: skip
        quarter.at(f"2024-10-05 10:0{minute}")  # one submission after the other
        report = services.save_draft(
            quarter.obligation(number, code), ReportInput(status=status, progress="已开展。"),
            actor=people[code], expected_version=None,
        )  # fmt: skip
        services.submit_report(report, actor=people[code])
        made[key] = report.obligation_id
    # the lead submits once its supporting input is in: waive the two others
    for code in ("moa", "acwf"):
        services.waive_obligation(quarter.obligation(11, code), actor=people["coordinator"],
                                  reason="本期无相关工作")  # fmt: skip
    quarter.at("2024-10-05 10:05")
    lead = services.save_draft(
        quarter.obligation(11, "mps"), ReportInput(status=S.IN_PROGRESS, progress="汇总。"),
        actor=people["mps"], expected_version=None,
    )  # fmt: skip
    services.submit_report(lead, actor=people["mps"])
    made["mps11"] = lead.obligation_id
    db.session.commit()
    return {"people": people, **made}


def _rows(client, query=""):
    response = client.get(f"/reports/review{query}")
    assert response.status_code == 200
    html = unescape(response.get_data(as_text=True))
    ids = [int(i) for i in re.findall(r'<tr data-obligation="(\d+)"', html)]
    return ids, html


def test_the_queue_is_sorted_by_due_date_and_shows_the_self_rating(client, login, queue):
    login(queue["people"]["coordinator"])
    ids, html = _rows(client)
    # support is due 10-08, everything else 10-10
    assert ids[0] == queue["moj11"] and set(ids) == {
        queue[k] for k in ("moj11", "mca5", "mps22", "mps11")
    }
    row = html[html.index(f'data-obligation="{queue["mca5"]}"') :]
    assert re.match(r'.*?data-field="status">未启动<', row, re.S)
    by_submission, _ = _rows(client, "?sort=submitted")
    assert by_submission == [queue[k] for k in ("moj11", "mca5", "mps22", "mps11")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?department=mps", {"mps22", "mps11"}),
        ("?role=support", {"moj11"}),
        ("?number=11", {"moj11", "mps11"}),
        ("?due_from=2024-10-09", {"mca5", "mps22", "mps11"}),
        ("?due_to=2024-10-08", {"moj11"}),
        ("?period=2024Q3&department=mca&role=support", set()),
    ],
)
def test_filters(client, login, queue, query, expected):
    login(queue["people"]["coordinator"])
    ids, _ = _rows(client, query)
    assert set(ids) == {queue[k] for k in expected}


def test_the_state_filter_and_a_wrong_filter(client, login, queue):
    login(queue["people"]["coordinator"])
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == queue["mca5"]))
    services.accept_report(report, actor=queue["people"]["coordinator"])
    db.session.commit()
    ids, _ = _rows(client, "?state=accepted")
    assert ids == [queue["mca5"]]
    ids, html = _rows(client, "?state=all")
    assert len(ids) == 4 and 'name="ids"' not in html  # bulk accept only on the waiting queue
    for wrong in ("?number=abc", "?due_from=2024-10-10&due_to=2024-10-01", "?state=nonsense"):
        ids, html = _rows(client, wrong)
        assert "筛选条件有误" in html, wrong
        assert len(ids) == 3, wrong  # the whole waiting queue instead


def _post_accept(client, obligation_id, queue_args):
    return client.post(f"/obligations/{obligation_id}/accept",
                       data={"confirmed_status": "in_progress", "queue": queue_args})  # fmt: skip


def test_after_a_decision_the_next_report_of_the_same_queue(client, login, queue):
    login(queue["people"]["coordinator"])
    _, html = _rows(client, "?department=mps")
    link = re.search(rf'href="(/obligations/{queue["mps22"]}\?queue=[^"]+)"', html).group(1)
    queue_args = parse_qs(urlsplit(link).query)["queue"][0]
    assert parse_qs(queue_args) == {"department": ["mps"]}
    page = unescape(client.get(link).get_data(as_text=True))
    assert f'name="queue" value="{queue_args}"' in page and 'id="queue-link"' in page

    first = _post_accept(client, queue["mps22"], queue_args)
    assert first.status_code == 302
    target = first.headers["Location"]
    assert target.startswith(f"/obligations/{queue['mps11']}?queue=") and target.endswith("#review")
    returned = client.post(f"/obligations/{queue['mps11']}/return",
                           data={"reason": "请补充数据。", "queue": queue_args})  # fmt: skip
    assert returned.headers["Location"] == "/reports/review?department=mps"
    page = unescape(client.get(returned.headers["Location"]).get_data(as_text=True))
    assert "筛选范围内已没有待审核的报告" in page
    # without a queue, the coordinator stays on the report
    plain = _post_accept(client, queue["mca5"], "")
    assert plain.headers["Location"] == f"/obligations/{queue['mca5']}"


def test_a_decision_from_page_two_returns_to_page_two(client, login, queue, monkeypatch):
    """The page number rides with the queue's filter: to each report, back by the queue link,
    and after a bulk or a single decision; a page that deciding emptied gives the last one."""
    from tracker.reports import routes

    monkeypatch.setattr(routes, "REVIEW_PER_PAGE", 2)
    login(queue["people"]["coordinator"])
    ids, html = _rows(client, "?sort=due&page=2")
    assert ids == [queue["mps22"], queue["mps11"]] and "第 2 / 2 页" in html
    link = re.search(rf'href="(/obligations/{queue["mps22"]}\?queue=[^"]+)"', html).group(1)
    queue_args = parse_qs(urlsplit(link).query)["queue"][0]
    assert parse_qs(queue_args) == {"sort": ["due"], "page": ["2"]}
    page = unescape(client.get(link).get_data(as_text=True))
    assert f'href="/reports/review?{queue_args}"' in page  # 返回审核列表 goes to page 2

    chosen = {"ids": [queue["mps22"]], "confirm": "1", "queue": queue_args}
    bulk = client.post("/reports/review/accept", data=chosen)
    assert bulk.headers["Location"] == "/reports/review?sort=due&page=2"
    ids, html = _rows(client, "?sort=due&page=2")
    assert ids == [queue["mps11"]]

    single = _post_accept(client, queue["mps11"], queue_args)  # the next one is the queue's head
    target = single.headers["Location"]
    assert target.startswith(f"/obligations/{queue['moj11']}?queue=")
    assert parse_qs(parse_qs(urlsplit(target).query)["queue"][0])["page"] == ["2"]
    # page 2 is now empty (two reports wait, one page): it says so and links to page 1
    ids, html = _rows(client, "?sort=due&page=2")
    assert ids == [] and "本页没有报告（共 2 份）" in html
    assert 'href="/reports/review?sort=due">回到第 1 页' in html
    client.post(f"/obligations/{queue['moj11']}/return",
                data={"reason": "请补充数据。", "queue": queue_args})  # fmt: skip
    last = _post_accept(client, queue["mca5"], queue_args)
    assert last.headers["Location"] == "/reports/review?sort=due"  # emptied: back to page 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Report)
            .where(Report.state == ReportState.SUBMITTED)
        )
        == 0
    )


def _accepts() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "report.accept")
    )


def test_bulk_accept_confirms_first_then_accepts_each_with_its_self_rating(client, login, queue):
    login(queue["people"]["coordinator"])
    chosen = [queue["moj11"], queue["mca5"]]
    first = client.post("/reports/review/accept", data={"ids": chosen, "queue": "role=support"})
    assert first.status_code == 200
    page = unescape(first.get_data(as_text=True))
    assert "确认审核通过 2 份报告" in page and "已完成" in page and "未启动" in page
    assert _accepts() == 0  # nothing yet
    done = client.post("/reports/review/accept",
                       data={"ids": chosen, "confirm": "1", "queue": "role=support"})  # fmt: skip
    assert done.status_code == 302 and done.headers["Location"] == "/reports/review?role=support"
    db.session.expire_all()
    reports = {r.obligation_id: r for r in db.session.scalars(sa.select(Report))}
    assert reports[queue["moj11"]].confirmed_status == S.COMPLETED
    assert reports[queue["mca5"]].confirmed_status == S.NOT_STARTED
    assert reports[queue["mps22"]].state == ReportState.SUBMITTED
    assert _accepts() == 2
    assert "已审核通过 2 份报告" in unescape(
        client.get(done.headers["Location"]).get_data(as_text=True)
    )


def test_bulk_accept_is_all_or_none(client, login, queue):
    coordinator = queue["people"]["coordinator"]
    login(coordinator)
    report = db.session.scalar(sa.select(Report).where(Report.obligation_id == queue["mca5"]))
    services.return_report(report, actor=coordinator, reason="请补充")  # meanwhile, by another
    db.session.commit()
    before = _accepts()
    both = {"ids": [queue["moj11"], queue["mca5"]], "confirm": "1"}
    response = client.post("/reports/review/accept", data=both)
    assert response.status_code == 422
    assert "本次未通过任何报告" in unescape(response.get_data(as_text=True))
    db.session.expire_all()
    moj = db.session.scalar(sa.select(Report).where(Report.obligation_id == queue["moj11"]))
    assert moj.state == ReportState.SUBMITTED and _accepts() == before
    empty = client.post("/reports/review/accept", data={"confirm": "1"})
    assert empty.status_code == 302 and _accepts() == before


def test_only_coordinators_bulk_accept(client, login, queue):
    login(queue["people"]["mps"])
    response = client.post("/reports/review/accept", data={"ids": [queue["moj11"]], "confirm": "1"})
    assert response.status_code == 403 and _accepts() == 0
