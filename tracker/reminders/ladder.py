"""The escalation ladder: which reminder an unsubmitted obligation is due on a given day.

A ladder is a list of rungs, each a number of working days from the due date (negative before
it) and an audience, followed by a weekly repeat of the last rung. The default, written in the
``TRACKER_REMINDER_LADDER`` syntax::

    upcoming_7:-7:liaison; upcoming_1:-1:liaison; due:0:liaison;
    overdue_1:1:liaison+coordinator; overdue_5:5:liaison+coordinator+viewer; weekly:5

that is: 7 and 1 working days before the due date and on the due date → the department's
liaisons; 1 working day after → also the coordinators; 5 after → also the department's
viewers (its leaders); then every 5 working days (a working week) the same audience again,
as rungs ``overdue_w1``, ``overdue_w2`` …

**Only the latest rung counts.** On any day the ladder names one rung: the latest whose date
has come. A rung whose successor's date has also come is stale and never sent, so a pass that
runs late (the scheduler was down, the system went live mid-quarter, a period was opened late)
sends the one reminder that describes the situation today instead of the whole history; the
audiences only grow up the ladder, so nobody who should hear of it is skipped.

Pure Python: rung dates are computed on a :class:`~tracker.workdays.WorkingCalendar`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from tracker.workdays import WorkingCalendar

AUDIENCES = ("liaison", "coordinator", "viewer")
WEEKLY_PREFIX = "overdue_w"
DEFAULT_LADDER = (
    "upcoming_7:-7:liaison; upcoming_1:-1:liaison; due:0:liaison; "
    "overdue_1:1:liaison+coordinator; overdue_5:5:liaison+coordinator+viewer; weekly:5"
)
_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")


class LadderError(ValueError):
    """The ladder configuration cannot be used; the message says which part and why."""


@dataclass(frozen=True)
class Rung:
    """One step: ``offset`` working days from the due date, sent to ``audience``."""

    name: str
    offset: int
    audience: frozenset[str]

    @property
    def stage(self) -> str:
        """``before``, ``due`` or ``overdue``: how the message is worded."""
        if self.offset < 0:
            return "before"
        return "due" if self.offset == 0 else "overdue"

    def date_for(self, due: date, calendar: WorkingCalendar) -> date:
        """The working day this rung falls on for a due date."""
        return calendar.add_working_days(due, self.offset)


@dataclass(frozen=True)
class Ladder:
    """Fixed rungs in increasing order of offset, then a repeat every ``weekly_every`` days."""

    rungs: tuple[Rung, ...]
    weekly_every: int = 0

    def weekly_rung(self, number: int) -> Rung:
        """The ``number``-th repeat of the last rung (``overdue_w1`` is the first)."""
        last = self.rungs[-1]
        return Rung(
            f"{WEEKLY_PREFIX}{number}", last.offset + number * self.weekly_every, last.audience
        )

    def current_rung(self, due: date, today: date, calendar: WorkingCalendar) -> Rung | None:
        """The latest rung whose date is on or before ``today`` (None before the first)."""
        current = None
        for rung in self.rungs:
            if rung.date_for(due, calendar) > today:
                return current
            current = rung
        if self.weekly_every and current is not None:
            late = calendar.count_working_days(due, today)  # working days in (due, today]
            repeats = (late - current.offset) // self.weekly_every
            if repeats >= 1:
                return self.weekly_rung(repeats)
        return current

    def schedule(
        self, due: date, calendar: WorkingCalendar, until: date
    ) -> Iterator[tuple[Rung, date]]:
        """Every (rung, date) up to ``until``, in order: for pages and tests."""
        for rung in self.rungs:
            when = rung.date_for(due, calendar)
            if when > until:
                return
            yield rung, when
        number = 1
        while self.weekly_every:
            rung = self.weekly_rung(number)
            when = rung.date_for(due, calendar)
            if when > until:
                return
            yield rung, when
            number += 1


def parse_ladder(text: str) -> Ladder:
    """Read the ``name:offset:audience+audience; …; weekly:N`` syntax (see the module doc)."""
    rungs: list[Rung] = []
    weekly = 0
    entries = [entry.strip() for entry in (text or "").split(";") if entry.strip()]
    if not entries:
        raise LadderError("提醒阶梯为空：至少需要一级提醒")
    for position, entry in enumerate(entries, start=1):
        parts = [part.strip() for part in entry.split(":")]
        if parts[0] == "weekly":
            if position != len(entries):
                raise LadderError(f"第 {position} 项：weekly 只能是最后一项")
            weekly = _number(parts, position, "weekly:N（N 为工作日数）", expected=2)
            if weekly < 1:
                raise LadderError(f"第 {position} 项：weekly 的间隔须为正整数")
            continue
        rungs.append(_rung(parts, position))
    if not rungs:
        raise LadderError("提醒阶梯为空：至少需要一级提醒")
    names = [rung.name for rung in rungs]
    if len(set(names)) != len(names):
        raise LadderError("提醒阶梯中有重名的级别")
    offsets = [rung.offset for rung in rungs]
    if offsets != sorted(set(offsets)):
        raise LadderError("提醒阶梯须按工作日偏移严格递增排列")
    if weekly and rungs[-1].offset < 0:
        raise LadderError("weekly 重复须接在截止日当天或逾期后的一级之后")
    return Ladder(tuple(rungs), weekly)


def _rung(parts: list[str], position: int) -> Rung:
    if len(parts) != 3:
        raise LadderError(f"第 {position} 项应为“名称:工作日偏移:对象”，如 overdue_1:1:liaison")
    name, _, audience_text = parts
    if not _NAME.fullmatch(name) or name.startswith(WEEKLY_PREFIX):
        raise LadderError(f"第 {position} 项：级别名称 {name!r} 无效（小写字母、数字、下划线）")
    offset = _number(parts, position, "名称:工作日偏移:对象", expected=3, index=1)
    audience = frozenset(a.strip() for a in re.split(r"[+,]", audience_text) if a.strip())
    unknown = audience - set(AUDIENCES)
    if not audience or unknown:
        raise LadderError(
            f"第 {position} 项：提醒对象须为 {'、'.join(AUDIENCES)} 的组合，"
            f"实际为 {audience_text!r}"
        )
    return Rung(name, offset, audience)


def _number(parts: list[str], position: int, shape: str, *, expected: int, index: int = 1) -> int:
    if len(parts) != expected:
        raise LadderError(f"第 {position} 项应为“{shape}”")
    try:
        return int(parts[index])
    except ValueError:
        raise LadderError(f"第 {position} 项：{parts[index]!r} 不是整数") from None
