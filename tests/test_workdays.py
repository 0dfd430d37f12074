"""Tests for tracker.workdays.

Dates below are the official State Council arrangements, written out literally. Each fact is
asserted against ``chinese_calendar`` itself as well as against ``WorkingCalendar``, so a wrong
fact here, a package regression, or a bug in the wrapper all make a test fail.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from tracker.workdays import WorkingCalendar, default_calendar

LOGGER = "tracker.workdays"

# (date, is a working day) — official arrangements.
OFFICIAL_FACTS = [
    # 2024 National Day: Oct 1-7 off; Sun Sep 29 and Sat Oct 12 are 调休 working days.
    (date(2024, 9, 27), True),  # Fri
    (date(2024, 9, 28), False),  # Sat
    (date(2024, 9, 29), True),  # Sun, make-up working day
    (date(2024, 9, 30), True),  # Mon
    (date(2024, 10, 1), False),
    (date(2024, 10, 2), False),
    (date(2024, 10, 3), False),
    (date(2024, 10, 4), False),
    (date(2024, 10, 5), False),
    (date(2024, 10, 6), False),
    (date(2024, 10, 7), False),  # Mon, still a holiday
    (date(2024, 10, 8), True),
    (date(2024, 10, 10), True),  # Thu
    (date(2024, 10, 11), True),  # Fri
    (date(2024, 10, 12), True),  # Sat, make-up working day
    (date(2024, 10, 13), False),  # Sun
    # 2025 Spring Festival: Jan 28 - Feb 4 off; Sun Jan 26 and Sat Feb 8 are working days.
    (date(2025, 1, 24), True),  # Fri
    (date(2025, 1, 25), False),  # Sat
    (date(2025, 1, 26), True),  # Sun, make-up working day
    (date(2025, 1, 27), True),  # Mon
    (date(2025, 1, 28), False),
    (date(2025, 1, 29), False),
    (date(2025, 1, 30), False),
    (date(2025, 1, 31), False),
    (date(2025, 2, 1), False),
    (date(2025, 2, 2), False),
    (date(2025, 2, 3), False),
    (date(2025, 2, 4), False),  # Tue, still a holiday
    (date(2025, 2, 5), True),
    (date(2025, 2, 7), True),  # Fri
    (date(2025, 2, 8), True),  # Sat, make-up working day
    (date(2025, 2, 9), False),  # Sun
    # 2026 National Day: Oct 1-7 off; Sun Sep 20 and Sat Oct 10 are working days.
    (date(2026, 9, 20), True),  # Sun, make-up working day
    (date(2026, 10, 1), False),
    (date(2026, 10, 7), False),
    (date(2026, 10, 8), True),
    (date(2026, 10, 10), True),  # Sat, make-up working day
    (date(2026, 10, 11), False),  # Sun
]


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.mark.parametrize(("day", "working"), OFFICIAL_FACTS, ids=lambda v: str(v))
def test_official_facts_in_package_and_wrapper(cal, day, working):
    assert chinese_calendar.is_workday(day) is working
    assert cal.is_working_day(day) is working


def test_package_coverage_ends_and_unsupported_year_raises():
    # The wrapper's fallback relies on this behaviour of the package.
    chinese_calendar.is_workday(date(2004, 1, 1))
    chinese_calendar.is_workday(date(2026, 12, 31))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2099, 1, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2003, 12, 31))


def test_is_officially_covered(cal):
    assert cal.is_officially_covered(2024)
    assert cal.is_officially_covered(2026)
    assert not cal.is_officially_covered(2099)


def test_accepts_datetime(cal):
    assert cal.is_working_day(datetime(2024, 10, 1, 9, 30)) is False
    assert cal.next_working_day(datetime(2024, 10, 1, 9, 30)) == date(2024, 10, 8)


def test_rejects_non_dates(cal):
    with pytest.raises(TypeError):
        cal.is_working_day("2024-10-01")
    with pytest.raises(TypeError):
        cal.add_working_days(date(2024, 10, 8), 1.5)


# -- next_working_day ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 10, 10), date(2024, 10, 10)),  # already a working day
        (date(2024, 10, 1), date(2024, 10, 8)),  # across the National Day week
        (date(2024, 10, 5), date(2024, 10, 8)),
        (date(2024, 10, 12), date(2024, 10, 12)),  # Saturday make-up working day
        (date(2024, 10, 13), date(2024, 10, 14)),  # ordinary Sunday
        (date(2024, 9, 28), date(2024, 9, 29)),  # Sat -> Sunday make-up day, not Monday
        (date(2025, 1, 25), date(2025, 1, 26)),  # Sat -> Sunday make-up day
        (date(2025, 1, 28), date(2025, 2, 5)),  # Spring Festival
        (date(2025, 2, 4), date(2025, 2, 5)),
    ],
)
def test_next_working_day(cal, day, expected):
    assert cal.next_working_day(day) == expected


# -- add_working_days ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (date(2024, 10, 10), 0, date(2024, 10, 10)),
        (date(2024, 10, 5), 0, date(2024, 10, 5)),  # n=0 leaves even a holiday unchanged
        (date(2024, 9, 27), 1, date(2024, 9, 29)),  # Fri -> Sunday make-up day
        (date(2024, 9, 27), 2, date(2024, 9, 30)),
        (date(2024, 9, 27), 3, date(2024, 10, 8)),  # skips the National Day week
        (date(2024, 9, 30), 1, date(2024, 10, 8)),
        (date(2024, 10, 3), 1, date(2024, 10, 8)),  # from a holiday: first working day after
        (date(2024, 10, 11), 1, date(2024, 10, 12)),  # Fri -> Saturday make-up day
        (date(2024, 10, 11), 2, date(2024, 10, 14)),
        (date(2024, 10, 8), -1, date(2024, 9, 30)),
        (date(2024, 10, 8), -2, date(2024, 9, 29)),  # Sunday make-up day counts
        (date(2024, 10, 8), -3, date(2024, 9, 27)),
        (date(2024, 10, 3), -1, date(2024, 9, 30)),  # from a holiday backwards
        (date(2025, 2, 5), -1, date(2025, 1, 27)),  # back across the Spring Festival
        (date(2025, 2, 5), -2, date(2025, 1, 26)),  # Sunday make-up day counts
        (date(2025, 2, 5), -3, date(2025, 1, 24)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 2, 7), 1, date(2025, 2, 8)),  # Fri -> Saturday make-up day
    ],
)
def test_add_working_days(cal, day, n, expected):
    assert cal.add_working_days(day, n) == expected


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


@pytest.mark.parametrize("n", [1, 2, 5, 10, -1, -5, -10])
def test_add_working_days_matches_package_find_workday(cal, n):
    # chinese_calendar.find_workday(n, d) agrees with ours whenever d is a working day
    # (for positive n) and always for negative n; it is an independent oracle.
    for d in _days(date(2024, 1, 1), date(2025, 12, 20)):
        if n > 0 and not chinese_calendar.is_workday(d):
            continue
        assert cal.add_working_days(d, n) == chinese_calendar.find_workday(n, d), (d, n)


def test_add_working_days_round_trip_on_working_days(cal):
    for d in _days(date(2024, 9, 1), date(2025, 3, 1)):
        if cal.is_working_day(d):
            for n in (1, 3, 5, 7):
                assert cal.add_working_days(cal.add_working_days(d, n), -n) == d


# -- counting and lateness ------------------------------------------------------------------


def test_count_working_days_matches_package(cal):
    start = date(2024, 9, 15)
    for end in _days(date(2024, 9, 10), date(2024, 11, 10)):
        expected = (
            len(chinese_calendar.get_workdays(start + timedelta(days=1), end)) if end > start else 0
        )
        assert cal.count_working_days(start, end) == expected, end


def test_count_working_days_literal(cal):
    # (2024-09-27, 2024-10-14]: Sun 9-29, Mon 9-30, 10-8..10-11 (4), Sat 10-12, Mon 10-14.
    assert cal.count_working_days(date(2024, 9, 27), date(2024, 10, 14)) == 8
    assert cal.count_working_days(date(2024, 9, 30), date(2024, 10, 7)) == 0
    assert cal.count_working_days(date(2024, 10, 14), date(2024, 9, 27)) == 0


@pytest.mark.parametrize(
    ("due", "submitted", "late"),
    [
        (date(2024, 9, 27), date(2024, 9, 26), 0),  # early
        (date(2024, 9, 27), date(2024, 9, 27), 0),  # on the due date
        (date(2024, 9, 27), date(2024, 9, 28), 1),  # Saturday: late although non-working
        (date(2024, 9, 27), date(2024, 9, 29), 1),  # Sunday make-up working day
        (date(2024, 9, 27), date(2024, 9, 30), 2),
        (date(2024, 9, 27), date(2024, 10, 4), 2),  # National Day week adds nothing
        (date(2024, 9, 27), date(2024, 10, 8), 3),
        (date(2024, 9, 30), date(2024, 10, 1), 1),  # holiday, but still late
        (date(2024, 9, 30), date(2024, 10, 7), 1),
        (date(2024, 9, 30), date(2024, 10, 8), 1),  # the whole week off counts as nothing
        (date(2024, 9, 30), date(2024, 10, 9), 2),
        (date(2024, 10, 11), date(2024, 10, 12), 1),  # Saturday make-up working day
        (date(2024, 10, 11), date(2024, 10, 13), 1),
        (date(2024, 10, 11), date(2024, 10, 14), 2),  # would be 1 on weekends-only
        (date(2025, 1, 27), date(2025, 2, 5), 1),  # across the Spring Festival
        (date(2025, 1, 24), date(2025, 2, 5), 3),  # Sun 1-26, Mon 1-27, Wed 2-5
    ],
)
def test_working_days_between_is_days_late(cal, due, submitted, late):
    assert cal.working_days_between(due, submitted) == late


@pytest.mark.parametrize(
    ("today", "due", "left"),
    [
        (date(2024, 9, 30), date(2024, 10, 10), 3),  # Oct 8, 9, 10
        (date(2024, 9, 27), date(2024, 10, 10), 5),  # + Sun 9-29, Mon 9-30
        (date(2024, 10, 9), date(2024, 10, 10), 1),
        (date(2024, 10, 10), date(2024, 10, 10), 0),  # due today
        (date(2024, 10, 11), date(2024, 10, 10), -1),
        (date(2024, 10, 12), date(2024, 10, 10), -2),  # Saturday make-up working day
        (date(2024, 10, 13), date(2024, 10, 10), -2),
        (date(2024, 10, 14), date(2024, 10, 10), -3),
        (date(2024, 10, 1), date(2024, 9, 30), -1),  # overdue on a holiday: still overdue
    ],
)
def test_working_days_until(cal, today, due, left):
    assert cal.working_days_until(today, due) == left


# -- fallback beyond the package's coverage -------------------------------------------------


def test_weekend_fallback_for_unsupported_year_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkingCalendar()
    # 2099-01-01 is a Thursday (a real New Year holiday, unknown to the package).
    assert cal.is_working_day(date(2099, 1, 1)) is True
    assert cal.is_working_day(date(2099, 1, 2)) is True  # Fri
    assert cal.is_working_day(date(2099, 1, 3)) is False  # Sat
    assert cal.is_working_day(date(2099, 1, 4)) is False  # Sun
    assert cal.next_working_day(date(2099, 1, 3)) == date(2099, 1, 5)
    assert cal.add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)
    assert cal.add_working_days(date(2099, 1, 5), -1) == date(2099, 1, 2)
    assert cal.working_days_between(date(2099, 1, 2), date(2099, 1, 3)) == 1
    assert cal.working_days_between(date(2099, 1, 2), date(2099, 1, 9)) == 5
    assert cal.working_days_until(date(2099, 1, 2), date(2099, 1, 9)) == 5

    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    assert "2099" in records[0].getMessage()

    cal.is_working_day(date(2098, 6, 1))
    cal.is_working_day(date(2098, 6, 2))
    records = [r for r in caplog.records if r.name == LOGGER]
    assert len(records) == 2
    assert "2098" in records[1].getMessage()


def test_no_warning_for_covered_years(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkingCalendar()
    cal.working_days_between(date(2024, 1, 1), date(2026, 12, 31))
    assert [r for r in caplog.records if r.name == LOGGER] == []


def test_fallback_spanning_covered_and_uncovered_years(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkingCalendar()
    # 2026-12-31 is a Thursday (covered); 2027 is not covered by chinesecalendar 1.11.0 —
    # skip if a newer package knows 2027.
    if cal.is_officially_covered(2027):
        pytest.skip("installed chinese_calendar covers 2027")
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)  # Fri, fallback
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 1
    assert "2027" in messages[0]


# -- overrides --------------------------------------------------------------------------------


def test_extra_holidays_and_workdays_for_unsupported_year(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkingCalendar(
        extra_holidays=[date(2099, 1, 1), date(2099, 1, 2)],
        extra_workdays=[date(2099, 1, 4)],  # a Sunday make-up day
    )
    assert cal.is_working_day(date(2099, 1, 1)) is False
    assert cal.is_working_day(date(2099, 1, 2)) is False
    assert cal.is_working_day(date(2099, 1, 3)) is False
    assert cal.is_working_day(date(2099, 1, 4)) is True
    assert cal.next_working_day(date(2099, 1, 1)) == date(2099, 1, 4)
    assert cal.add_working_days(date(2098, 12, 31), 1) == date(2099, 1, 4)
    assert cal.add_working_days(date(2099, 1, 5), -2) == date(2098, 12, 31)
    assert cal.working_days_between(date(2098, 12, 31), date(2099, 1, 5)) == 2
    assert cal.extra_holidays == frozenset({date(2099, 1, 1), date(2099, 1, 2)})
    assert cal.extra_workdays == frozenset({date(2099, 1, 4)})


def test_extras_override_the_package_in_covered_years():
    cal = WorkingCalendar(extra_holidays=[date(2024, 10, 8)], extra_workdays=[date(2024, 10, 6)])
    assert cal.is_working_day(date(2024, 10, 8)) is False
    assert cal.is_working_day(date(2024, 10, 6)) is True
    assert cal.next_working_day(date(2024, 10, 7)) == date(2024, 10, 9)
    assert cal.add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 6)
    # The shared default calendar is not affected.
    assert default_calendar().is_working_day(date(2024, 10, 8)) is True
    assert default_calendar().is_working_day(date(2024, 10, 6)) is False


def test_extras_accept_datetimes_and_generators():
    cal = WorkingCalendar(extra_holidays=(datetime(2099, 3, 2, 8, 0) for _ in range(1)))
    assert cal.is_working_day(date(2099, 3, 2)) is False


def test_date_in_both_override_sets_is_rejected():
    with pytest.raises(ValueError, match="2099-01-01"):
        WorkingCalendar(extra_holidays=[date(2099, 1, 1)], extra_workdays=[date(2099, 1, 1)])


def test_default_calendar_is_shared_and_has_no_overrides():
    first = default_calendar()
    assert isinstance(first, WorkingCalendar)
    assert default_calendar() is first
    assert first.extra_holidays == frozenset()
    assert first.extra_workdays == frozenset()


def test_bisect_counting_matches_walking_the_calendar_with_extras():
    """Counting and stepping by bisect over the precomputed working days give what walking
    one day at a time gives, across years, holidays, make-up days and local extras."""
    cal = WorkingCalendar(
        extra_holidays=[date(2024, 10, 9), date(2026, 12, 31)],
        extra_workdays=[date(2024, 10, 13), date(2025, 1, 4)],
    )
    one = timedelta(days=1)
    days = [date(2024, 9, 1) + one * n for n in range(0, 900, 7)]
    for start in days[::9]:
        for end in days:
            walked, d = 0, start + one
            while d <= end:
                walked += cal.is_working_day(d)
                d += one
            assert cal.count_working_days(start, end) == walked, (start, end)
    for start in days[::5]:
        for n in (-30, -7, -1, 1, 5, 30):
            d, left = start, abs(n)
            while left:
                d += one if n > 0 else -one
                left -= cal.is_working_day(d)
            assert cal.add_working_days(start, n) == d, (start, n)
        walk = start
        while not cal.is_working_day(walk):
            walk += one
        assert cal.next_working_day(start) == walk
