"""The package's folders are its layers, and imports only run downwards.

    run/      the shells (CLI, server, workers, dev stack): may use anything; nothing uses them
    app.py    the API's app factory; website.py the page's own app; settings.py configuration
    api/      HTTP: routes, handlers, middlewares, the contract; uses the domain and the store
    store/    the repositories; uses the domain (and the SDK's client, through sdk/)
    sdk/      the aioboto3 client and its speed-ups; uses nothing of ours
    domain/   the todo and its rules; uses nothing of ours
    local/    local servers for dev, tests and benchmarks; uses nothing of ours

`logs.py` and `web_policy.py` (what the page may do, shared with the CDK app) sit beside the
layers: the HTTP layer and the apps use them, the store, the domain and the SDK never do.
`FORBIDDEN` states all of it. The graph is read from the source (every `import` and
`from ... import`, including those inside functions and under TYPE_CHECKING), so a shortcut
taken in a hurry fails here instead of quietly rotting the layering.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = "todo_service"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# Every part of the package: its folders, and its top-level modules by name.
PARTS: frozenset[str] = frozenset(
    {"run", "app", "website", "settings", "api", "store", "sdk", "domain", "local", "logs",
     "web_policy", "__main__"}
)  # fmt: skip


def _all_but(*allowed: str) -> frozenset[str]:
    return PARTS - set(allowed)


# For each part, the parts it must never import (itself, and the package's own
# `todo_service/__init__.py`, which holds only the version, are always allowed).
FORBIDDEN: dict[str, frozenset[str]] = {
    "domain": _all_but("domain"),
    "sdk": _all_but("sdk"),
    "local": _all_but("local"),
    "store": _all_but("store", "domain", "sdk"),
    "web_policy": _all_but("web_policy", "domain"),
    "logs": _all_but("logs"),
    "api": _all_but("api", "store", "domain", "logs", "web_policy"),
    "settings": _all_but("settings", "store", "sdk"),
    "website": _all_but("website", "api", "web_policy", "settings", "logs"),
    "app": _all_but("app", "api", "store", "sdk", "domain", "settings"),
}
# Modules the CDK app imports: synthesis runs without the service's dependencies.
STANDARD_LIBRARY_ONLY = ("store/table.py", "domain/limits.py", "web_policy.py")


def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts): path
        for path in SOURCE.rglob("*.py")
    }


def _imports(module: str, path: Path) -> set[str]:
    return _imports_in(module, path.name == "__init__.py", path.read_text())


def _imports_in(module: str, is_package: bool, source: str) -> set[str]:
    """Every module `module` imports, relative imports resolved, as dotted names."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from todo_service.api import handlers` imports a module too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    if parts[0] != PACKAGE or len(parts) < 2:
        return None
    return parts[1]


def test_every_part_of_the_package_has_a_place_in_the_table() -> None:
    found = {_layer(module) for module in GRAPH} - {"__init__", None}
    assert found == PARTS, f"parts not in PARTS: {sorted(found - PARTS)}"


GRAPH = {module: _imports(module, path) for module, path in _modules().items()}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_run_down_the_layers(module: str) -> None:
    layer = _layer(module)
    forbidden = FORBIDDEN.get(layer or "", frozenset())
    wrong = sorted(
        target for target in GRAPH[module] if _layer(target) in forbidden and target in GRAPH
    )
    assert not wrong, f"{module} (layer {layer}/) imports {wrong}, which are above it"


def _module_of(relative: str) -> str:
    return ".".join((SOURCE / relative).relative_to(SOURCE.parent).with_suffix("").parts)


@pytest.mark.parametrize("relative", STANDARD_LIBRARY_ONLY)
def test_modules_the_cdk_app_reads_import_the_standard_library_only(relative: str) -> None:
    module = _module_of(relative)
    light = {_module_of(other) for other in STANDARD_LIBRARY_ONLY}
    packages = {PACKAGE, *(m.rpartition(".")[0] for m in light)}
    ours = {name for name in GRAPH[module] if name.split(".")[0] == PACKAGE}
    heavy = sorted(
        {name for name in GRAPH[module] - ours if name.split(".")[0] not in sys.stdlib_module_names}
        | {name for name in ours if name in GRAPH and name not in light}
    )
    assert not heavy, f"{relative} imports {heavy}: the CDK app could not load it"
    # Importing it runs the packages above it too: they must import nothing.
    for package in packages:
        assert GRAPH[f"{package}.__init__"] <= {"__future__"}, f"{package} imports something"


def test_the_checker_sees_wrong_imports_absolute_relative_and_lazy() -> None:
    """The rule catches what it guards against, however the import is spelled."""
    source = (
        "from todo_service.store.todos import TodoRepository\n"
        "from ..api import handlers\n"
        "def later():\n"
        "    import todo_service.run.cli\n"
    )
    found = _imports_in("todo_service.domain.todo", False, source)
    layers = {_layer(target) for target in found}
    assert {"store", "api", "run"} <= layers
    assert layers & FORBIDDEN["domain"] == {"store", "api", "run"}


@pytest.mark.parametrize(
    ("layer", "source"),
    [
        ("store", "from todo_service.settings import Settings\n"),
        ("store", "from todo_service.api.handlers import REPOSITORY\n"),
        ("store", "import todo_service.logs\n"),
        ("domain", "from todo_service.web_policy import SignIn\n"),
        ("api", "from todo_service.settings import Settings\n"),
        ("api", "from todo_service.website import create_website\n"),
        ("local", "from todo_service.settings import Settings\n"),
        ("sdk", "from todo_service.store.table import PARTITION_KEY\n"),
    ],
)
def test_the_table_forbids_the_leaks_it_names(layer: str, source: str) -> None:
    found = _imports_in(f"todo_service.{layer}.module", False, source)
    assert {_layer(target) for target in found} & FORBIDDEN[layer]
