"""The API's lists are paged (``?limit=&cursor=``, the next page's address in ``next``): every
row exactly once along the ``next`` links, the same number of queries per page however large the
portfolio and its history, the department scope on every page (a cursor cannot reach another
department's rows), and a clear 400 for a bad limit or cursor."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.reports.conftest import grow_portfolio
from tracker.catalogue.models import Department, Task
from tracker.extensions import db
from tracker.notifications.models import Notification, NotificationKind
from tracker.reports.limits import DEFAULT_PAGE
from tracker.reports.models import Obligation


def _walk(client, path: str) -> tuple[list[dict], int]:
    """Every item along the ``next`` links from ``path``, and the number of pages."""
    items, pages = [], 0
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        path = body["next"]
        pages += 1
        assert pages < 200, "next never ends"
    return items, pages


def _period_obligations(code: str | None = None) -> list[int]:
    query = sa.select(Obligation.id).where(Obligation.period == "2024Q3")
    if code is not None:
        query = query.join(Department, Department.id == Obligation.department_id).where(
            Department.code == code
        )
    return list(db.session.scalars(query))


def _notify(user, count: int) -> None:
    for k in range(count):  # the clock stands still: equal times, ordered by id
        db.session.add(
            Notification(user_id=user.id, kind=NotificationKind.REMINDER, title=f"提醒{k}")
        )
    db.session.commit()


def test_obligations_page_through_every_row_once_in_item_order(
    api, app, make_user, quarter, monkeypatch
):
    grow_portfolio(app, monkeypatch, documents=2, items=15)
    coordinator = api(make_user("coordinator", "mca"))
    whole = coordinator.get("/obligations?limit=500").get_json()
    assert whole["next"] is None
    items, pages = _walk(coordinator, "/obligations?period=2024Q3&limit=17")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == len(_period_obligations())
    assert ids == [item["id"] for item in whole["items"]]  # the same order as one page
    assert pages == -(-len(ids) // 17)


def test_a_default_page_has_a_next_link_where_clients_read_the_whole_list(
    api, app, make_user, quarter, monkeypatch
):
    grow_portfolio(app, monkeypatch, documents=2, items=25)
    coordinator = api(make_user("coordinator", "mca"))
    body = coordinator.get("/obligations").get_json()
    assert len(body["items"]) == DEFAULT_PAGE and body["next"]
    assert "limit=100" in body["next"] and "cursor=" in body["next"]
    narrowed = coordinator.get("/obligations?department=moa&limit=5").get_json()
    assert "department=moa" in narrowed["next"]  # the filter is kept on the next page
    items, _ = _walk(coordinator, "/obligations?department=moa&limit=5")
    assert {item["id"] for item in items} == set(_period_obligations("moa"))


def test_a_liaison_pages_through_its_own_department_only(api, app, make_user, quarter, monkeypatch):
    grow_portfolio(app, monkeypatch, documents=2, items=15)
    moa = api(make_user("liaison", "moa"))
    items, pages = _walk(moa, "/obligations?limit=4")
    assert pages > 2
    assert {item["id"] for item in items} == set(_period_obligations("moa"))
    assert len(items) == len({item["id"] for item in items})

    # A cursor naming another department's obligation, or another quarter's, is refused.
    foreign = _period_obligations("acwf")[0]
    for cursor in (foreign, db.session.scalar(sa.select(sa.func.max(Obligation.id))) + 1):
        response = moa.get(f"/obligations?limit=4&cursor={cursor}")
        assert response.status_code == 400
        body = response.get_json()
        assert body["error"] == "invalid" and "游标无效" in body["fields"]["cursor"]
    own_other_quarter = db.session.scalar(
        sa.select(Obligation.id).where(
            Obligation.department_id == make_user("liaison", "moa").department_id,
            Obligation.period != "2024Q3",
        )
    )
    if own_other_quarter is not None:
        assert moa.get(f"/obligations?cursor={own_other_quarter}").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=x", "limit=-1", "cursor=x", "cursor=-5", "cursor=1.5",
     "cursor=99999999999", "cursor=4294967296", "cursor="],
)  # fmt: skip
@pytest.mark.parametrize("path", ["/obligations", "/tasks", "/notifications"])
def test_a_bad_limit_or_cursor_is_a_400_in_words(api, make_user, quarter, path, query):
    response = api(make_user("liaison", "moa")).get(f"{path}?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid" and set(body["fields"]) <= {"limit", "cursor"}


def test_tasks_page_through_every_item_once(api, app, make_user, quarter, monkeypatch):
    grow_portfolio(app, monkeypatch, documents=3, items=12)
    reader = api(make_user("liaison", "moa"))
    items, pages = _walk(reader, "/tasks?limit=10")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == db.session.scalar(sa.select(sa.func.count(Task.id)))
    assert pages == -(-len(ids) // 10)
    assert reader.get("/tasks?cursor=100000").get_json() == {"items": [], "next": None}
    document = reader.get("/tasks?document=增长〔2024〕2号&limit=5").get_json()
    assert "document=" in document["next"]
    items, _ = _walk(reader, "/tasks?document=增长〔2024〕2号&limit=5")
    assert len(items) == 12


def test_notifications_page_through_ones_own_once_newest_first(api, make_user, quarter):
    moa, other = make_user("liaison", "moa"), make_user("liaison", "moa")
    _notify(moa, 23)
    _notify(other, 5)
    client = api(moa)
    items, pages = _walk(client, "/notifications?limit=5")
    own = list(
        db.session.scalars(
            sa.select(Notification.id)
            .where(Notification.user_id == moa.id)
            .order_by(Notification.id.desc())
        )
    )
    assert [item["id"] for item in items] == own and pages == 5
    theirs = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == other.id))
    response = client.get(f"/notifications?cursor={theirs}")
    assert response.status_code == 400 and "cursor" in response.get_json()["fields"]


def test_each_list_runs_as_many_queries_with_much_more_history(
    api,
    app,
    make_user,
    quarter,
    monkeypatch,
    count_queries,
):
    coordinator, liaison = make_user("coordinator", "mca"), make_user("liaison", "moa")
    _notify(liaison, 3)
    clients = {"coordinator": api(coordinator), "liaison": api(liaison)}
    lists = [
        ("coordinator", "/obligations?limit=20"),
        ("liaison", "/obligations?limit=3"),
        ("coordinator", "/tasks?limit=20"),
        ("liaison", "/notifications?limit=2"),
    ]

    def counts(second_page: bool) -> list[int]:
        found = []
        for who, path in lists:
            client = clients[who]
            if second_page:
                path = client.get(path).get_json()["next"]
                assert path, "a second page"
            client.get(path)  # warm: a token's first use of the minute records it
            with count_queries() as counter:
                assert client.get(path).status_code == 200
            found.append(counter.count)
        return found

    first, second = counts(False), counts(True)
    grow_portfolio(app, monkeypatch, documents=6, items=20, first="2022Q1")
    _notify(liaison, 80)
    assert counts(False) == first
    assert counts(True) == second
