"""Pages that do not grow with history: every list page runs as many queries with one document
and one quarter as with many of both, pages through every row exactly once, keeps its filters
and period across pages, stays inside the reader's department on every page, and answers a bad
page number with the first page (never a 500)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import submit
from tests.reports.conftest import grow_portfolio
from tracker.catalogue.models import Department, Role
from tracker.extensions import db
from tracker.notifications.models import Notification, NotificationKind
from tracker.reports import routes
from tracker.reports.models import Obligation
from tracker.reports.routes import MINE_PER_PAGE

ROW = re.compile(r'<tr data-obligation="(\d+)"')


def _queries(client, count_queries, url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return counter.count


def _obligation_ids(code: str, period: str = "2024Q3") -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Obligation.id)
            .join(Department, Department.id == Obligation.department_id)
            .where(Department.code == code, Obligation.period == period)
        )
    )


def _walk(client, url: str) -> tuple[list[int], list[str]]:
    """Every obligation row of every page of ``url``, following 下一页; and the pages read."""
    seen, pages = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        pages.append(html)
        seen += [int(i) for i in ROW.findall(html)]
        following = re.search(r'<a href="([^"]+)">下一页</a>', html)
        url = following.group(1).replace("&amp;", "&") if following else None
        assert len(pages) < 100, "the pager does not end"
    return seen, pages


def _notify(user, count: int) -> None:
    for k in range(count):
        db.session.add(
            Notification(user_id=user.id, kind=NotificationKind.REMINDER, title=f"提醒{k}")
        )
    db.session.commit()


def _supporting(liaison, count: int) -> list[Obligation]:
    """Some of the liaison's supporting obligations (a support reports without waiting)."""
    return list(
        db.session.scalars(
            sa.select(Obligation)
            .where(
                Obligation.department_id == liaison.department_id,
                Obligation.role == Role.SUPPORT,
            )
            .order_by(Obligation.id.desc())
            .limit(count)
        )
    )


def test_every_list_page_runs_as_many_queries_with_much_more_history(
    app,
    client,
    login,
    make_user,
    quarter,
    monkeypatch,
    count_queries,
):
    liaison = make_user("liaison", "moa")
    coordinator = make_user("coordinator", "mca")
    admin = make_user("admin")
    _notify(liaison, 3)
    for obligation in _supporting(liaison, 2):
        submit(obligation, liaison)
    monkeypatch.setattr(routes, "REVIEW_PER_PAGE", 1)  # a second page of waiting reports
    pages = [
        (liaison, "/reports"),
        (liaison, "/reports?period=2024Q3&page=2"),
        (liaison, "/notifications"),
        (liaison, "/tasks"),
        (coordinator, "/reports"),
        (coordinator, "/reports?page=2"),
        (coordinator, "/reports/review"),
        (coordinator, "/reports/review?page=2"),
        (coordinator, "/reports/review?state=all"),
        (coordinator, "/reports/review?state=all&sort=submitted&page=2"),
        (admin, "/admin/users"),
    ]

    def counts() -> list[int]:
        found = []
        for user, url in pages:
            login(user)
            client.get(url)  # warm: the first request of a session may load more
            found.append(_queries(client, count_queries, url))
        return found

    before = counts()
    # Twelve quarters and eight documents more; more accounts and notifications too.
    grow_portfolio(app, monkeypatch, documents=8, items=20, first="2021Q4")
    for obligation in _supporting(liaison, 30):
        submit(obligation, liaison)
    _notify(liaison, 60)
    for _ in range(60):
        make_user("viewer", "moa")
    assert counts() == before


def test_the_liaisons_list_pages_through_every_obligation_of_the_period_once(
    app, client, login, make_user, quarter, monkeypatch
):
    grow_portfolio(app, monkeypatch, documents=3, items=30, first="2023Q3")
    liaison = make_user("liaison", "acwf")
    login(liaison)
    expected = _obligation_ids("acwf")
    assert len(expected) > 2 * MINE_PER_PAGE  # three pages at least
    seen, pages = _walk(client, "/reports?period=2024Q3")
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    assert all(len(ROW.findall(page)) <= MINE_PER_PAGE for page in pages)
    assert f"共 {len(expected)} 条" in pages[0]
    assert "上一页" in pages[-1] and "下一页" not in pages[-1]

    # Another quarter is paged by itself, its period kept on every page link.
    earlier, pages = _walk(client, "/reports?period=2023Q3")
    assert set(earlier) == _obligation_ids("acwf", "2023Q3")
    assert all(
        "period=2023Q3" in link for link in re.findall(r'href="(/reports\?[^"]+)"', pages[0])
    )


