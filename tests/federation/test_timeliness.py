"""At the centre: each province's roll-up against the quarter's due date, on the scorecard."""

from __future__ import annotations

import re

import pytest

from tests.federation.provinces import cascade, receive, register
from tracker.federation import timeliness
from tracker.federation.timeliness import Arrival
from tracker.periods import Period

Q3 = Period(2024, 3)
NUMBER = "民发〔2019〕86号"


@pytest.fixture
def provinces(centre, quarter):
    members = cascade()
    quarter.at("2024-10-16 10:00")
    return members


def _by_code(rows):
    return {r.code: r for r in rows}


def test_on_time_late_missing_and_days_late(provinces):
    rows = timeliness.arrivals([NUMBER], Q3)
    assert [r.code for r in rows] == ["130000", "650000", "140000", "210000"]
    by = _by_code(rows)
    assert "220000" not in by  # revoked and nothing sent
    hebei, bingtuan, shanxi, liaoning = by["130000"], by["650000"], by["140000"], by["210000"]
    assert (hebei.arrival, hebei.days_late, hebei.revisions, hebei.latest_revision) == (
        Arrival.ON_TIME, 0, 2, 2,
    )  # fmt: skip
    # the correction of 10-15 does not move when the quarter was first reported
    assert hebei.received_on.isoformat() == "2024-10-09"
    assert (bingtuan.arrival, bingtuan.days_late) == (Arrival.LATE, 1)
    assert bingtuan.first_received_at.date().isoformat() == "2024-10-10"  # UTC
    assert (shanxi.arrival, shanxi.days_late) == (Arrival.LATE, 3)
    assert (liaoning.arrival, liaoning.days_late, liaoning.revisions) == (Arrival.MISSING, 5, 0)
    assert liaoning.first_received_at is None and liaoning.items_covered is None
    assert [r.rank for r in rows] == [1, 2, 3, 4]
    assert hebei.items_covered == 1 and hebei.items == {23} and hebei.indicators == {23: 1}
    assert {r.due_date.isoformat() for r in rows} == {"2024-10-10"}
    assert timeliness.summary(rows) == timeliness.Summary(1, 2, 1, 0)


def test_before_the_due_date_nothing_received_is_not_yet_due(centre, quarter):
    members = register(["130000", "140000"])
    receive(members["130000"], 1, "2024-10-08 10:00")
    quarter.at("2024-10-10 23:00")
    by = _by_code(timeliness.arrivals([NUMBER], Q3))
    assert by["130000"].arrival == Arrival.ON_TIME
    assert (by["140000"].arrival, by["140000"].days_late) == (Arrival.NOT_DUE, None)
    quarter.at("2024-10-11 08:00")
    assert _by_code(timeliness.arrivals([NUMBER], Q3))["140000"].arrival == Arrival.MISSING


def test_equal_standing_shares_a_rank_and_sorting(centre, quarter):
    members = register(["130000", "140000", "210000"])
    receive(members["140000"], 1, "2024-10-09 10:00")
    receive(members["210000"], 1, "2024-10-10 23:59")  # the last minute of the due date
    quarter.at("2024-10-16 10:00")
    rows = timeliness.arrivals([NUMBER], Q3)
    assert [(r.code, r.rank, r.arrival) for r in rows] == [
        ("140000", 1, Arrival.ON_TIME), ("210000", 1, Arrival.ON_TIME),
        ("130000", 3, Arrival.MISSING),
    ]  # fmt: skip
    received = timeliness.sort_arrivals(rows, "received")
    assert [r.code for r in received] == ["140000", "210000", "130000"]
    late_first = timeliness.sort_arrivals(rows, "days_late", descending=True)
    assert late_first[0].code == "130000"
    assert [r.code for r in timeliness.sort_arrivals(rows, "nonsense")] == [r.code for r in rows]


def test_no_members_no_rows(centre, quarter):
    assert timeliness.arrivals([NUMBER], Q3) == []


# -- the scorecard ---------------------------------------------------------------------------


def _section(html: str) -> str | None:
    found = re.search(r'<section class="card" id="provinces">(.*?)</section>', html, re.S)
    return found.group(1) if found else None


def _rows(section: str) -> list[tuple[str, str, str]]:
    """(code, arrival, days late) of each row of the provinces' table."""
    return re.findall(
        r'data-member="(\d+)" data-arrival="(\w+)".*?data-figure="days_late">([^<]*)<',
        section, re.S,
    )  # fmt: skip


URL = "/dashboard/scorecard?period=2024Q3"


def test_the_scorecard_shows_the_provinces_to_a_coordinator(provinces, client, login, make_user):
    login(make_user("coordinator"))
    section = _section(client.get(URL).get_data(as_text=True))
    assert section is not None
    assert _rows(section) == [
        ("130000", "on_time", "0"), ("650000", "late", "1"), ("140000", "late", "3"),
        ("210000", "missing", "5"),
    ]  # fmt: skip
    assert "按时 1，迟报 2，逾期未报 1" in section
    assert "2024-10-09 10:00" in section  # the first revision's time, Beijing time
    assert "/federation/rollups/" in section  # a coordinator may open the roll-ups
    ordered = _section(client.get(URL + "&psort=days_late&pdesc=y").get_data(as_text=True))
    assert [code for code, _, _ in _rows(ordered)] == ["210000", "140000", "650000", "130000"]


def test_a_leader_sees_the_provinces_without_the_rollups(provinces, client, login, make_user):
    login(make_user("viewer"))  # a viewer without a department sees every department
    section = _section(client.get(URL).get_data(as_text=True))
    assert section is not None and len(_rows(section)) == 4
    assert "/federation/rollups/" not in section and "/federation/provinces" not in section


@pytest.mark.parametrize("role", ["liaison", "viewer"])
def test_a_departments_user_does_not_see_the_provinces(provinces, client, login, make_user, role):
    login(make_user(role, "mca"))
    response = client.get(URL)
    assert response.status_code == 200
    assert _section(response.get_data(as_text=True)) is None


def test_no_section_without_members_or_at_a_province(centre, quarter, client, login, make_user,
                                                     app, monkeypatch):  # fmt: skip
    login(make_user("coordinator"))
    assert _section(client.get(URL).get_data(as_text=True)) is None
    cascade()
    assert _section(client.get(URL).get_data(as_text=True)) is not None
    monkeypatch.setitem(app.config, "TRACKER_INSTANCE_LEVEL", "provincial")
    monkeypatch.setitem(app.config, "TRACKER_INSTANCE_CODE", "110000")
    assert _section(client.get(URL).get_data(as_text=True)) is None


def test_the_section_runs_the_same_queries_for_more_provinces(
    centre, quarter, client, login, make_user, count_queries
):
    from tests.federation.provinces import PROVINCES
    from tracker.dashboard.queries.cache import answer_cache

    members = register(["130000", "140000"])
    receive(members["130000"], 1, "2024-10-09 10:00")
    quarter.at("2024-10-16 10:00")
    login(make_user("coordinator"))

    def count() -> int:
        answer_cache().clear()
        with count_queries() as counter:
            html = client.get(URL).get_data(as_text=True)
        assert _section(html) is not None
        return counter.count

    before = count()
    more = register([c for c in PROVINCES if c not in members])
    receive(more["210000"], 1, "2024-10-11 10:00")
    receive(more["210000"], 2, "2024-10-12 10:00")
    receive(more["650000"], 1, "2024-10-14 10:00")
    assert count() == before
