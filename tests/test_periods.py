"""Tests for tracker.periods.

Expected due dates are worked out by hand from the official holiday arrangements; the facts they
depend on are asserted against ``chinese_calendar`` directly, so the tests check the package too.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from tracker.periods import Period, period_label
from tracker.workdays import WorkingCalendar, default_calendar

LOGGER = "tracker.workdays"


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _official(*days_and_flags: tuple[date, bool]) -> None:
    for day, working in days_and_flags:
        assert chinese_calendar.is_workday(day) is working, day


# -- parsing and naming -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "year", "quarter"),
    [("2026Q3", 2026, 3), ("2024Q1", 2024, 1), ("1999Q4", 1999, 4), ("0001Q2", 1, 2)],
)
def test_parse_valid(key, year, quarter):
    period = Period.parse(key)
    assert period == Period(year, quarter)
    assert period.year == year
    assert period.quarter == quarter
    assert period.key == key
    assert str(period) == key


@pytest.mark.parametrize(
    "key",
    [
        "2026Q5",
        "2026Q0",
        "26Q1",
        "2026q3",  # lower case is rejected: one canonical spelling
        " 2026Q3",
        "2026Q3 ",
        "2026Q3\n",
        "2026-Q3",
        "2026 Q3",
        "2026Q",
        "Q3",
        "2026",
        "",
        "20260Q1",
        "2026Q12",
        "２０２６Q3",  # full-width digits
        "2026Ｑ3",  # full-width Q
        "0000Q1",
    ],
)
def test_parse_rejects_bad_keys_with_chinese_message(key):
    with pytest.raises(ValueError, match="无效的报告期"):
        Period.parse(key)


@pytest.mark.parametrize("key", [None, 2026, b"2026Q3"])
def test_parse_rejects_non_strings(key):
    with pytest.raises(ValueError, match="报告期"):
        Period.parse(key)


@pytest.mark.parametrize(("year", "quarter"), [(2026, 0), (2026, 5), (0, 1), (10000, 1)])
def test_constructor_validates(year, quarter):
    with pytest.raises(ValueError):
        Period(year, quarter)


def test_constructor_rejects_non_ints():
    with pytest.raises(TypeError):
        Period("2026", 3)
    with pytest.raises(TypeError):
        Period(2026, True)


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2026Q1", "2026年第一季度"),
        ("2026Q2", "2026年第二季度"),
        ("2026Q3", "2026年第三季度"),
        ("2026Q4", "2026年第四季度"),
    ],
)
def test_label(key, label):
    assert Period.parse(key).label == label


def test_frozen_and_hashable():
    period = Period(2026, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        period.quarter = 4
    assert {Period(2026, 3): "x"}[Period.parse("2026Q3")] == "x"
    assert len({Period(2026, 3), Period.parse("2026Q3"), Period(2026, 4)}) == 2


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "start", "end"),
    [
        ("2024Q1", date(2024, 1, 1), date(2024, 3, 31)),
        ("2024Q2", date(2024, 4, 1), date(2024, 6, 30)),
        ("2024Q3", date(2024, 7, 1), date(2024, 9, 30)),
        ("2024Q4", date(2024, 10, 1), date(2024, 12, 31)),
        ("2025Q1", date(2025, 1, 1), date(2025, 3, 31)),
    ],
)
def test_start_end(key, start, end):
    period = Period.parse(key)
    assert period.start == start
    assert period.end == end
    assert period.contains(start)
    assert period.contains(end)
    assert not period.contains(start - timedelta(days=1))
    assert not period.contains(end + timedelta(days=1))


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 1, 1), "2026Q1"),
        (date(2026, 3, 31), "2026Q1"),
        (date(2026, 4, 1), "2026Q2"),
        (date(2026, 6, 30), "2026Q2"),
        (date(2026, 7, 1), "2026Q3"),
        (date(2026, 9, 30), "2026Q3"),
        (date(2026, 10, 1), "2026Q4"),
        (date(2026, 12, 31), "2026Q4"),
        (datetime(2026, 8, 15, 23, 59), "2026Q3"),
    ],
)
def test_containing(day, key):
    assert Period.containing(day).key == key


def test_quarters_tile_the_year_without_gaps():
    quarters = list(Period.range(Period(2024, 1), Period(2025, 4)))
    for earlier, later in itertools.pairwise(quarters):
        assert later.start == earlier.end + timedelta(days=1)
    d = date(2024, 1, 1)
    while d <= date(2025, 12, 31):
        assert Period.containing(d).contains(d)
        d += timedelta(days=1)


# -- neighbours, ordering, ranges -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "nxt", "prev"),
    [
        ("2026Q1", "2026Q2", "2025Q4"),
        ("2026Q2", "2026Q3", "2026Q1"),
        ("2026Q3", "2026Q4", "2026Q2"),
        ("2026Q4", "2027Q1", "2026Q3"),
    ],
)
def test_next_previous(key, nxt, prev):
    period = Period.parse(key)
    assert period.next().key == nxt
    assert period.previous().key == prev
    assert period.next().previous() == period
    assert period.previous().next() == period


def test_next_previous_at_the_limits():
    with pytest.raises(ValueError):
        Period(9999, 4).next()
    with pytest.raises(ValueError):
        Period(1, 1).previous()


def test_ordering():
    assert Period.parse("2025Q4") < Period.parse("2026Q1")
    assert Period.parse("2026Q1") < Period.parse("2026Q2")
    assert not Period.parse("2026Q2") < Period.parse("2026Q2")
    assert Period.parse("2026Q2") <= Period.parse("2026Q2")
    assert Period.parse("2024Q4") > Period.parse("2024Q3")
    assert Period.parse("2025Q1") > Period.parse("2024Q4")
    keys = ["2026Q1", "2024Q4", "2025Q2", "2025Q1", "2024Q3", "2026Q4"]
    assert [p.key for p in sorted(map(Period.parse, keys))] == [
        "2024Q3",
        "2024Q4",
        "2025Q1",
        "2025Q2",
        "2026Q1",
        "2026Q4",
    ]
    assert max(map(Period.parse, keys)).key == "2026Q4"


def test_range_inclusive_across_year_boundary():
    keys = [p.key for p in Period.range(Period.parse("2025Q3"), Period.parse("2026Q2"))]
    assert keys == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_range_single_and_empty():
    assert list(Period.range(Period(2026, 3), Period(2026, 3))) == [Period(2026, 3)]
    assert list(Period.range(Period(2026, 3), Period(2026, 2))) == []


def test_range_up_to_the_last_representable_quarter():
    # Must stop at ``last`` without asking for 9999Q4.next() (which raises).
    assert [p.key for p in Period.range(Period(9999, 3), Period(9999, 4))] == ["9999Q3", "9999Q4"]


def test_range_is_lazy_iterator():
    it = Period.range(Period(2024, 1), Period(2024, 4))
    assert next(it) == Period(2024, 1)
    assert next(it) == Period(2024, 2)


# -- due dates --------------------------------------------------------------------------------


def test_due_date_2024q3_default_offset(cal):
    # Quarter ends Mon 2024-09-30; +10 days = Thu 2024-10-10, a working day after the
    # National Day week (Oct 1-7 off, Sat Oct 12 a make-up working day).
    _official((date(2024, 10, 10), True), (date(2024, 10, 7), False))
    assert Period.parse("2024Q3").due_date(cal) == date(2024, 10, 10)


def test_due_date_moves_forward_out_of_a_holiday(cal):
    # 2024-09-30 + 3 days = 2024-10-03, inside the National Day holiday -> Tue 2024-10-08.
    _official((date(2024, 10, 3), False), (date(2024, 10, 7), False), (date(2024, 10, 8), True))
    assert Period.parse("2024Q3").due_date(cal, offset_days=3) == date(2024, 10, 8)
    assert Period.parse("2024Q3").due_date(cal, offset_days=7) == date(2024, 10, 8)
    assert Period.parse("2024Q3").due_date(cal, offset_days=8) == date(2024, 10, 8)


def test_due_date_offset_zero_is_the_quarter_end_when_working(cal):
    assert Period.parse("2024Q3").due_date(cal, offset_days=0) == date(2024, 9, 30)


def test_due_date_on_weekend_makeup_day_is_not_moved(cal):
    # 2024-09-30 + 12 = Sat 2024-10-12, a make-up working day: due that Saturday.
    _official((date(2024, 10, 12), True))
    assert Period.parse("2024Q3").due_date(cal, offset_days=12) == date(2024, 10, 12)
    # +13 = Sun 2024-10-13, an ordinary Sunday -> Mon 2024-10-14.
    assert Period.parse("2024Q3").due_date(cal, offset_days=13) == date(2024, 10, 14)


def test_due_date_2026q3_lands_on_saturday_makeup_day(cal):
    # 2026: National Day Oct 1-7 off; Sat Oct 10 is a make-up working day.
    _official((date(2026, 10, 10), True), (date(2026, 10, 7), False))
    assert date(2026, 10, 10).weekday() == 5
    assert Period.parse("2026Q3").due_date(cal) == date(2026, 10, 10)


def test_due_date_spring_festival(cal):
    # 2024Q4 ends Tue 2024-12-31. Default: +10 = Fri 2025-01-10 (working).
    _official(
        (date(2025, 1, 10), True),
        (date(2025, 1, 26), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 4), False),
        (date(2025, 2, 5), True),
    )
    q4 = Period.parse("2024Q4")
    assert q4.due_date(cal) == date(2025, 1, 10)
    # +26 = Sun 2025-01-26, a make-up working day: not moved.
    assert q4.due_date(cal, offset_days=26) == date(2025, 1, 26)
    # +28 = 2025-01-28, first day of the Spring Festival holiday -> Wed 2025-02-05.
    assert q4.due_date(cal, offset_days=28) == date(2025, 2, 5)
    assert q4.due_date(cal, offset_days=35) == date(2025, 2, 5)


def test_due_date_defaults_to_shared_calendar():
    assert Period.parse("2024Q3").due_date(offset_days=3) == date(2024, 10, 8)
    assert Period.parse("2024Q3").due_date() == Period.parse("2024Q3").due_date(default_calendar())


def test_due_date_rejects_negative_offset(cal):
    with pytest.raises(ValueError):
        Period(2024, 3).due_date(cal, offset_days=-1)


def test_due_dates_are_first_working_day_on_or_after_target(cal):
    # Independent oracle: chinese_calendar.is_workday for every covered quarter.
    for period in Period.range(Period(2004, 1), Period(2026, 3)):
        for offset in (0, 3, 10, 15):
            target = period.end + timedelta(days=offset)
            due = period.due_date(cal, offset_days=offset)
            assert due >= target
            assert chinese_calendar.is_workday(due), (period, offset)
            d = target
            while d < due:
                assert not chinese_calendar.is_workday(d), (period, offset, d)
                d += timedelta(days=1)


# -- supporting departments' due dates --------------------------------------------------------


def test_support_due_date_2024q3_after_national_day_keeps_lead_two_days(cal):
    # Lead due Thu 2024-10-10. Back 5 working days lands on Fri 09-27, inside the quarter;
    # 3 working days after Mon 09-30 (Oct 1-7 off) is 10-10 itself, leaving the lead nothing:
    # the floor gives way to lead - 2 = Tue 10-08.
    _official((date(2024, 10, 7), False), (date(2024, 10, 8), True))
    q3 = Period.parse("2024Q3")
    assert q3.due_date(cal) == date(2024, 10, 10)
    assert q3.support_due_date(cal) == date(2024, 10, 8)
    # With no floor the old rule's date would be before the end; the quarter's end wins.
    assert q3.support_due_date(cal, min_days_after_quarter=0) == date(2024, 9, 30)
    # Sun 09-29 is a make-up working day: one floor day less than the gap, it is the date.
    assert q3.support_due_date(cal, lead_gap_working_days=6, min_days_after_quarter=0) == (
        date(2024, 9, 30)
    )


def test_support_due_date_2026q3_is_after_the_quarter(cal):
    # The reported bug: 2026Q3's supporting input was due Mon 2026-09-28. The lead is due on
    # the make-up working day Sat 2026-10-10; end + 3 working days (Oct 1-7 off: Thu 10-08,
    # Fri 10-09, Sat 10-10) is that day; the lead keeps two: Thu 2026-10-08.
    _official((date(2026, 10, 10), True), (date(2026, 10, 7), False))
    q3 = Period.parse("2026Q3")
    assert q3.due_date(cal) == date(2026, 10, 10)
    assert q3.support_due_date(cal) == date(2026, 10, 8)
    assert q3.support_due_date(cal) > q3.end


def test_support_due_date_floor_wins_over_gap_on_a_quiet_quarter(cal):
    # 2025Q2: lead Thu 2025-07-10; lead - 5 = Thu 07-03; end + 3 = Thu 07-03 as well.
    q2 = Period.parse("2025Q2")
    assert q2.support_due_date(cal) == date(2025, 7, 3)
    # A longer floor moves the date later, up to lead - 2 = Tue 07-08 and no further.
    assert q2.support_due_date(cal, min_days_after_quarter=5) == date(2025, 7, 7)
    assert q2.support_due_date(cal, min_days_after_quarter=6) == date(2025, 7, 8)
    assert q2.support_due_date(cal, min_days_after_quarter=9) == date(2025, 7, 8)
    # A longer gap: the floor keeps it after the quarter.
    assert q2.support_due_date(cal, lead_gap_working_days=9) == date(2025, 7, 3)


def test_support_due_date_across_spring_festival(cal):
    # 2024Q4 with offset 28: lead due Wed 2025-02-05, after the Spring Festival (Jan 28 -
    # Feb 4 off); Sun Jan 26 is a make-up working day.
    _official((date(2025, 1, 26), True), (date(2025, 1, 28), False), (date(2025, 2, 5), True))
    q4 = Period.parse("2024Q4")
    assert q4.due_date(cal, offset_days=28) == date(2025, 2, 5)
    # Gap rule: back 5 = Jan 27, Sun Jan 26, Jan 24, 23, 22.
    assert q4.support_due_date(cal, offset_days=28) == date(2025, 1, 22)
    assert q4.support_due_date(cal, offset_days=28, lead_gap_working_days=2) == date(2025, 1, 26)
    # Floor rule: 17 working days after 2024-12-31 (Jan 1 off) is Fri Jan 24; 18 is the
    # make-up Sunday Jan 26, which leaves the lead exactly two working days (Jan 27, Feb 5).
    assert q4.support_due_date(cal, offset_days=28, min_days_after_quarter=17) == (
        date(2025, 1, 24)
    )
    assert q4.support_due_date(cal, offset_days=28, min_days_after_quarter=18) == (
        date(2025, 1, 26)
    )
    # 19 (Mon Jan 27) would leave one: the floor gives way to the make-up Sunday.
    assert q4.support_due_date(cal, offset_days=28, min_days_after_quarter=19) == (
        date(2025, 1, 26)
    )


def test_support_due_date_shrinks_the_gap_never_the_order(cal):
    # Lead due 2024-10-08 (offset 3, after National Day): the first working day after the
    # quarter is the lead's own date, so both are due then.
    q3 = Period.parse("2024Q3")
    assert q3.due_date(cal, offset_days=3) == date(2024, 10, 8)
    assert q3.support_due_date(cal, offset_days=3) == date(2024, 10, 8)
    # Lead due one working day after the end: same day. Two after: one day before it.
    q2 = Period.parse("2025Q2")  # ends Mon 2025-06-30
    assert q2.due_date(cal, offset_days=1) == date(2025, 7, 1)
    assert q2.support_due_date(cal, offset_days=1) == date(2025, 7, 1)
    assert q2.support_due_date(cal, offset_days=2) == date(2025, 7, 1)
    assert q2.support_due_date(cal, offset_days=3) == date(2025, 7, 1)  # lead Thu 07-03
    assert q2.support_due_date(cal, offset_days=4) == date(2025, 7, 2)  # lead Fri 07-04


def test_support_due_date_gap_zero_is_lead_due_date(cal):
    period = Period.parse("2024Q3")
    assert period.support_due_date(cal, lead_gap_working_days=0) == period.due_date(cal)


def test_support_due_date_rejects_negative_settings(cal):
    with pytest.raises(ValueError):
        Period(2024, 3).support_due_date(cal, lead_gap_working_days=-1)
    with pytest.raises(ValueError):
        Period(2024, 3).support_due_date(cal, min_days_after_quarter=-1)
    with pytest.raises(TypeError):
        Period(2024, 3).support_due_date(cal, min_days_after_quarter=True)


def _working_days(after: date, through: date) -> int:
    """Working days in ``(after, through]`` by the package itself (the oracle)."""
    if through <= after:
        return 0
    return len(chinese_calendar.get_workdays(after + timedelta(days=1), through))


def test_support_due_dates_follow_the_rule_for_every_covered_quarter(cal):
    for period in Period.range(Period(2005, 1), Period(2026, 3)):
        for offset, gap, floor in ((10, 5, 3), (10, 1, 3), (3, 5, 3), (10, 5, 0), (20, 5, 8)):
            lead = period.due_date(cal, offset_days=offset)
            support = period.support_due_date(
                cal, offset_days=offset, lead_gap_working_days=gap, min_days_after_quarter=floor
            )
            case = (period, offset, gap, floor)
            assert chinese_calendar.is_workday(support), case
            assert support <= lead, case  # never the order
            # Never before the quarter is over (floor 0: its last day at the earliest).
            assert support > period.end or (floor == 0 and support == period.end), case
            before_lead, after_end = (
                _working_days(support, lead),
                _working_days(period.end, support),
            )
            keep = min(gap, 2)
            # The lead keeps its two days unless the support is the first day after the end.
            assert before_lead >= keep or after_end == 1, case
            # The gap is never longer than asked, unless the floor needs it.
            assert before_lead <= gap or after_end == floor, case
            # The floor is met, unless meeting it would take the lead's two days.
            assert after_end >= floor or before_lead == keep or after_end == 1, case


# -- beyond the package's coverage ------------------------------------------------------------


def test_due_date_weekend_fallback_for_unsupported_year(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    cal = WorkingCalendar()
    # 2099Q4 ends Thu 2099-12-31; +10 = Sun 2100-01-10 -> Mon 2100-01-11 (weekends only).
    assert Period.parse("2099Q4").due_date(cal) == date(2100, 1, 11)
    assert Period.parse("2099Q4").due_date(cal) == date(2100, 1, 11)
    # Back 5 working days from Mon 2100-01-11 is Jan 4; 3 after Thu 2099-12-31 is Tue Jan 5.
    assert Period.parse("2099Q4").support_due_date(cal) == date(2100, 1, 5)
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 1
    assert "2100" in messages[0]


def test_due_date_with_extra_holidays_for_unsupported_year():
    cal = WorkingCalendar(extra_holidays=[date(2100, 1, 11), date(2100, 1, 12)])
    assert Period.parse("2099Q4").due_date(cal) == date(2100, 1, 13)
    cal = WorkingCalendar(extra_workdays=[date(2100, 1, 10)])
    assert Period.parse("2099Q4").due_date(cal) == date(2100, 1, 10)


# -- the one label people see -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("2026Q3", "2026年第三季度"),
        ("2024Q1", "2024年第一季度"),
        ("2025Q2", "2025年第二季度"),
        ("2027Q4", "2027年第四季度"),
        (Period(2026, 3), "2026年第三季度"),
        (None, ""),
        ("", ""),
    ],
)
def test_period_label_of_keys_and_periods(value, label):
    assert period_label(value) == label


@pytest.mark.parametrize("text", ["2026年第三季度", "2026q3", " 2026Q3", "全部报告期", "0000Q1"])
def test_period_label_leaves_anything_else_as_it_is(text):
    """A label, a malformed key or a user's text is shown unchanged, never a failure."""
    assert period_label(text) == text


def test_period_label_filter_in_templates(app):
    from flask import render_template_string

    with app.test_request_context():
        shown = render_template_string(
            "{{ '2026Q3'|period_label }}·{{ p|period_label }}", p=Period(2024, 4)
        )
    assert shown == "2026年第三季度·2024年第四季度"
