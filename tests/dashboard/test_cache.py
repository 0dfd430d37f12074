"""The cached dashboard answers stay true: every kind of write, a new day, another app instance.

Each test warms the cache with a view, changes something (or only the day), and compares what
the dashboard shows next with a recount made with the cache emptied: they must agree, and the
write must have changed the figures (else the comparison would prove nothing).
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.dashboard.conftest import accept, submit
from tracker import create_app
from tracker.catalogue.models import Assignment, Task
from tracker.dashboard import freshness, queries
from tracker.dashboard.models import PeriodVersion
from tracker.dashboard.queries.cache import answer_cache
from tracker.extensions import db
from tracker.followups import services as followups
from tracker.periods import Period
from tracker.reports import services as reports
from tracker.reports.models import Obligation

Q3 = Period(2024, 3)


def shown(**filters) -> dict:
    """The API's dashboard and the page's figures, through the cache, in a new transaction."""
    db.session.rollback()  # a new transaction, as a new request has
    data = queries.dashboard_data(Q3, **filters)
    page = queries.dashboard(queries.make_scope(Q3, **filters), previous=None)
    headline = queries.headline(Q3, **filters)
    db.session.rollback()
    return {"data": data, "page": page.headline, "rows": page.matrix.rows, "headline": headline}


def recounted(**filters) -> dict:
    """The same with nothing cached."""
    answer_cache().clear()
    return shown(**filters)


def version(period: str = Q3.key) -> int:
    return (
        db.session.scalar(sa.select(PeriodVersion.version).where(PeriodVersion.period == period))
        or 0
    )


def _submit(s):
    submit(s["quarter"].obligation(22, "cdpf"), s["cdpf"])


def _accept(s):
    accept(s["quarter"].obligation(3, "moa"), s["coordinator"])


def _return(s):
    reports.return_report(
        s["quarter"].obligation(5, "mca").report, actor=s["coordinator"], reason="请补充。"
    )
    db.session.commit()


def _waive(s):
    reports.waive_obligation(s["quarter"].obligation(3, "mct"), actor=s["coordinator"], reason="无")
    db.session.commit()


def _extend(s):
    request = followups.request_extension(
        s["quarter"].obligation(1, "mca"), actor=s["mca"],
        requested_due_date=date(2024, 10, 31), reason="调研",
    )  # fmt: skip
    followups.approve_extension(request, actor=s["coordinator"])
    db.session.commit()


def _urge(s):
    followups.urge_obligation(
        s["quarter"].obligation(3, "mct"), actor=s["coordinator"], message="请报送"
    )
    db.session.commit()


def _unassign(s):
    """A catalogue change: an item loses a department (its obligation goes with it)."""
    task = db.session.scalar(sa.select(Task).where(Task.number == 3))
    assignment = next(a for a in task.assignments if a.department.code == "mct")
    db.session.execute(sa.delete(Obligation).where(Obligation.assignment_id == assignment.id))
    db.session.delete(db.session.get(Assignment, assignment.id))
    db.session.commit()


def _bulk(s):
    """A statement outside the unit of work (as the demo data and the row locks use)."""
    db.session.execute(
        sa.update(Obligation)
        .where(Obligation.period == Q3.key, Obligation.department_id == s["mct"].department_id)
        .values(waived=True)
    )
    db.session.commit()


WRITES = [_submit, _accept, _return, _waive, _extend, _urge, _unassign, _bulk]


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__.strip("_") for w in WRITES])
def test_each_kind_of_write_shows_at_once(scenario, write):
    before = shown()
    assert shown() == before  # served from the cache
    hits = answer_cache().hits
    assert shown() == before and answer_cache().hits > hits
    write(scenario)
    after = shown()
    assert after == recounted()
    assert after != before, "the write changed nothing: the test would prove nothing"


def test_the_page_and_its_to_do_show_a_submission_at_once(scenario, client, login):
    login(scenario["coordinator"])
    review, urged = '#review">第22项 · 中国残联', '#urges">第22项 · 中国残联'
    for _ in range(2):  # the second view from the cache
        page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
        assert urged in page and review not in page
    _submit(scenario)  # now waiting for review, and the urge no longer open
    page = client.get("/dashboard?period=2024Q3").get_data(as_text=True)
    assert review in page and urged not in page


def test_a_filtered_answer_follows_a_change_of_an_items_part(scenario):
    task = db.session.scalar(sa.select(Task).where(Task.number == 3))
    part = task.section.split("(")[0]
    before = shown(section=part)
    task.section = "四" if part != "四" else "二"  # the item moves to another part
    db.session.commit()
    after = shown(section=part)
    assert after == recounted(section=part) and after != before


def test_a_new_day_changes_the_lights_without_a_write(scenario):
    """Lead reports were due on 10-10: on 10-11 the unsubmitted ones are red, not amber."""
    before = shown()
    bumped = version()
    scenario["quarter"].at("2024-10-11 10:00")
    after = shown()
    assert version() == bumped  # nothing was written
    assert after["headline"].overdue > before["headline"].overdue
    assert after == recounted()


def test_a_rolled_back_write_bumps_nothing(scenario):
    before, bumped = shown(), version()
    obligation = scenario["quarter"].obligation(3, "mct")
    obligation.waived = True
    db.session.flush()
    assert freshness.has_changes(db.session)
    db.session.rollback()
    assert version() == bumped
    hits = answer_cache().hits
    assert shown() == before and answer_cache().hits > hits  # still served, still true
    assert before == recounted()


def test_uncommitted_changes_are_not_shared(scenario):
    before = shown()
    scenario["quarter"].obligation(3, "mct").waived = True
    mine = queries.dashboard_data(Q3)  # this transaction's own view
    assert mine["headline"] != before["data"]["headline"]
    db.session.rollback()
    assert shown() == before == recounted()


def test_a_second_app_instance_sees_the_bump(app, scenario):
    """Two workers: each its own cache, one database. A write through one is seen by the
    other at its next view."""
    other = create_app({**app.config, "TESTING": True})
    with other.app_context():
        theirs = queries.dashboard_data(Q3)
        db.session.rollback()
        assert queries.dashboard_data(Q3) == theirs  # warm in the other instance
        db.session.rollback()
    _submit(scenario)  # through this instance
    ours = shown()["data"]
    with other.app_context():
        seen = queries.dashboard_data(Q3)
        db.session.rollback()
        db.engine.dispose()
    assert seen == ours != theirs


def test_the_coordinators_to_do_reads_liaison_accounts_each_time(app, scenario, make_user):
    """Accounts move no data version, so the departments without a liaison are not kept."""
    from tracker.home import todo

    def unstaffed() -> int:
        db.session.rollback()
        with app.test_request_context():
            items = todo.for_user(scenario["coordinator"])
        return next(item.count for item in items if item.key == "unstaffed")

    before = unstaffed()
    hits = answer_cache().hits
    assert unstaffed() == before and answer_cache().hits > hits  # the lists came from the cache
    make_user("liaison", "mps")  # 公安部 had none
    assert unstaffed() == before - 1


WORKER = """
import json, sys
from datetime import datetime
from tracker import clock, create_app
from tracker.dashboard import queries
from tracker.dashboard.queries.cache import answer_cache
from tracker.extensions import db
from tracker.periods import Period

url, moment = sys.argv[1], datetime.fromisoformat(sys.argv[2])
app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url})
with clock.frozen(moment), app.app_context():
    def headline():
        with db.session.begin():
            return queries.dashboard_data(Period(2024, 3))["headline"]
    first, again = headline(), headline()
    print(json.dumps([first, again, answer_cache().hits]), flush=True)
    sys.stdin.readline()  # the test writes through its own process meanwhile
    print(json.dumps(headline()), flush=True)
"""


def test_a_second_process_sees_the_write_at_its_next_view(app, scenario):
    """A real second worker: its own process and cache, the same database."""
    import json
    import subprocess
    import sys

    from tracker import clock

    url = db.engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, clock.utcnow().isoformat()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert worker.stdout is not None and worker.stdin is not None
        first, again, hits = json.loads(worker.stdout.readline())
        assert again == first and hits > 0  # warm in the worker
        _submit(scenario)
        worker.stdin.write("go\n")
        worker.stdin.flush()
        seen = json.loads(worker.stdout.readline())
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(timeout=30)
    assert seen["submitted"] == first["submitted"] + 1
    assert seen == shown()["data"]["headline"]
