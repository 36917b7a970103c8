"""No module outside `todo_service/sdk/` names a private part of botocore or aiobotocore.

What reaches into the SDK's private parts lives in one package, behind one switch
(sdk/switch.py), so that an SDK upgrade can only ever turn the speed-ups off. The private
names are read from the installed SDK's own source: every `_name` it defines or assigns
(functions, classes, module globals, `self._attribute = ...`). Our code then must not:

- import a private name or module from botocore or aiobotocore;
- read or write such an attribute on anything but its own `self`/`cls` (a class of ours that
  subclasses an SDK class may not touch one on `self` either);
- reach one through getattr, setattr, hasattr or delattr with its name as a string.

tests/ and bench/ may, to guard and to measure.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "todo_service"
SDK_PACKAGE = SOURCE / "sdk"
SDK_ROOTS = ("botocore", "aiobotocore")
REFLECTION = frozenset({"getattr", "setattr", "hasattr", "delattr"})


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@functools.cache
def sdk_private_names() -> frozenset[str]:
    """Every private name botocore and aiobotocore define or assign, from their source."""
    names: set[str] = set()
    for root in SDK_ROOTS:
        spec = importlib.util.find_spec(root)
        assert spec is not None, root
        assert spec.submodule_search_locations, root
        for path in Path(next(iter(spec.submodule_search_locations))).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_bytes())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    names.add(node.attr)
    return frozenset(name for name in names if _is_private(name))


def _sdk_bound_names(tree: ast.Module) -> set[str]:
    """Names a module binds to something imported from the SDK."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SDK_ROOTS:
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            bound.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.split(".")[0] in SDK_ROOTS
            )
    return bound


def _base_name(base: ast.expr) -> str | None:
    while isinstance(base, ast.Attribute):
        base = base.value
    return base.id if isinstance(base, ast.Name) else None


def private_sdk_uses(source: str, private: frozenset[str]) -> list[str]:
    """Where `source` names one of the SDK's `private` names, as 'line: what'."""
    tree = ast.parse(source)
    sdk_names = _sdk_bound_names(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SDK_ROOTS:
            parts = (node.module or "").split(".") + [alias.name for alias in node.names]
            found += [
                f"{node.lineno}: from {node.module} import {p}" for p in parts if _is_private(p)
            ]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in SDK_ROOTS and any(_is_private(p) for p in parts):
                    found.append(f"{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ClassDef):
            if any(_base_name(base) in sdk_names for base in node.bases):
                # A subclass of an SDK class: even self._x may be the SDK's own.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Attribute) and inner.attr in private:
                        found.append(f"{inner.lineno}: .{inner.attr} in an SDK subclass")
        elif isinstance(node, ast.Attribute) and node.attr in private:
            own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if not own:
                found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in REFLECTION
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in private
        ):
            found.append(f"{node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return sorted(set(found))


OUTSIDE_THE_SDK_PACKAGE = sorted(
    str(path.relative_to(SOURCE))
    for path in SOURCE.rglob("*.py")
    if SDK_PACKAGE not in path.parents
)


@pytest.mark.parametrize("relative", OUTSIDE_THE_SDK_PACKAGE)
def test_no_module_outside_the_sdk_package_names_a_private_sdk_part(relative: str) -> None:
    uses = private_sdk_uses((SOURCE / relative).read_text(), sdk_private_names())
    assert not uses, f"{relative} names private parts of the SDK (move them into sdk/): {uses}"


def test_the_sdk_package_is_where_the_private_parts_are() -> None:
    """The check sees the speed-ups' own reach into the SDK, so it would see it elsewhere."""
    private = sdk_private_names()
    seen = {
        path.name: private_sdk_uses(path.read_text(), private) for path in SDK_PACKAGE.glob("*.py")
    }
    for speedup in ("endpoints.py", "signer.py", "response_parser.py"):
        assert seen[speedup], seen


@pytest.mark.parametrize(
    "source",
    [
        "from botocore.auth import _host_from_url\n",
        "import botocore._helpers\n",
        "def f(client):\n    return client._ruleset_resolver\n",
        "def f(client, r):\n    client._ruleset_resolver = r\n",
        "def f(client):\n    return getattr(client, '_ruleset_resolver')\n",
        "from aiobotocore.parsers import AioJSONParser\n"
        "class P(AioJSONParser):\n    def g(self, s, v):\n        return self._handle_map(s, v)\n",
    ],
    ids=["private-name", "private-module", "attribute", "assignment", "getattr", "subclass"],
)
def test_the_check_catches_every_way_of_naming_a_private_part(source: str) -> None:
    assert private_sdk_uses(source, sdk_private_names())


def test_the_check_leaves_our_own_private_attributes_alone() -> None:
    source = "class Repo:\n    def f(self):\n        return self._client\n"
    assert "_client" in sdk_private_names()  # the same name as one of the SDK's own
    assert private_sdk_uses(source, sdk_private_names()) == []
