"""Small-cell suppression: a count below ``TRACKER_SMALL_COUNT_THRESHOLD`` is shown as "<N"
everywhere above county level (the province's totals by prefecture, every export).

Why: a small count of left-behind women with a disability in one township or county can
point at a person that neighbours can name (re-identification from aggregates). The county
that entered a value sees it exactly; totals are computed from exact values, and a total that
is itself below the threshold is shown suppressed too.
"""

from __future__ import annotations

from flask import current_app


def threshold() -> int:
    """The configured threshold (default 5)."""
    return int(current_app.config["TRACKER_SMALL_COUNT_THRESHOLD"])


def suppressed_label(limit: int | None = None) -> str:
    """What a small count is shown as: ``<5``."""
    return f"<{threshold() if limit is None else limit}"


def shown(value: int | None, limit: int | None = None) -> str:
    """A count as shown above county level: "—" when nobody reported, ``<5`` below the
    threshold (zero included), else the number."""
    if value is None:
        return "—"
    limit = threshold() if limit is None else limit
    return suppressed_label(limit) if value < limit else str(value)
