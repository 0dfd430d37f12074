"""What a county count is: a whole number from 0, at most 15 digits; for an indicator that
counts counties, one county's 是 (1) or 否 (0). One rule that the form, the Excel template and
the services read."""

from __future__ import annotations

import re

MAX_DIGITS = 15
MAX_COUNT = 10**MAX_DIGITS - 1
# ASCII digits, optionally grouped by thousands commas (1,234); no sign, no decimals.
_COUNT = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+")


def count_problem(text: str) -> str | None:
    """Why ``text`` is not a count, or None."""
    if not _COUNT.fullmatch(text):
        return "只能填写 0 或正整数（汇总人数或个数，不含小数、负号和单位）"
    if int(text.replace(",", "")) > MAX_COUNT:
        return f"数值过大（最多 {MAX_DIGITS} 位数字）"
    return None


def parse_count(text: str) -> int:
    """``text`` (stripped) as a count; ValueError with the reason in Chinese otherwise."""
    problem = count_problem(text)
    if problem:
        raise ValueError(problem)
    return int(text.replace(",", ""))


# An indicator counts counties when its name ends in 县 (已完成摸底排查的县) and its unit is
# one of these: one county's value is then 1 (是) or 0 (否).
COUNTY_UNITS = frozenset({"个", "县", "个县"})
YES, NO = "是", "否"
YES_NO = {YES: 1, NO: 0}
YES_NO_PROBLEM = "只能填写“是”或“否”（本县是否计入，是计 1、否计 0）"


def counts_counties(name: str, unit: str) -> bool:
    """Whether an indicator (by its name and unit) counts counties."""
    return name.strip().endswith("县") and unit.strip() in COUNTY_UNITS


def yes_no_question(name: str) -> str:
    """One county's question for an indicator that counts counties: 已完成摸底排查的县 →
    本县是否已完成摸底排查."""
    name = name.strip()
    stem = name[:-2] if name.endswith("的县") else name[:-1]
    return f"本县是否{stem}"


def yes_no_answer(value: int) -> str:
    """A stored 1 / 0 as the county reads it: 是 / 否 (another count as itself)."""
    return YES if value == 1 else NO if value == 0 else str(value)
