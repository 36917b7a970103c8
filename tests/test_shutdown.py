"""Graceful shutdown: SIGTERM with requests in flight.

The service runs as `todo-service serve` in a child process against moto, behind a proxy
that holds every DynamoDB call for a while, so that requests are really in flight when the
signal comes. They must all finish with their normal answers; new connections must be
refused; the DynamoDB client must be closed; and the process must exit 0 within the grace
period.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from todo_service.local.harness import LOOPBACK
from todo_service.local.moto_server import moto_server
from todo_service.run.server import SHUTDOWN_GRACE_S

from .support.faults import proxy_to
from .support.service import (
    create_tables,
    fresh_table_name,
    running,
    service_env,
    service_process,
    stored_ids,
)

IN_FLIGHT = 12
DYNAMODB_DELAY_S = 2.0


async def test_sigterm_finishes_in_flight_requests_refuses_new_ones_and_exits_0() -> None:
    table = fresh_table_name()
    async with running(moto_server()) as backend, proxy_to(backend.port) as proxy:
        await create_tables(backend.endpoint_url, table)
        api = service_process(service_env(proxy.endpoint_url, table, TODO_DYNAMODB_TIMEOUT_S="8"))
        await asyncio.to_thread(api.start)
        try:
            async with aiohttp.ClientSession(api.endpoint_url) as http:
                todo = await (await http.post("/todos", json={"text": "read me"})).json()
                proxy.delay_s = DYNAMODB_DELAY_S
                proxy.seen.clear()

                async def one(n: int) -> tuple[int, object]:
                    if n % 2:
                        response = await http.get(f"/todos/{todo['id']}")
                    else:
                        response = await http.post("/todos", json={"text": f"in flight {n}"})
                    return response.status, await response.json()

                requests = [asyncio.create_task(one(n)) for n in range(IN_FLIGHT)]
                for _ in range(100):  # wait until every request has reached DynamoDB
                    if len(proxy.seen) >= IN_FLIGHT:
                        break
                    await asyncio.sleep(0.05)
                assert len(proxy.seen) == IN_FLIGHT, "requests were not in flight"

                signalled_at = time.monotonic()
                stopping = asyncio.create_task(asyncio.to_thread(api.stop, SHUTDOWN_GRACE_S + 10))
                await asyncio.sleep(0.5)
                with pytest.raises(ConnectionRefusedError):  # no longer accepting
                    await asyncio.open_connection(LOOPBACK, api.port)

                answers = await asyncio.gather(*requests)
                exit_code = await stopping
                stopped_after_s = time.monotonic() - signalled_at
        finally:
            api.stop()

        statuses = sorted(status for status, _ in answers)
        assert statuses == [200] * (IN_FLIGHT // 2) + [201] * (IN_FLIGHT // 2), answers
        assert exit_code == 0, api.final_output[-3000:]
        assert stopped_after_s < SHUTDOWN_GRACE_S
        created = {body["id"] for status, body in answers if status == 201}  # type: ignore[index]
        assert created <= await stored_ids(backend.endpoint_url, table)
        log = [json.loads(line) for line in api.final_output.splitlines() if line.startswith("{")]
        messages = [entry["message"] for entry in log]
        assert messages[-1] == "DynamoDB client closed", messages[-5:]
        requests = [entry for entry in log if entry["message"] == "request"]
        assert len(requests) >= IN_FLIGHT + 1
        for entry in requests:  # the access log: one JSON line per request, all fields there
            assert {"method", "path", "status", "durationMs", "requestId"} <= set(entry), entry
