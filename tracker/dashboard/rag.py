"""The RAG rule (红黄绿灯): one obligation's traffic light, decided in exactly one place.

The decision table, first match wins (``today`` is the Beijing date the dashboard is judged on):

==========================================  ==========  ======  ==========================
condition                                   reason      colour  label
==========================================  ==========  ======  ==========================
obligation waived                           waived      grey    已豁免
report accepted                             accepted    green   已审核通过
report submitted, awaiting review           submitted   blue    已报送待审核
report returned for revision                returned    amber   已退回
not submitted and ``today > due_date``      overdue     red     逾期未报
not submitted, due within N working days    due_soon    amber   临近截止
not submitted, due later                    not_due     grey    未到期
==========================================  ==========  ======  ==========================

"Not submitted" means no report or a draft: a draft counts as not submitted. "Due within N
working days" (N = ``TRACKER_AMBER_WORKING_DAYS``, default 5) means at most N working days are
left, the due day itself included (0 left on the day). A report first submitted after its due
date keeps its colour and carries a 迟报 mark (``Light.late``) with the working days it was late.

:func:`rag_for` applies the table in Python; :func:`reason_sql` builds the same table as a SQL
``CASE`` so that aggregates, filters and paging run in the database. Both take the date
thresholds from :class:`Thresholds`, and a test checks that the two agree.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from tracker import clock
from tracker.config import Settings
from tracker.reports.models import ReportState
from tracker.workdays import WorkingCalendar, default_calendar

DEFAULT_AMBER_WORKING_DAYS: int = Settings.model_fields["amber_working_days"].default

# Report states in which the department has handed its report in (at least once).
SUBMITTED_STATES = (ReportState.SUBMITTED, ReportState.RETURNED, ReportState.ACCEPTED)


class Rag(enum.StrEnum):
    """A traffic-light colour; always shown with a text label, never alone."""

    GREEN = "green"
    BLUE = "blue"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"

    @property
    def label(self) -> str:
        """The legend's wording for the colour."""
        return {
            "green": "绿：已审核通过",
            "blue": "蓝：已报送待审核",
            "amber": "黄：被退回，或5个工作日内到期未报",
            "red": "红：逾期未报",
            "grey": "灰：未到期或已豁免",
        }[self.value]

    @property
    def short_label(self) -> str:
        """The colour and its meaning in a few words (filter menus)."""
        return {
            "green": "绿 · 已通过",
            "blue": "蓝 · 待审核",
            "amber": "黄 · 退回或临期",
            "red": "红 · 逾期未报",
            "grey": "灰 · 未到期或豁免",
        }[self.value]

    @property
    def name_cn(self) -> str:
        return {"green": "绿", "blue": "蓝", "amber": "黄", "red": "红", "grey": "灰"}[self.value]

    @property
    def css_class(self) -> str:
        """The stylesheet class (``tracker/static/css/app.css``) of the colour."""
        return f"state-{self.value}"

    @property
    def severity(self) -> int | None:
        """How bad the colour is, for "better / worse" comparisons; grey is not comparable."""
        return {"green": 0, "blue": 1, "amber": 2, "red": 3}.get(self.value)


class Reason(enum.StrEnum):
    """Why an obligation has its colour: the row of the decision table that matched."""

    WAIVED = "waived"
    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    NOT_DUE = "not_due"

    @property
    def rag(self) -> Rag:
        return _REASON_RAG[self]

    @property
    def label(self) -> str:
        return {
            "waived": "已豁免",
            "accepted": "已审核通过",
            "submitted": "已报送待审核",
            "returned": "已退回",
            "overdue": "逾期未报",
            "due_soon": "临近截止",
            "not_due": "未到期",
        }[self.value]

    @property
    def short(self) -> str:
        """The label's short form, for matrix cells."""
        return {
            "waived": "豁免",
            "accepted": "通过",
            "submitted": "待审",
            "returned": "退回",
            "overdue": "逾期",
            "due_soon": "临期",
            "not_due": "未到期",
        }[self.value]


_REASON_RAG = {
    Reason.WAIVED: Rag.GREY,
    Reason.ACCEPTED: Rag.GREEN,
    Reason.SUBMITTED: Rag.BLUE,
    Reason.RETURNED: Rag.AMBER,
    Reason.OVERDUE: Rag.RED,
    Reason.DUE_SOON: Rag.AMBER,
    Reason.NOT_DUE: Rag.GREY,
}


def reasons_of(rag: Rag) -> list[Reason]:
    """Every reason that gives this colour (for filtering by colour in SQL)."""
    return [reason for reason, colour in _REASON_RAG.items() if colour == rag]


@dataclass(frozen=True)
class Light:
    """The traffic light of one obligation (or of a group of alike obligations)."""

    reason: Reason
    days_late: int = 0  # working days: at first submission if late, else as of today if overdue
    late: bool = False  # first submitted after the due date (迟报)
    days_left: int | None = None  # working days to the due date, while not submitted

    @property
    def rag(self) -> Rag:
        return self.reason.rag

    @property
    def label(self) -> str:
        """The full text label, e.g. ``逾期未报（3个工作日）`` or ``已审核通过 · 迟报2个工作日``."""
        text = self.reason.label
        if self.reason == Reason.OVERDUE:
            text += f"（{self.days_late}个工作日）"
        elif self.reason == Reason.DUE_SOON and self.days_left is not None:
            text += "（今日截止）" if self.days_left == 0 else f"（剩{self.days_left}个工作日）"
        if self.late:
            text += f" · 迟报{self.days_late}个工作日"
        return text

    @property
    def short(self) -> str:
        """A cell's text: ``逾期3`` / ``通过·迟报`` / ``未到期``."""
        text = self.reason.short
        if self.reason == Reason.OVERDUE:
            text += str(self.days_late)
        if self.late:
            text += "·迟"
        return text


