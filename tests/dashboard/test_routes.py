"""The dashboard pages: what coordinators, leaders, liaisons and viewers see."""

from __future__ import annotations

import re


def _cells(html: str) -> dict[tuple[str, str], str]:
    """(item number, department code) → the cell's colour, read from the matrix markup."""
    found = {}
    for row in re.finditer(r'<tr data-task="\d+" data-number="(\d+)".*?</tr>', html, re.S):
        for cell in re.finditer(
            r'<td class="cell" data-department="(\w+)">(.*?)</td>', row.group(0), re.S
        ):
            colour = re.search(r'data-rag="(\w+)"', cell.group(2))
            if colour:
                found[(row.group(1), cell.group(1))] = colour.group(1)
    return found


def test_coordinator_sees_the_whole_matrix(scenario, client, login):
    login(scenario["coordinator"])
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    cells = _cells(html)
    assert len(cells) == 74
    assert cells[("3", "mct")] == "red" and cells[("3", "acwf")] == "green"
    assert 'class="rag state-red"' in html and "逾期2" in html  # colour and text together
    assert 'data-figure="overdue">8<' in html
    assert "牵头部门落后情况" in html


def test_filters_narrow_the_matrix(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard?department=moa").get_data(as_text=True)
    assert {dept for _, dept in _cells(html)} == {"moa"}
    html = client.get("/dashboard?state=red").get_data(as_text=True)
    assert set(_cells(html).values()) == {"red"} and len(_cells(html)) == 8
    html = client.get("/dashboard?section=三&role=support").get_data(as_text=True)
    assert sorted(_cells(html)) == [("18", "cpad"), ("18", "mca"), ("18", "moa"), ("18", "nwccw")]


def test_liaison_sees_only_their_department(scenario, client, login):
    login(scenario["acwf"])
    html = client.get("/dashboard?department=moa").get_data(as_text=True)
    assert {dept for _, dept in _cells(html)} == {"acwf"}  # the department filter is ignored
    assert "本部门牵头事项" in html and "牵头部门落后情况" not in html
    assert re.findall(r'data-rank="(\d+)"', html) == ["3"]
    assert client.get("/dashboard/departments/moa").status_code == 403
    assert client.get("/dashboard/departments/acwf").status_code == 200


def test_scorecard_page_sorts(scenario, client, login):
    login(scenario["coordinator"])
    html = client.get("/dashboard/scorecard").get_data(as_text=True)
    ranks = re.findall(r'<tr data-department="(\w+)" data-rank="(\d+)"', html)
    assert ranks[:3] == [("moa", "1"), ("mca", "2"), ("acwf", "3")]
    html = client.get("/dashboard/scorecard?sort=obligations&desc=y").get_data(as_text=True)
    first = re.findall(r'<tr data-department="(\w+)"', html)[:2]
    assert first == ["acwf", "mca"]
    assert 'id="scorecard-chart-data"' in html and "chart.umd.min.js" in html


def test_invalid_filters_fall_back(scenario, client, login):
    login(scenario["coordinator"])
    response = client.get("/dashboard?period=1999Q1&state=purple")
    assert response.status_code == 200
    assert "筛选条件无效" in response.get_data(as_text=True)


def test_a_quarter_nobody_opened_shows_empty_until_the_scheduler_opens_it(
    app, seeded, make_user, client, login, monkeypatch
):
    """The dashboard only reads: an unopened quarter says so; once the scheduler's job has
    opened it (or ``flask open-periods``), its 74 obligations are there."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tracker import clock
    from tracker.reports.tasks import open_periods_job

    monkeypatch.setitem(app.config, "TRACKER_FIRST_PERIOD", "2024Q3")
    with clock.frozen(datetime(2024, 10, 8, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        login(make_user("coordinator", "mca"))
        before = client.get("/dashboard").get_data(as_text=True)
        open_periods_job()
        after = client.get("/dashboard").get_data(as_text=True)
    assert 'data-figure="obligations">0<' in before and 'id="not-opened"' in before
    assert 'data-figure="obligations">74<' in after and 'id="not-opened"' not in after


def test_sort_columns_match_the_scorecard():
    from tracker.dashboard.forms import SORT_LABELS
    from tracker.dashboard.queries import SCORE_SORTS

    assert set(SORT_LABELS) == set(SCORE_SORTS)
