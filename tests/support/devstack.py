"""`todo-service dev` in a child process, as ./scripts/dev runs it, on free loopback ports.

The embedded server, the API and the web page's server all come from `run/dev.py` itself; the
tests read what it prints (the embedded server's address and, with TODO_AUTH=cognito, the
user pool it made) exactly as a developer would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping

from todo_service.local.cognito import LocalPool
from todo_service.local.harness import LOOPBACK, LocalServer, free_port

READY_TIMEOUT_S = 30.0
REGION = "us-east-1"  # dev's DEV_REGION, when AWS_REGION is not set


@dataclasses.dataclass(frozen=True)
class DevStack:
    api_url: str
    page_url: str
    dynamodb_url: str
    startup_output: str
    # The user pool dev created (TODO_AUTH=cognito), None without sign-in.
    pool: LocalPool | None

    @property
    def page_origin(self) -> str:
        return self.page_url.removesuffix("/app/")


def todo_service(*args: str) -> list[str]:
    return [sys.executable, "-m", "todo_service", *args]


def wait_ready(url: str, server: LocalServer) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never became ready:\n{server.output()[-2000:]}")


def _printed_pool(output: str) -> LocalPool | None:
    match = re.search(
        r"^Cognito: +user pool (\S+), app client (\S+) on the embedded server \((\S+)\)$",
        output,
        re.MULTILINE,
    )
    if match is None:
        return None
    pool_id, client_id, endpoint = match.groups()
    return LocalPool(endpoint, pool_id.partition("_")[0], pool_id, client_id)


@contextlib.contextmanager
def running_dev(*args: str, env: Mapping[str, str] | None = None) -> Iterator[DevStack]:
    """`todo-service dev --port P --web-port W *args`, with `env` added to ours; stopped after."""
    api_port = free_port()
    server = LocalServer(
        lambda web_port: todo_service(
            "dev", "--port", str(api_port), "--web-port", str(web_port), *args
        ),
        "todo-service dev",
        env={**os.environ, **(env or {})},
    )
    with server:
        api_url = f"http://127.0.0.1:{api_port}"
        wait_ready(f"{api_url}/readyz", server)
        output = server.output()
        match = re.search(r"^DynamoDB: (\S+)", output, re.MULTILINE)
        assert match, output
        yield DevStack(
            api_url=api_url,
            page_url=f"{server.endpoint_url}/app/",
            dynamodb_url=match.group(1),
            startup_output=output,
            pool=_printed_pool(output),
        )


def page_server(api_url: str) -> LocalServer:
    """`todo-service web` alone on a free loopback port, its config.js naming `api_url`."""
    return LocalServer(
        lambda port: todo_service(
            "web", "--host", LOOPBACK, "--port", str(port), "--api-url", api_url
        ),
        "todo-service web",
    )
