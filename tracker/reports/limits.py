"""The limits of what a report, a review and an API request may hold: one set for every way in.

The web forms (:mod:`tracker.reports.forms`), the API's contract (:mod:`tracker.api.contract`)
and the Excel template (:mod:`tracker.exports.template`) all read these, so that the same
input is refused, or kept, whichever way it arrives. Where the web form and the API differed,
the stricter rule was kept; every stored report satisfies it (figures are ``Numeric(20, 4)``,
shown back as plain decimals).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Lengths, in characters.
MAX_NARRATIVE = 5000  # each of 工作进展, 存在的困难和问题, 经验做法, 工作建议, 下一步计划
MAX_REVIEW_TEXT = 2000  # 审核意见, 退回理由, 豁免理由
MAX_FIGURE_NAME = 100
MAX_FIGURE_UNIT = 20
MAX_FIGURE_TEXT = 30  # a figure's value written as text (``1,200.5``)
MAX_MILESTONE_NOTE = 500  # the sentence on a delivery plan milestone (情况说明)

# A database cannot keep the NUL character (PostgreSQL refuses it in text): refused on every way in.
NUL = "\x00"
NUL_MESSAGE = "含有无法保存的控制字符（NUL），请删除后重试"

# How many key figures a report carries.
MAX_FIGURES = 5

# A figure written as text: digits, optional thousands commas and decimals (``1,200.5``).
NUMBER_PATTERN = r"-?[0-9][0-9,]*(\.[0-9]+)?"
# Figures are stored as Numeric(20, 4): at most 16 digits before the point.
FIGURE_BOUND = Decimal("1e16")

# Record ids the database's integer columns can hold.
MAX_ID = 2**31 - 1

# Items in one page of an API list.
MAX_PAGE = 500
DEFAULT_PAGE = 100


def normalise_text(value: str) -> str:
    """Free text as it is stored and compared, whichever way it came in.

    Browsers send a textarea's line breaks as CRLF, workbooks give them back as LF, and
    either may carry spaces at the ends of lines: line breaks become LF, each line loses its
    trailing white space, and the whole text loses its leading blank lines and trailing white
    space. Indentation at the start of a line is kept. Idempotent.
    """
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip().lstrip("\n")


def normalise_optional(value: object) -> object:
    """:func:`normalise_text` for a value that may not be text yet (a form's or a request's
    raw value): text is normalised, anything else is handed on for the type checks."""
    return normalise_text(value) if isinstance(value, str) else value


def figure_from_text(text: str) -> Decimal | None:
    """The number a figure's text stands for, or None if it breaks the figure rules."""
    if len(text) > MAX_FIGURE_TEXT or not re.fullmatch(NUMBER_PATTERN, text):
        return None
    return figure_in_range(Decimal(text.replace(",", "")))


def figure_from_number(value: int | float) -> Decimal | None:
    """A figure given as a number (JSON), or None if it is not finite or out of range."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return figure_in_range(number)


def figure_in_range(value: Decimal) -> Decimal | None:
    """``value`` if the figure column can hold it, else None."""
    if not value.is_finite() or abs(value) >= FIGURE_BOUND:
        return None
    return value
