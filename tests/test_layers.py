"""The package graph points downwards: core ← catalogue, audit, auth ← reports ← follow-ups,
reminders, notifications ← dashboard ← exports, api, federation; ``create_app``, the model list
and the job table sit on top.

Read from the source itself (every ``import`` that runs, at module level or inside a function;
imports under ``if TYPE_CHECKING:`` only serve annotations and are left out), so that a new
module cannot slip a back-edge in unnoticed. ``docs/architecture.md`` draws the same graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracker"

# Lowest first. A module may import its own layer's modules or lower ones; siblings of one
# layer may import each other only without a cycle.
LAYERS: list[set[str]] = [
    {
        "extensions",
        "config",
        "db",
        "clock",
        "timetravel",
        "logs",
        "metrics",
        "errors",
        "workdays",
        "periods",
        "lease",
        "scheduler",
        "urls",
        "web",
        "forms",
        "navigation",
        "resources",
        "proxy",
        "guards",
        "ratelimit",
        "privacy",
        "instance",
    },
    {"catalogue", "audit", "auth"},
    {"delivery", "reports", "imports", "counties"},
    {"followups", "reminders", "notifications"},
    {"dashboard", "search"},
    {"exports", "api", "home", "ops", "help", "federation"},
    {
        "__init__",
        "models",
        "jobs",
        "startup",
    },  # the composition root: create_app, all models, all jobs
]
LAYER_OF = {unit: index for index, layer in enumerate(LAYERS) for unit in layer}


def _unit(module: str) -> str:
    """``tracker.reports.services`` → ``reports``; ``tracker.db`` → ``db``; ``tracker`` →
    ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported tracker module) of every import that runs."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "tracker" or base.startswith("tracker."):
                # ``from tracker import web`` imports the module ``tracker.web``
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    is_module = (PACKAGE.parent / Path(*candidate.split("."))).with_suffix(
                        ".py"
                    ).exists() or (PACKAGE.parent / Path(*candidate.split("."))).is_dir()
                    found.append((node.lineno, candidate if is_module else base))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [(line, name) for line, name in found if name.startswith("tracker")]


def _graph() -> list[tuple[str, int, str]]:
    """(importing module, line, imported module) for every tracker → tracker import."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, imported in _imports(tree, module, path.name == "__init__.py"):
            edges.append((module, line, imported))
    return edges


EDGES = _graph()


def test_every_unit_has_a_layer():
    units = {_unit(module) for module, _, _ in EDGES} | {_unit(m) for _, _, m in EDGES}
    units |= {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    missing = sorted(units - LAYER_OF.keys())
    assert not missing, f"add these to a layer in tests/test_layers.py: {missing}"


def test_no_import_runs_up_a_layer():
    upward = [
        f"{module}:{line} imports {imported}"
        for module, line, imported in EDGES
        if LAYER_OF[_unit(imported)] > LAYER_OF[_unit(module)]
    ]
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


# Entry points: the views, the token pages and the commands. Only create_app imports them (the
# next test checks that no other package does), so an edge from one cannot close an import
# cycle; the department page of the catalogue may ask auth's permissions while auth's models
# name the catalogue's departments.
ENTRY_MODULES = ("routes", "pages", "cli")


def _is_entry(module: str) -> bool:
    return module.rpartition(".")[2] in ENTRY_MODULES


def test_domains_never_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, _, imported in EDGES:
        source, target = _unit(module), _unit(imported)
        if source != target and not _is_entry(module):
            graph[source].add(target)
    cycle = _cycle(graph)
    assert cycle is None, "a cycle between packages: " + " → ".join(cycle or [])


def test_only_create_app_imports_another_packages_entry_points():
    """No module imports another package's views, pages or commands (``create_app`` and the
    job table excepted; one command may reuse another's helpers)."""
    crossing = [
        f"{module}:{line} imports {imported}"
        for module, line, imported in EDGES
        if _is_entry(imported)
        and _unit(imported) != _unit(module)
        and _unit(module) not in LAYERS[-1]
        and not (module.endswith(".cli") and imported.endswith(".cli"))
    ]
    assert not crossing, "\n".join(crossing)


def test_no_optional_imports():
    """A missing module is a broken install, not a feature switch."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                if names & {"ImportError", "ModuleNotFoundError"}:
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("module", "imported"),
    [
        ("tracker.db", "tracker.reports.models"),  # core → domain
        ("tracker.reports.routes", "tracker.followups.routes"),  # reports → follow-ups
    ],
)
def test_the_check_sees_a_back_edge(module, imported):
    """The rules above do fail on a back-edge (so that they cannot pass vacuously)."""
    assert LAYER_OF[_unit(imported)] > LAYER_OF[_unit(module)]
    tree = ast.parse(f"import {imported}\n")
    assert _imports(tree, module, False) == [(1, imported)]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_view_rolls_back():
    """Views leave refusals to the one error path (tracker.web, the API's handler)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.stem not in ("routes", "pages"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "rollback":
                # the bell's count may fail while an error page renders: it ends its own read
                if path.parts[-2:] == ("notifications", "routes.py"):
                    continue
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not offenders, offenders
