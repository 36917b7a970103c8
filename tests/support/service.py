"""The real service in a child process (`python -m todo_service serve`), for tests that stop,
signal or starve it: fault injection, graceful shutdown, the fuzzer, the soak test."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping

from todo_service.embedded import LOOPBACK, LocalServer

REGION = "us-east-1"


def service_env(endpoint_url: str, table_name: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "TODO_TABLE_NAME": table_name,
        "TODO_LOG_LEVEL": "INFO",
        **extra,
    }
    env.pop("AWS_PROFILE", None)
    return env


def service_process(env: Mapping[str, str], port: int = 0) -> LocalServer:
    """`todo-service serve` on loopback; started (and ready) when entered or `start()`ed."""
    return LocalServer(
        lambda port: [
            sys.executable,
            "-m",
            "todo_service",
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
        ],
        "todo-service",
        port,
        env=env,
    )


def fresh_table_name() -> str:
    return f"TodoTable-{uuid.uuid4().hex[:12]}"
