"""Past its in-flight bound the service sheds load instead of queueing it.

The service runs in a child process with a low bound (`BOUND` requests at once, a short wait
for a slot) in front of a DynamoDB behind `FaultProxy`, which adds `DELAY_S` to every call, so
that each admitted request holds its slot for a known time. Then many more clients than the
bound send creates at once. Every bound below is stated against the injected delay and the
latency measured unloaded, never as an absolute time:

- an admitted request takes at most the queue wait plus twice the unloaded latency;
- a refused one is a 503 `overloaded` with Retry-After within the queue wait plus half the
  injected delay: it never waits for DynamoDB;
- `/healthz` answers within half the injected delay throughout;
- every acknowledged create is in the table, and nothing else is: a refusal writes nothing;
- the metrics count the refusals under their own code.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import aiohttp
import pytest

from .support.faults import FaultProxy, proxy_to
from .support.service import (
    create_tables,
    fresh_table_name,
    running,
    service_env,
    service_process,
    stored_ids,
)
from .test_contract import metric

BOUND = 4
QUEUE_WAIT_S = 0.1
DELAY_S = 0.25
CLIENTS = 10 * BOUND
REQUESTS_PER_CLIENT = 8
HEALTH_PROBE_EVERY_S = 0.05


@asynccontextmanager
async def bounded_service(dynamodb_endpoint: str) -> AsyncIterator[tuple[str, str, FaultProxy]]:
    """The service, bound to BOUND requests at once, on the slowed-down DynamoDB."""
    table = fresh_table_name()
    await create_tables(dynamodb_endpoint, table)
    port = urlsplit(dynamodb_endpoint).port
    assert port is not None
    async with proxy_to(port) as proxy:
        env = service_env(
            proxy.endpoint_url,
            table,
            TODO_MAX_IN_FLIGHT=str(BOUND),
            TODO_MAX_QUEUE_WAIT_MS=str(int(QUEUE_WAIT_S * 1000)),
        )
        async with running(service_process(env)) as service:
            yield service.endpoint_url, table, proxy


async def timed(
    session: aiohttp.ClientSession, method: str, path: str, **kwargs: object
) -> tuple[int, float, dict[str, object], dict[str, str]]:
    started = time.monotonic()
    async with session.request(method, path, **kwargs) as response:  # type: ignore[arg-type]
        body = await response.json()
        return response.status, time.monotonic() - started, body, dict(response.headers)


async def test_past_the_bound_the_excess_is_refused_fast_and_admitted_requests_keep_their_latency(
    dynamodb_endpoint: str,
) -> None:
    async with bounded_service(dynamodb_endpoint) as (url, table, proxy):
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(url, connector=connector) as session:
            proxy.delay_s = DELAY_S
            warm = [await timed(session, "POST", "/todos", json={"text": "warm"}) for _ in range(3)]
            unloaded = statistics.median(seconds for _, seconds, _, _ in warm)
            assert unloaded >= DELAY_S  # the delay is on every call
            created: list[int] = [int(body["id"]) for _, _, body, _ in warm]  # type: ignore[call-overload]
            admitted: list[float] = []
            refused: list[float] = []
            health: list[float] = []
            flooding = True

            async def client(n: int) -> None:
                for i in range(REQUESTS_PER_CLIENT):
                    status, seconds, body, headers = await timed(
                        session, "POST", "/todos", json={"text": f"flood {n}.{i}"}
                    )
                    if status == 201:
                        created.append(int(body["id"]))  # type: ignore[call-overload]
                        admitted.append(seconds)
                    else:
                        assert status == 503, body
                        assert body["error"]["code"] == "overloaded"  # type: ignore[index]
                        assert headers["Retry-After"] == "1"
                        refused.append(seconds)

            async def probe() -> None:
                while flooding:
                    status, seconds, _, _ = await timed(session, "GET", "/healthz")
                    assert status == 200
                    health.append(seconds)
                    await asyncio.sleep(HEALTH_PROBE_EVERY_S)

            prober = asyncio.create_task(probe())
            await asyncio.gather(*(client(n) for n in range(CLIENTS)))
            flooding = False
            await prober

            async with session.get("/metrics") as response:
                exposition = await response.text()

    assert admitted, "nothing was admitted"
    assert refused, "nothing was refused: the flood did not pass the bound"
    assert max(admitted) <= QUEUE_WAIT_S + 2 * unloaded, (max(admitted), unloaded)
    assert max(refused) <= QUEUE_WAIT_S + DELAY_S / 2, max(refused)
    assert health, "no health probe ran"
    assert max(health) <= DELAY_S / 2, max(health)
    # Every acknowledged create is there, and no refused one: a refusal writes nothing.
    assert await stored_ids(dynamodb_endpoint, table) == set(created)
    assert metric(exposition, "todo_http_errors_total", code="overloaded") == len(refused)
    assert metric(exposition, "todo_http_errors_total", code="backend_unavailable") == 0


@pytest.mark.parametrize("path", ["/healthz", "/metrics"])
async def test_probes_are_answered_outside_the_bound(dynamodb_endpoint: str, path: str) -> None:
    async with bounded_service(dynamodb_endpoint) as (url, _, proxy):
        proxy.delay_s = 4 * DELAY_S  # every slot is held this long
        async with aiohttp.ClientSession(url, connector=aiohttp.TCPConnector(limit=0)) as session:
            holders = [
                asyncio.create_task(timed(session, "POST", "/todos", json={"text": "hold"}))
                for _ in range(2 * BOUND)  # every slot taken, and as many waiting
            ]
            await asyncio.sleep(DELAY_S)
            started = time.monotonic()
            async with session.get(path) as response:
                assert response.status == 200
                await response.read()
            assert time.monotonic() - started <= DELAY_S / 2
            statuses = [status for status, *_ in await asyncio.gather(*holders)]
    assert statuses.count(201) >= BOUND
    assert 503 in statuses
