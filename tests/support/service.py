"""The real service in a child process (`python -m todo_service serve`), for tests that stop,
signal or starve it: fault injection, graceful shutdown, the fuzzer, the soak test."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from todo_service.local.harness import LOOPBACK, LocalServer
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.provisioning import ensure_table
from todo_service.store.todos import TodoRepository

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


@asynccontextmanager
async def running(server: LocalServer) -> AsyncIterator[LocalServer]:
    """A LocalServer started and stopped without blocking the event loop (where a
    FaultProxy in front of it may be serving)."""
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.stop)


def backend_settings(endpoint_url: str, table_name: str) -> Settings:
    return Settings(table_name=table_name, endpoint_url=endpoint_url, region=REGION)


async def create_tables(endpoint_url: str, table_name: str) -> None:
    async with open_client(backend_settings(endpoint_url, table_name).client_options()) as client:
        await ensure_table(client, table_name)


async def stored_ids(endpoint_url: str, table_name: str) -> set[int]:
    """Every id in the table, read straight from the backend, not through the service."""
    ids: set[int] = set()
    async with open_client(backend_settings(endpoint_url, table_name).client_options()) as client:
        repository = TodoRepository(client, table_name, timeout_s=30)
        after: int | None = None
        while True:
            page = await repository.list(100, after, None)
            ids |= {todo.id for todo in page.todos}
            if page.last_id is None:
                return ids
            after = page.last_id
