"""`serve --workers N`: several processes on one port that behave as one service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import aiohttp
import pytest

from todo_service.local.harness import free_port
from todo_service.settings import Settings

from .support.api import next_cursor

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


async def _wait_until_up(base: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        async with asyncio.timeout(START_TIMEOUT_S):
            while True:
                assert process.returncode is None, "the server exited at start-up"
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)


@pytest.mark.integration
async def test_two_workers_serve_one_port_and_accept_each_others_cursors(
    settings: Settings,
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": str(settings.endpoint_url),
        "AWS_REGION": str(settings.region),
        "TODO_TABLE_NAME": settings.table_name,
        "TODO_LOG_LEVEL": "WARNING",
    }
    env.pop("TODO_CURSOR_SECRET", None)  # the parent must hand one secret to every worker
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "todo_service", "serve", "--workers", "2"),
        *("--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_up(base, process)
        # A new connection per request: the kernel spreads connections over the workers.
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            for text in ("one", "two", "three"):
                async with session.post(f"{base}/todos", json={"text": text}) as response:
                    assert response.status == 201
            async with session.get(f"{base}/todos", params={"limit": "1"}) as response:
                cursor = next_cursor(response.headers)
            assert cursor is not None
            statuses = []
            for _ in range(12):
                params = {"limit": "1", "cursor": cursor}
                async with session.get(f"{base}/todos", params=params) as response:
                    statuses.append(response.status)
        # With one random key per worker, about half of these would be 400 invalid_cursor.
        assert statuses == [200] * 12
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_TIMEOUT_S):
            code = await process.wait()
    assert code == 0


async def test_workers_flag_must_be_a_positive_count() -> None:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "todo_service", "serve", "--workers", "0"),
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        _, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"--workers" in stderr