@dataclass(frozen=True)
class Thresholds:
    """The dates the table compares due dates with, for one judging day.

    ``amber_before`` is the ``N+1``-th working day after ``today``: an unsubmitted obligation
    with ``today <= due_date < amber_before`` has at most N working days left.
    """

    today: date
    amber_before: date
    calendar: WorkingCalendar

    @classmethod
    def on(
        cls,
        today: date,
        calendar: WorkingCalendar | None = None,
        amber_days: int = DEFAULT_AMBER_WORKING_DAYS,
    ) -> Thresholds:
        cal = calendar or default_calendar()
        return cls(today, cal.add_working_days(today, amber_days + 1), cal)


def reason_of(
    state: ReportState | str | None, waived: bool, due_date: date, t: Thresholds
) -> Reason:
    """The decision table (see the module docstring): which reason applies."""
    state = ReportState(state) if state else None
    if waived:
        return Reason.WAIVED
    if state == ReportState.ACCEPTED:
        return Reason.ACCEPTED
    if state == ReportState.SUBMITTED:
        return Reason.SUBMITTED
    if state == ReportState.RETURNED:
        return Reason.RETURNED
    if t.today > due_date:
        return Reason.OVERDUE
    if due_date < t.amber_before:
        return Reason.DUE_SOON
    return Reason.NOT_DUE


def rag_for(
    state: ReportState | str | None,
    first_submitted: date | datetime | None,
    waived: bool,
    due_date: date,
    today: date | None = None,
    calendar: WorkingCalendar | None = None,
    *,
    amber_days: int = DEFAULT_AMBER_WORKING_DAYS,
    thresholds: Thresholds | None = None,
) -> Light:
    """The light of one obligation.

    ``first_submitted`` is the first submission's Beijing date (or its aware UTC moment);
    ``today`` defaults to :func:`tracker.clock.local_today`. Pass a precomputed ``thresholds``
    when judging many obligations on the same day.
    """
    if thresholds is None:
        thresholds = Thresholds.on(today or clock.local_today(), calendar, amber_days)
    cal = thresholds.calendar
    reason = reason_of(state, waived, due_date, thresholds)
    submitted_on = (
        clock.local_date(first_submitted)
        if isinstance(first_submitted, datetime)
        else first_submitted
    )
    if reason == Reason.OVERDUE:
        return Light(reason, working_days_late(cal, due_date, thresholds.today))
    if reason == Reason.DUE_SOON:
        return Light(reason, days_left=cal.working_days_until(thresholds.today, due_date))
    if reason == Reason.NOT_DUE or submitted_on is None:
        return Light(reason)
    late = working_days_late(cal, due_date, submitted_on)
    return Light(reason, late, late > 0)


def reason_sql(
    state: sa.ColumnElement[Any],
    waived: sa.ColumnElement[Any],
    due_date: sa.ColumnElement[Any],
    t: Thresholds,
) -> sa.Case[str]:
    """The same decision table as a SQL ``CASE`` yielding :class:`Reason` values.

    ``state`` is the report's state column (NULL when there is no report), ``waived`` and
    ``due_date`` the obligation's columns.
    """
    return sa.case(
        (waived.is_(True), Reason.WAIVED.value),
        (state == ReportState.ACCEPTED, Reason.ACCEPTED.value),
        (state == ReportState.SUBMITTED, Reason.SUBMITTED.value),
        (state == ReportState.RETURNED, Reason.RETURNED.value),
        (due_date < t.today, Reason.OVERDUE.value),
        (due_date < t.amber_before, Reason.DUE_SOON.value),
        else_=Reason.NOT_DUE.value,
    )


def overdue_sql(
    state: sa.ColumnElement[Any],
    waived: sa.ColumnElement[Any],
    due_date: sa.ColumnElement[Any],
    t: Thresholds,
) -> sa.ColumnElement[bool]:
    """``reason_sql(...) == "overdue"`` as plain conditions the database filters on quickly."""
    return sa.and_(
        due_date < t.today,
        sa.or_(state.is_(None), state == ReportState.DRAFT),
        sa.or_(waived.is_(None), waived.is_(False)),
    )


def working_days_late(cal: WorkingCalendar, due: date, end: date) -> int:
    """Working days late for something due on ``due`` and done (or still open) on ``end``."""
    return _late(cal, due, end)


@functools.lru_cache(maxsize=65536)
def _late(cal: WorkingCalendar, due: date, end: date) -> int:
    # Dashboards ask for the same few (due, day) pairs thousands of times.
    return cal.working_days_between(due, end)


def legend() -> list[tuple[Rag, str]]:
    """(colour, wording) pairs for the legend, in reading order."""
    return [(rag, rag.label) for rag in (Rag.GREEN, Rag.BLUE, Rag.AMBER, Rag.RED, Rag.GREY)]
