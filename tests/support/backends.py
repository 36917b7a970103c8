"""DynamoDB-protocol servers for the integration suite.

`TODO_TEST_BACKENDS` (comma-separated) picks them; every integration test runs once per
backend. `moto` and `dynalite` are started here on loopback; `endpoint` uses a server that is
already running at `TODO_TEST_DYNAMODB_ENDPOINT` (DynamoDB Local, or AWS itself).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from todo_service.embedded import LocalServer, moto_server

ROOT = Path(__file__).resolve().parents[2]
DYNALITE_SCRIPT = ROOT / "scripts" / "dynalite-server.js"
DEFAULT_BACKENDS = "moto,dynalite"


def selected_backends() -> list[str]:
    raw = os.environ.get("TODO_TEST_BACKENDS", DEFAULT_BACKENDS)
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = set(names) - {"moto", "dynalite", "endpoint"}
    if unknown:
        raise pytest.UsageError(f"TODO_TEST_BACKENDS: unknown backend(s) {sorted(unknown)}")
    return names


def dynalite_server(port: int = 0, directory: Path | None = None) -> LocalServer:
    """dynalite on a loopback port: in memory, or on disk in `directory` (survives a kill)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("the dynalite backend needs Node.js (node) on PATH")
    if not (ROOT / "node_modules" / "dynalite").is_dir():
        pytest.skip("the dynalite backend needs `npm ci` at the repository root")
    on_disk = [] if directory is None else [str(directory)]
    return LocalServer(
        lambda port: [node, str(DYNALITE_SCRIPT), str(port), *on_disk], "dynalite", port
    )


@contextmanager
def running_backend(name: str) -> Iterator[str]:
    """Start the named backend (if we own it) and yield its endpoint URL."""
    if name == "endpoint":
        endpoint = os.environ.get("TODO_TEST_DYNAMODB_ENDPOINT")
        if not endpoint:
            pytest.skip("the endpoint backend needs TODO_TEST_DYNAMODB_ENDPOINT")
        yield endpoint
        return
    server = moto_server() if name == "moto" else dynalite_server()
    with server:
        yield server.endpoint_url