@pytest.mark.parametrize("page", ["2", "999", "0", "-3", "abc", "1.5", ""])
def test_a_liaison_never_sees_another_departments_rows_on_any_page(
    app, client, login, make_user, quarter, monkeypatch, page
):
    grow_portfolio(app, monkeypatch, documents=2, items=40)
    login(make_user("liaison", "moa"))
    own = _obligation_ids("moa")
    response = client.get(f"/reports?page={page}")
    assert response.status_code == 200
    rows = {int(i) for i in ROW.findall(response.get_data(as_text=True))}
    assert rows <= own
    if page in ("0", "-3", "abc", "1.5", ""):  # a bad page number reads as the first
        first = {int(i) for i in ROW.findall(client.get("/reports").get_data(as_text=True))}
        assert rows == first and rows


@pytest.mark.parametrize("page", ["%00", "99999999999"])
def test_a_page_number_no_page_can_have_is_refused_in_words(
    client, login, make_user, quarter, page
):
    login(make_user("liaison", "moa"))
    response = client.get(f"/reports?page={page}")
    assert response.status_code == 400
    assert "页" in response.get_data(as_text=True) or "字符" in response.get_data(as_text=True)


def test_a_page_beyond_the_last_lists_nothing_and_says_so(
    app, client, login, make_user, quarter, monkeypatch
):
    login(make_user("liaison", "acwf"))
    html = client.get("/reports?page=50").get_data(as_text=True)
    assert not ROW.findall(html)
    total = len(_obligation_ids("acwf"))
    assert f"本页没有事项（本期共 {total} 项）" in html and "回到第 1 页" in html  # the way back


def test_returned_reports_are_listed_above_whatever_page_is_read(
    app, client, login, make_user, quarter, monkeypatch
):
    from tracker.reports import services

    grow_portfolio(app, monkeypatch, documents=2, items=40)
    liaison, coordinator = make_user("liaison", "moa"), make_user("coordinator", "mca")
    last = db.session.scalar(
        sa.select(Obligation)
        .where(Obligation.department_id == liaison.department_id, Obligation.period == "2024Q3")
        .order_by(Obligation.id.desc())
        .limit(1)
    )
    report = submit(last, liaison)
    services.return_report(report, actor=coordinator, reason="请补充第三季度的数据。")
    db.session.commit()
    login(liaison)
    for page in ("1", "2"):
        html = client.get(f"/reports?page={page}").get_data(as_text=True)
        assert "被退回的报告（1）" in html and "请补充第三季度的数据。" in html


def test_browsing_decided_reports_reads_the_current_quarter_unless_told_otherwise(
    app, client, login, make_user, quarter, monkeypatch
):
    grow_portfolio(app, monkeypatch, documents=1, items=5, first="2023Q4")
    liaison, coordinator = make_user("liaison", "moa"), make_user("coordinator", "mca")
    earlier = db.session.scalar(
        sa.select(Obligation).where(
            Obligation.department_id == liaison.department_id,
            Obligation.period == "2023Q4",
            Obligation.role == Role.SUPPORT,
        )
    )
    now = _supporting(liaison, 1)[0]
    assert now.period == "2024Q3"
    submit(earlier, liaison)
    submit(now, liaison)
    login(coordinator)

    def rows(query: str) -> set[int]:
        html = client.get(f"/reports/review{query}").get_data(as_text=True)
        return {int(i) for i in ROW.findall(html)}

    assert rows("?state=all") == {now.id}  # the current quarter
    assert rows("?state=all&period=") == {now.id, earlier.id}  # 全部报告期, chosen
    assert rows("?state=all&period=2023Q4") == {earlier.id}
    assert rows("") == {now.id, earlier.id}  # the waiting queue keeps every quarter


