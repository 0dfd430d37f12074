"""The rules a delivery plan's input keeps, whichever way it comes in (page, API).

Limits, the reading of a typed amount (``2,800``, ``35.5``) and of a quarter key, and the
quarters a milestone may be due in. :func:`tracker.delivery.services.plan_problems` applies
them to a whole plan; the page's form (:mod:`tracker.delivery.forms`), the JSON API and the
report side (indicator values in a report, the offline template) read them from here.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tracker.delivery.queries import PLAN_YEARS, current_quarter
from tracker.periods import Period

MAX_MILESTONES = 10
MAX_INDICATORS = 6
MAX_TITLE = 200
MAX_NAME = 100
MAX_UNIT = 20
MAX_REASON = 2000
# Values are counts, shares and amounts: never negative, at most 15 digits before the point
# and 4 after (the column is NUMERIC(20, 4)).
MAX_VALUE = Decimal("1e15")
MAX_DECIMALS = 4
NUL = "\x00"

AMOUNT_MESSAGE = "应为不小于 0 的数字（最多 4 位小数），如 1200 或 35.5"

_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,4})?")


def parse_amount(text: str | None) -> Decimal | None:
    """A value typed as text: digits, thousands commas allowed, at most 4 decimals, not
    negative (no exponent, no sign); None otherwise."""
    text = (text or "").strip()
    if not _AMOUNT.fullmatch(text):
        return None
    value = Decimal(text.replace(",", ""))
    return value if value < MAX_VALUE else None


def amount_in_range(value: Decimal) -> bool:
    """Can a typed value (a JSON number, a spreadsheet's number) be stored as an amount?
    Finite, not negative, below :data:`MAX_VALUE`, at most :data:`MAX_DECIMALS` decimals."""
    if not value.is_finite() or value < 0 or value >= MAX_VALUE:
        return False
    exponent = value.normalize().as_tuple().exponent
    return not isinstance(exponent, int) or exponent >= -MAX_DECIMALS


def parse_quarter(text: str | None) -> Period | None:
    """A quarter key (2026Q4), tolerant of lower case and spaces; None when not one."""
    try:
        return Period.parse((text or "").strip().upper())
    except ValueError:
        return None


def quarter_choices(start: Period | None) -> list[Period]:
    """The quarters a milestone may be due in: from the document's first quarter (else four
    quarters back from today) to :data:`PLAN_YEARS` years on, and at least three years ahead."""
    now = current_quarter()
    first = start or Period(now.year - 1, now.quarter)
    last = max(Period(first.year + PLAN_YEARS, first.quarter), Period(now.year + 3, 4))
    return list(Period.range(first, last))
