"""DynamoDB-protocol servers for the integration suite.

`TODO_TEST_BACKENDS` (comma-separated) picks them; every integration test runs once per
backend. `moto` and `dynalite` are started here on loopback; `testcontainers` starts
`TODO_TEST_DYNAMODB_IMAGE` (DynamoDB Local by default) in Docker; `endpoint` uses a server that
is already running at `TODO_TEST_DYNAMODB_ENDPOINT` (DynamoDB Local, or AWS itself).
"""

from __future__ import annotations

import gc
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from todo_service.local.harness import LOOPBACK, LocalServer
from todo_service.local.moto_server import moto_server

ROOT = Path(__file__).resolve().parents[2]
DYNALITE_SCRIPT = ROOT / "scripts" / "dynalite-server.js"
DEFAULT_BACKENDS = "moto,dynalite"
BACKENDS: Final = ("moto", "dynalite", "testcontainers", "endpoint")

# The same pinned tag as docker-compose.yml's dynamodb service.
DYNAMODB_LOCAL_IMAGE: Final = "amazon/dynamodb-local:2.6.1"
# DynamoDB Local's own arguments: in memory, and one database whatever the access key and
# region (without -sharedDb it keeps one per pair). Other images run their own command.
DYNAMODB_LOCAL_COMMAND: Final = ["-jar", "DynamoDBLocal.jar", "-inMemory", "-sharedDb"]
DYNAMODB_PORT: Final = 8000
# DynamoDB Local (a JVM) answers in a few seconds; a cold 2-core machine can take far longer.
CONTAINER_READY_TIMEOUT_S: Final = 60.0


def selected_names(variable: str, default: str, known: tuple[str, ...]) -> list[str]:
    """The comma-separated names in the environment variable (or `default`), each `known`."""
    raw = os.environ.get(variable, default)
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = set(names) - set(known)
    if unknown:
        raise pytest.UsageError(f"{variable}: unknown {sorted(unknown)}; known: {', '.join(known)}")
    return names


def selected_backends() -> list[str]:
    return selected_names("TODO_TEST_BACKENDS", DEFAULT_BACKENDS, BACKENDS)


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


def _require_docker() -> None:
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:
        pytest.skip("the testcontainers backend needs the test extra (pip install -e '.[test]')")
    client = None
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as error:
        reason = f"the testcontainers backend needs a running Docker engine: {error}"
    else:
        return
    finally:
        if client is not None:
            client.close()
    # docker-py leaves the socket of a refused connection unclosed; collect it here, quietly,
    # or its ResourceWarning surfaces later as an error in whatever test is running then.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    pytest.skip(reason)


def _wait_until_dynamodb_answers(endpoint: str, container: Any) -> None:
    """Return once the server answers a real DynamoDB request: an open port is not enough,
    since DynamoDB Local accepts connections before it can serve them."""
    client = botocore.session.get_session().create_client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    deadline = time.monotonic() + CONTAINER_READY_TIMEOUT_S
    try:
        while True:
            try:
                client.list_tables(Limit=1)
                return
            except (BotoCoreError, ClientError) as error:
                last_error = error
            container.reload()
            if container.status != "running" or time.monotonic() > deadline:
                logs = container.logs(tail=40).decode(errors="replace")
                raise RuntimeError(
                    f"{container.image.tags} did not answer ListTables at {endpoint} "
                    f"(container {container.status}, last error: {last_error}):\n{logs}"
                )
            time.sleep(0.25)
    finally:
        client.close()


@contextmanager
def dynamodb_container() -> Iterator[str]:
    """Start TODO_TEST_DYNAMODB_IMAGE with testcontainers, yield its endpoint, remove it."""
    _require_docker()
    from testcontainers.core.container import DockerContainer

    image = os.environ.get("TODO_TEST_DYNAMODB_IMAGE") or DYNAMODB_LOCAL_IMAGE
    container = DockerContainer(image)
    # Published on this machine's loopback only, on a port docker picks, and reached there:
    # the tests talk to nothing but loopback (a Docker engine on another host is unsupported).
    container.ports[f"{DYNAMODB_PORT}/tcp"] = (LOOPBACK,)
    if image.partition(":")[0] == DYNAMODB_LOCAL_IMAGE.partition(":")[0]:
        container.with_command(DYNAMODB_LOCAL_COMMAND)
    with container:
        endpoint = f"http://{LOOPBACK}:{container.get_exposed_port(DYNAMODB_PORT)}"
        _wait_until_dynamodb_answers(endpoint, container.get_wrapped_container())
        yield endpoint


@contextmanager
def running_backend(name: str) -> Iterator[str]:
    """Start the named backend (if we own it) and yield its endpoint URL."""
    if name == "endpoint":
        endpoint = os.environ.get("TODO_TEST_DYNAMODB_ENDPOINT")
        if not endpoint:
            pytest.skip("the endpoint backend needs TODO_TEST_DYNAMODB_ENDPOINT")
        yield endpoint
        return
    if name == "testcontainers":
        with dynamodb_container() as endpoint:
            yield endpoint
        return
    server = moto_server() if name == "moto" else dynalite_server()
    with server:
        yield server.endpoint_url
