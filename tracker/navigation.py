"""The main navigation (each entry names an endpoint, a label and who sees it) and the blocks
that stand at the top of every landing page (the to-do), registered by the domains that own
them so that the pages of lower domains can show them without importing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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


# name → (template, prepare): ``prepare(user)`` gives the template's ``block`` or None to skip.
LandingBlock = tuple[str, Callable[["User"], Any]]
_LANDING: dict[str, LandingBlock] = {}


def add_landing_block(name: str, template: str, prepare: Callable[[User], Any]) -> None:
    """Register (once per name) a block shown at the top of every landing page."""
    _LANDING.setdefault(name, (template, prepare))


def landing_blocks(user: User) -> list[tuple[str, Any]]:
    """(template, data) of every landing block that has something for ``user``."""
    blocks = ((template, prepare(user)) for template, prepare in _LANDING.values())
    return [(template, data) for template, data in blocks if data is not None]
