"""What a county count is: a whole number from 0, at most 15 digits. One rule that the form,
the Excel template and the services read."""

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
