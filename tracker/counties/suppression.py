"""Small-cell suppression: a count below ``TRACKER_SMALL_COUNT_THRESHOLD`` is shown as "<N"
everywhere above county level (the province's totals by prefecture, every export), and a
second cell is hidden where one small cell could otherwise be subtracted out of a shown total
(complementary suppression).

Why: a small count of left-behind women with a disability in one township or county can
point at a person that neighbours can name (re-identification from aggregates). The county
that entered a value sees it exactly; totals are computed from exact values, and a total that
is itself below the threshold is shown suppressed too — a prefecture whose total is one
county's figure (a single county reported) is suppressed when that figure is small.

Complementary suppression (:func:`protected`): the province total is the sum of the
prefecture totals. With exactly one prefecture's total of an indicator suppressed, the
province total minus the others would give it back; so the smallest other prefecture total
that is shown is hidden as well (``×``). Two hidden cells leave only their sum known.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import current_app

COMPLEMENTARY_LABEL = "×"


def threshold() -> int:
    """The configured threshold (default 5)."""
    return int(current_app.config["TRACKER_SMALL_COUNT_THRESHOLD"])


def suppressed_label(limit: int | None = None) -> str:
    """What a small count is shown as: ``<5``."""
    return f"<{threshold() if limit is None else limit}"


def shown(value: int | None, limit: int | None = None) -> str:
    """A count as shown above county level: "—" when nobody reported, ``<5`` below the
    threshold (zero included), else the number with thousands separators (1,120)."""
    if value is None:
        return "—"
    limit = threshold() if limit is None else limit
    return suppressed_label(limit) if value < limit else f"{value:,}"


def protected(values: Sequence[int | None], limit: int | None = None) -> set[int]:
    """The cells of one group to hide besides the small ones: ``values`` are the parts of a
    total that is shown too (one indicator's prefecture totals, None where nobody reported).

    When exactly one part is below ``limit`` (suppressed as small), the smallest other part
    that was reported is hidden as well (ties: the first), so that the suppressed one cannot
    be got back by subtracting the shown parts from the total. Returns those extra indexes
    (at most one); the small ones are :func:`shown`'s business.
    """
    limit = threshold() if limit is None else limit
    small = [k for k, v in enumerate(values) if v is not None and v < limit]
    if len(small) != 1:
        return set()
    others = [(v, k) for k, v in enumerate(values) if v is not None and v >= limit]
    return {min(others)[1]} if others else set()


def shown_in_group(values: Sequence[int | None], limit: int | None = None) -> list[str]:
    """Each part of a group as shown above county level: :func:`shown`, and ``×`` for the
    cell hidden by :func:`protected`."""
    extra = protected(values, limit)
    return [COMPLEMENTARY_LABEL if k in extra else shown(v, limit) for k, v in enumerate(values)]
