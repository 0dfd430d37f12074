"""Build hook: ship the top-level ``templates/``, ``migrations/`` and ``tasks_seed.yaml``.

They stay at the top of the repository, where maintainers edit them; a built wheel carries a
copy under ``tracker/_shipped/``, which :mod:`tracker.resources` prefers when it is present.
Everything else about the package is declared in ``setup.cfg``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_DIRS = ("templates", "migrations")
SHIPPED_FILES = ("tasks_seed.yaml",)
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")


class BuildPyWithResources(build_py):
    """``build_py`` that also copies the top-level resources into ``tracker/_shipped``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the source tree
            return
        target = Path(self.build_lib) / "tracker" / "_shipped"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in SHIPPED_DIRS:
            shutil.copytree(ROOT / name, target / name, ignore=SKIPPED)
        for name in SHIPPED_FILES:
            shutil.copy2(ROOT / name, target / name)


setup(cmdclass={"build_py": BuildPyWithResources})
