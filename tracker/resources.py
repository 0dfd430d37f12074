"""Where the product's files live: templates, migrations and the seed file.

They are kept at the top of the repository. An installed wheel carries a copy inside the
package, under ``tracker/_shipped/`` (``setup.py`` puts it there); a source checkout or an
editable install has none and reads the repository's own. Static files always sit inside the
package (``tracker/static``), where Flask finds them by itself.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_DIR = PACKAGE_DIR / "_shipped"
SOURCE_ROOT = PACKAGE_DIR.parent


def installed_from_wheel() -> bool:
    """True when the package carries its own copy of the resources (a built wheel)."""
    return SHIPPED_DIR.is_dir()


def resource_root() -> Path:
    """The directory holding ``templates/``, ``migrations/`` and ``tasks_seed.yaml``."""
    return SHIPPED_DIR if installed_from_wheel() else SOURCE_ROOT


def templates_dir() -> Path:
    """The Jinja templates."""
    return resource_root() / "templates"


def migrations_dir() -> Path:
    """The Alembic environment and its revisions."""
    return resource_root() / "migrations"


def seed_file() -> Path:
    """The task division of 民发〔2019〕86号 that ``flask seed`` loads by default."""
    return resource_root() / "tasks_seed.yaml"


def default_instance_path() -> str | None:
    """``instance/`` beside a source checkout; ``None`` lets Flask choose for an installed
    package (``<prefix>/var/tracker-instance``), never a folder inside ``site-packages``."""
    return None if installed_from_wheel() else str(SOURCE_ROOT / "instance")
