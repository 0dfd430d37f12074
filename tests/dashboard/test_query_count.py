"""Speed at scale: each page runs a fixed number of queries, however large the portfolio."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import submit
from tracker.catalogue.models import Assignment, Department, PolicyDocument, Role, Task
from tracker.catalogue.services import national_jurisdiction
from tracker.dashboard import services
from tracker.dashboard.queries.cache import answer_cache
from tracker.extensions import db
from tracker.periods import Period
from tracker.reports import services as report_services
from tracker.reports.models import Obligation

Q3 = Period(2024, 3)
MOST = 29  # queries per page, whatever the data size, with nothing cached (the dashboard 17,
# the matrix page's items and their number being two statements; with the delivery lights:
# plans in force and judgements, and a frozen quarter's snapshot,
# and at a central instance the provinces card's read of the members;
# its to-do block 10: the first
# entries and the count of each of its four lists, the frozen quarters and the unstaffed
# departments; and the one read of the data versions)


def _add_documents(count: int, items: int, liaison) -> None:
    """More documents, each item led by 全国妇联 with 农业农村部 and 中国残联 supporting."""
    by_code = {d.code: d for d in db.session.scalars(sa.select(Department))}
    national = national_jurisdiction()
    for k in range(count):
        document = PolicyDocument(number=f"测试〔2024〕{k + 1}号", title="测试文件", issuer="测试")
        db.session.add(document)
        for n in range(1, items + 1):
            task = Task(number=n, section="三(一)", text=f"第{n}项", clause="")
            document.tasks.append(task)
            for position, (code, role) in enumerate(
                [("acwf", Role.LEAD), ("moa", Role.SUPPORT), ("cdpf", Role.SUPPORT)]
            ):
                task.assignments.append(
                    Assignment(department=by_code[code], jurisdiction=national, role=role,
                               position=position)
                )  # fmt: skip
    db.session.flush()
    report_services.open_period(Q3)
    db.session.commit()
    extra = db.session.scalars(
        sa.select(Obligation)
        .join(Task, Task.id == Obligation.task_id)
        .join(PolicyDocument, PolicyDocument.id == Task.document_id)
        .where(
            PolicyDocument.number.like("测试%"), Obligation.department_id == liaison.department_id
        )
        .limit(5)
    )
    for obligation in list(extra):
        submit(obligation, liaison)


def _counts(client, count_queries, urls, *, cold: bool = True) -> dict[str, int]:
    """Queries per URL: ``cold``, with the cached answers forgotten first (as after a write);
    else warm, right after a first view of the same URL."""
    counts = {}
    for url in urls:
        if cold:
            answer_cache().clear()
        else:
            assert client.get(url).status_code == 200, url
        with count_queries() as counter:
            assert client.get(url).status_code == 200, url
        counts[url] = counter.count
    return counts


@pytest.mark.parametrize("frozen", [False, True], ids=["live", "frozen"])
def test_queries_do_not_grow_with_the_portfolio(scenario, client, login, count_queries, frozen):
    quarter = scenario["quarter"]
    if frozen:  # 2024Q3 closed on 10-16; 2024Q4 is being reported
        quarter.at("2024-10-17 09:00")
        services.freeze_due_snapshots()
        report_services.open_period(Period(2024, 4))
        db.session.commit()
    task_id = db.session.scalar(sa.select(Task.id).where(Task.number == 18))
    document_id = db.session.scalar(sa.select(PolicyDocument.id))
    urls = [
        "/dashboard?period=2024Q3",
        "/dashboard?period=2024Q3&state=red&role=support",
        f"/dashboard?period=2024Q3&section=三&document={document_id}",
        "/dashboard/scorecard?period=2024Q3&sort=red_share",
        "/dashboard/trends",
        f"/dashboard/items/{task_id}",
        "/dashboard/departments/acwf?period=2024Q3",
    ]
    login(scenario["coordinator"])
    before = _counts(client, count_queries, urls)
    warm_before = _counts(client, count_queries, urls, cold=False)
    _add_documents(2, 30, scenario["moa"])  # from 23 items to 83, and 74 obligations to 254
    after = _counts(client, count_queries, urls)
    warm_after = _counts(client, count_queries, urls, cold=False)
    assert after == before
    assert warm_after == warm_before
    assert max(before.values()) <= MOST, before


@pytest.mark.parametrize("frozen", [False, True], ids=["live", "frozen"])
def test_a_warm_view_runs_fewer_queries(scenario, client, login, count_queries, frozen):
    """The second view of the same dashboard reads its answer from the cache: the aggregate,
    the urges, the matrix, the overdue list and the coordinator's to-do are not run again."""
    if frozen:
        scenario["quarter"].at("2024-10-17 09:00")
        services.freeze_due_snapshots()
        report_services.open_period(Period(2024, 4))
        db.session.commit()
    login(scenario["coordinator"])
    urls = ["/dashboard?period=2024Q3", "/dashboard/departments/acwf?period=2024Q3",
            "/dashboard/scorecard?period=2024Q3"]  # fmt: skip
    cold = _counts(client, count_queries, urls)
    warm = _counts(client, count_queries, urls, cold=False)
    for url in urls:
        assert warm[url] < cold[url], (url, cold[url], warm[url])
    # The dashboard keeps only the page's own reads: session, user, menus, the versions.
    assert warm["/dashboard?period=2024Q3"] <= cold["/dashboard?period=2024Q3"] - 10, warm


def test_department_view_runs_as_few_queries(scenario, client, login, count_queries):
    login(scenario["acwf"])
    before = _counts(client, count_queries, ["/dashboard"])
    warm = _counts(client, count_queries, ["/dashboard"], cold=False)
    _add_documents(1, 30, scenario["moa"])
    assert _counts(client, count_queries, ["/dashboard"]) == before
    assert _counts(client, count_queries, ["/dashboard"], cold=False) == warm
    assert warm["/dashboard"] < before["/dashboard"]
