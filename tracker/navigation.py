"""The main navigation: each entry names an endpoint, a label and who sees it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: core never imports a domain at run time
    from tracker.auth.models import User

NavEntry = tuple[str, str, Callable[["User"], bool]]


def _everyone(user: User) -> bool:
    return True


NAV: list[NavEntry] = [
    ("catalogue.tasks", "任务分工", _everyone),
    ("catalogue.departments", "部门", _everyone),
]


def add_nav(
    endpoint: str,
    label: str,
    visible: Callable[[User], bool] = _everyone,
    *,
    position: int | None = None,
) -> None:
    """Add an entry once (blueprints call this when they are registered)."""
    if any(entry[0] == endpoint for entry in NAV):
        return
    entry = (endpoint, label, visible)
    if position is None:
        NAV.append(entry)
    else:
        NAV.insert(position, entry)


def nav_items(user: User) -> list[tuple[str, str]]:
    """(endpoint, label) of the entries ``user`` may see, in order."""
    return [(endpoint, label) for endpoint, label, visible in NAV if visible(user)]
