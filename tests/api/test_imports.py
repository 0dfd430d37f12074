"""The API reads the contract, never the web's forms or the pages' labels."""

from __future__ import annotations

import ast
from pathlib import Path

import tracker.api

API_DIR = Path(tracker.api.__file__).parent
# The profile pages where users manage their tokens are web pages (session, CSRF, a WTForms
# form), not the JSON API: the contract rule is the API's.
WEB_PAGES = {"pages.py"}


def forbidden_imports(source: str) -> list[str]:
    """The imports of a module's source that reach a WTForms module (``tracker.*.forms``)
    or take UI labels (``*_LABELS``) from a ``queries`` module."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _is_forms(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module
            names = [a.name for a in node.names]
            if _is_forms(module) or (module.startswith("tracker") and "forms" in names):
                found.append(module)
            if module.endswith("queries"):
                found += [f"{module}.{n}" for n in names if n.endswith("LABELS")]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.endswith("_LABELS")
            and isinstance(node.value, ast.Name)
            and node.value.id.endswith("queries")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


def _is_forms(module: str) -> bool:
    return module.startswith("tracker") and module.split(".")[-1] == "forms"


def test_no_api_module_imports_forms_or_query_labels():
    offenders = {
        path.name: bad
        for path in sorted(API_DIR.glob("*.py"))
        if path.name not in WEB_PAGES
        and (bad := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_check_sees_each_kind_of_forbidden_import():
    assert forbidden_imports("from tracker.reports.forms import MAX_NARRATIVE") == [
        "tracker.reports.forms"
    ]
    assert forbidden_imports("import tracker.auth.forms") == ["tracker.auth.forms"]
    assert forbidden_imports("from tracker.reports import forms") == ["tracker.reports"]
    assert forbidden_imports("from tracker.reports.queries import FIELD_LABELS") == [
        "tracker.reports.queries.FIELD_LABELS"
    ]
    assert forbidden_imports("x = report_queries.FIELD_LABELS") == ["report_queries.FIELD_LABELS"]
    assert forbidden_imports("from tracker.reports.labels import FIELD_LABELS") == []