def test_the_narrow_totals_count_what_the_pages_list(quarter, make_user):
    """The totals the coordinator's /reports and the review queue page by (counted without
    the pages' joins) are the numbers of rows their queries list, for every filter."""
    from tests.dashboard.conftest import submit
    from tracker.catalogue.models import Department
    from tracker.periods import Period
    from tracker.reports import queries
    from tracker.reports.models import ReportState

    liaison = make_user("liaison", "mca")
    for number in (1, 2, 5, 6, 14):
        submit(quarter.obligation(number, "mca"), liaison)
    period = Period(2024, 3)
    mca = db.session.scalar(sa.select(Department.id).where(Department.code == "mca"))
    for departments in (None, {mca}, set()):
        listed = db.session.scalars(
            queries.obligations_query(period, department_ids=departments)
        ).unique()
        total = db.session.scalar(queries.obligations_total(period, department_ids=departments))
        assert total == len(list(listed)), departments
    filters = [
        queries.ReviewFilter(), queries.ReviewFilter(state=None),
        queries.ReviewFilter(number=5), queries.ReviewFilter(department_id=mca, role=Role.LEAD),
        queries.ReviewFilter(period="2024Q2"), queries.ReviewFilter(state=ReportState.ACCEPTED),
        queries.ReviewFilter(due_to=quarter.obligation(5, "mca").due_date),
    ]  # fmt: skip
    for chosen in filters:
        listed = list(db.session.scalars(queries.review_query(chosen)).unique())
        assert db.session.scalar(queries.review_total(chosen)) == len(listed), chosen
    assert db.session.scalar(queries.review_total(queries.ReviewFilter())) == 5


def test_the_pages_are_cut_from_keys_in_the_lists_own_order(quarter, make_user):
    """The narrow keys a page is cut from are the ids of the rows the list's query lists, in
    the same order, for every filter and both sorts of the review queue."""
    from tracker.catalogue.models import Department
    from tracker.periods import Period
    from tracker.reports import queries
    from tracker.reports.models import ReportState

    liaison = make_user("liaison", "mca")
    for number in (1, 2, 5, 6, 14):
        submit(quarter.obligation(number, "mca"), liaison)
    period = Period(2024, 3)
    mca = db.session.scalar(sa.select(Department.id).where(Department.code == "mca"))
    for departments in (None, {mca}, set()):
        listed = db.session.scalars(
            queries.obligations_query(period, department_ids=departments)
        ).unique()
        keys = db.session.scalars(queries.obligations_keys(period, department_ids=departments))
        assert list(keys) == [o.id for o in listed], departments
    for sort in ("due", "submitted"):
        for chosen in [
            queries.ReviewFilter(sort=sort), queries.ReviewFilter(state=None, sort=sort),
            queries.ReviewFilter(number=5, sort=sort), queries.ReviewFilter(document_id=1),
            queries.ReviewFilter(department_id=mca, role=Role.LEAD, sort=sort),
            queries.ReviewFilter(state=ReportState.ACCEPTED, sort=sort),
        ]:  # fmt: skip
            listed = db.session.scalars(queries.review_query(chosen)).unique()
            keys = list(db.session.scalars(queries.review_keys(chosen)))
            assert keys == [o.id for o in listed], chosen
    assert len(list(db.session.scalars(queries.review_keys(queries.ReviewFilter())))) == 5


@pytest.mark.parametrize("query", ["", "?sort=submitted", "?state=all&sort=submitted"])
def test_the_review_queue_pages_through_every_report_once_in_its_order(
    client, login, make_user, quarter, monkeypatch, query
):
    from tracker.reports import queries

    liaison = make_user("liaison", "mca")
    for number in (1, 2, 5, 6, 14):
        submit(quarter.obligation(number, "mca"), liaison)
    monkeypatch.setattr(routes, "REVIEW_PER_PAGE", 2)
    login(make_user("coordinator", "mca"))
    seen, pages = _walk(client, f"/reports/review{query}")
    sort = "submitted" if "submitted" in query else "due"
    state = None if "all" in query else queries.ReviewFilter.state
    chosen = queries.ReviewFilter(sort=sort, state=state)
    assert seen == [o.id for o in db.session.scalars(queries.review_query(chosen)).unique()]
    assert len(pages) == 3 and all(len(ROW.findall(page)) <= 2 for page in pages)
    assert all(
        f"sort={sort}" in link
        for page in pages[1:] if "submitted" in query
        for link in re.findall(r'href="(/reports/review\?[^"]*page=[^"]+)"', page)
    )  # fmt: skip


def test_the_coordinators_reports_page_through_the_whole_period_in_item_order(
    app, client, login, make_user, quarter, monkeypatch
):
    from tracker.periods import Period
    from tracker.reports import queries

    grow_portfolio(app, monkeypatch, documents=2, items=30, first="2024Q1")
    login(make_user("coordinator", "mca"))
    seen, pages = _walk(client, "/reports?period=2024Q3")
    listed = db.session.scalars(queries.obligations_query(Period(2024, 3))).unique()
    assert seen == [o.id for o in listed] and len(pages) > 2
