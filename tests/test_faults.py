"""Faults, with real servers started and stopped: the service in a child process, a real
DynamoDB-protocol server, and `FaultProxy` (a real HTTP peer) between them where the fault
needs one. Every case must end in 2xx or 503 + Retry-After: no 500, no hang, no lost write.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from todo_service.local.harness import LocalServer, free_port
from todo_service.local.moto_server import moto_server

from .support.backends import dynalite_server
from .support.faults import proxy_to
from .support.service import (
    create_tables,
    fresh_table_name,
    running,
    service_env,
    service_process,
    stored_ids,
)

DEADLINE_S = 2.0  # TODO_DYNAMODB_TIMEOUT_S of the services started here
# How much later than the deadline an answer may come: event loop, process and CI noise.
SLACK_S = 1.5
LOAD_S = 6.0
LOAD_WORKERS = 8


def service(endpoint_url: str, table_name: str, deadline_s: float = DEADLINE_S) -> LocalServer:
    return service_process(
        service_env(endpoint_url, table_name, TODO_DYNAMODB_TIMEOUT_S=str(deadline_s))
    )


@asynccontextmanager
async def serving(
    endpoint_url: str, table_name: str, deadline_s: float = DEADLINE_S
) -> AsyncIterator[aiohttp.ClientSession]:
    """The service in a child process, and an HTTP session to it."""
    async with (
        running(service(endpoint_url, table_name, deadline_s)) as api,
        aiohttp.ClientSession(api.endpoint_url) as http,
    ):
        yield http


async def timed(call: Awaitable[aiohttp.ClientResponse]) -> tuple[aiohttp.ClientResponse, float]:
    started = time.monotonic()
    response = await call
    await response.read()
    return response, time.monotonic() - started


async def assert_503_in_time(call: Awaitable[aiohttp.ClientResponse], deadline_s: float) -> None:
    response, seconds = await timed(call)
    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"].isdigit()
    body = await response.json()
    assert body["error"]["code"] == "backend_unavailable"
    assert seconds < deadline_s + SLACK_S, f"answered after {seconds:.2f} s"


async def test_service_starts_without_dynamodb_answers_503_and_recovers_without_restart(
    tmp_path: Path,
) -> None:
    port = free_port()  # where DynamoDB will be, once it starts
    endpoint = f"http://127.0.0.1:{port}"
    table = fresh_table_name()
    async with (
        running(service(endpoint, table)) as api,
        aiohttp.ClientSession(api.endpoint_url) as http,
    ):
        assert (await http.get("/healthz")).status == 200
        await assert_503_in_time(http.get("/readyz"), DEADLINE_S)
        await assert_503_in_time(http.get("/todos"), DEADLINE_S)
        await assert_503_in_time(http.post("/todos", json={"text": "early"}), DEADLINE_S)
        async with running(moto_server(port)):
            await create_tables(endpoint, table)
            ready = await http.get("/readyz")
            assert ready.status == 200, await ready.text()
            created = await http.post("/todos", json={"text": "after the outage"})
            assert created.status == 201
            fetched = await http.get(created.headers["Location"])
            assert (await fetched.json())["text"] == "after the outage"
            assert await stored_ids(endpoint, table) == {(await created.json())["id"]}


@dataclasses.dataclass
class LoadResult:
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    created: set[int] = dataclasses.field(default_factory=set)
    deleted: set[int] = dataclasses.field(default_factory=set)
    # Deletes answered 503: DynamoDB may or may not have applied them (the answer was lost).
    unsure_deletes: set[int] = dataclasses.field(default_factory=set)
    slowest_s: float = 0.0
    recovered: int = 0  # 2xx answers after the backend came back


async def bounded_load(
    base_url: str, outage: Callable[[], Awaitable[Any]], restored_at: list[float]
) -> LoadResult:
    """LOAD_WORKERS clients creating todos and deleting every other one, for LOAD_S seconds,
    while `outage` takes DynamoDB away and brings it back."""
    result = LoadResult()
    stop_at = time.monotonic() + LOAD_S
    timeout = aiohttp.ClientTimeout(total=DEADLINE_S + 2 * SLACK_S)

    async def record(response: aiohttp.ClientResponse, seconds: float) -> None:
        result.statuses[response.status] += 1
        result.slowest_s = max(result.slowest_s, seconds)
        if restored_at and response.status < 300 and time.monotonic() > restored_at[0]:
            result.recovered += 1

    async def worker(n: int, http: aiohttp.ClientSession) -> None:
        for i in range(10_000):  # bounded; the clock ends it much sooner
            if time.monotonic() > stop_at:
                return
            response, seconds = await timed(http.post("/todos", json={"text": f"w{n} #{i}"}))
            await record(response, seconds)
            if response.status != 201:
                await asyncio.sleep(0.05)
                continue
            todo_id = (await response.json())["id"]
            result.created.add(todo_id)
            if i % 2:
                response, seconds = await timed(http.delete(f"/todos/{todo_id}"))
                await record(response, seconds)
                if response.status == 204:
                    result.deleted.add(todo_id)
                else:
                    result.unsure_deletes.add(todo_id)

    async with aiohttp.ClientSession(base_url, timeout=timeout) as http:
        await asyncio.gather(outage(), *(worker(n, http) for n in range(LOAD_WORKERS)))
    return result


def check_load(result: LoadResult, stored: set[int]) -> None:
    assert set(result.statuses) <= {201, 204, 503}, result.statuses
    assert result.statuses[503] > 0, "the outage was not felt: the test tested nothing"
    assert result.recovered > 0, "no request succeeded after DynamoDB came back"
    assert result.slowest_s < DEADLINE_S + SLACK_S, f"an answer took {result.slowest_s:.2f} s"
    kept = result.created - result.deleted - result.unsure_deletes
    missing = kept - stored
    assert not missing, f"{len(missing)} acknowledged creates are not in the table"
    resurrected = result.deleted & stored
    assert not resurrected, f"{len(resurrected)} acknowledged deletes are back"
    print(  # the figures the issue asks for
        f"statuses {dict(result.statuses)}; acknowledged: {len(result.created)} creates, "
        f"{len(result.deleted)} deletes ({len(result.unsure_deletes)} deletes unsure); in the "
        f"table: {len(kept & stored)} of {len(kept)} kept, {len(result.deleted & stored)} of "
        f"{len(result.deleted)} deleted"
    )


async def test_network_outage_during_load_gives_only_503s_and_loses_no_acknowledged_write() -> None:
    """The network to DynamoDB breaks (every connection reset, new ones refused) and heals.

    moto keeps its data in memory, so killing it would lose the very writes we check; a cut
    proxy is an outage that DynamoDB itself survives, which is what a real outage is."""
    table = fresh_table_name()
    async with running(moto_server()) as backend, proxy_to(backend.port) as proxy:
        await create_tables(backend.endpoint_url, table)
        restored_at: list[float] = []

        async def outage() -> None:
            await asyncio.sleep(1.0)
            await proxy.cut()
            await asyncio.sleep(2.0)
            await proxy.restore()
            restored_at.append(time.monotonic())

        async with running(service(proxy.endpoint_url, table)) as api:
            result = await bounded_load(api.endpoint_url, outage, restored_at)
            assert await asyncio.to_thread(api.stop, 15) == 0
        check_load(result, await stored_ids(backend.endpoint_url, table))


async def test_dynamodb_killed_during_load_gives_only_503s_and_loses_no_acknowledged_write(
    tmp_path: Path,
) -> None:
    """DynamoDB's process is SIGKILLed mid-load and started again on the same port.

    dynalite keeps its tables on disk here (LevelDB), so a write it acknowledged before the
    kill must still be there after the restart, as on DynamoDB."""
    table = fresh_table_name()
    port = free_port()
    first = dynalite_server(port, tmp_path)
    async with running(first) as backend:
        await create_tables(backend.endpoint_url, table)
        restored_at: list[float] = []
        second = dynalite_server(port, tmp_path)

        async def outage() -> None:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(first.kill)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(second.start)
            restored_at.append(time.monotonic())

        try:
            async with running(service(backend.endpoint_url, table)) as api:
                result = await bounded_load(api.endpoint_url, outage, restored_at)
                assert await asyncio.to_thread(api.stop, 15) == 0
            check_load(result, await stored_ids(backend.endpoint_url, table))
        finally:
            second.stop()


async def test_slow_dynamodb_is_cut_off_at_the_deadline_and_fine_again_when_fast() -> None:
    table = fresh_table_name()
    async with running(moto_server()) as backend, proxy_to(backend.port) as proxy:
        await create_tables(backend.endpoint_url, table)
        async with serving(proxy.endpoint_url, table, deadline_s=1.0) as http:
            proxy.delay_s = 4.0
            await assert_503_in_time(http.get("/readyz"), 1.0)
            await assert_503_in_time(http.get("/todos/1"), 1.0)
            await assert_503_in_time(http.post("/todos", json={"text": "slow"}), 1.0)
            proxy.delay_s = 0.0
            assert (await http.get("/readyz")).status == 200
            assert (await http.post("/todos", json={"text": "fast"})).status == 201


async def metric_value(http: aiohttp.ClientSession, line_prefix: str) -> float:
    text = await (await http.get("/metrics")).text()
    for line in text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_throttling_is_retried_with_backoff_then_surfaces_as_503_not_500() -> None:
    table = fresh_table_name()
    async with running(moto_server()) as backend, proxy_to(backend.port) as proxy:
        await create_tables(backend.endpoint_url, table)
        # A deadline long enough for botocore's whole backoff (at most 1 + 2 s for 3 attempts).
        async with serving(proxy.endpoint_url, table, deadline_s=8.0) as http:
            todo = await (await http.post("/todos", json={"text": "hot key"})).json()

            # Throttled twice, then served: the retries absorb it and the client sees 200.
            throttled: collections.Counter[str] = collections.Counter()

            def twice(operation: str) -> Any:
                throttled[operation] += 1
                return "throttle" if throttled[operation] <= 2 else "forward"

            proxy.plan = twice
            proxy.seen.clear()
            response = await http.get(f"/todos/{todo['id']}")
            assert response.status == 200
            assert proxy.operations() == ["GetItem"] * 3

            # Throttled every time: three attempts, then 503 + Retry-After, never 500.
            proxy.plan = lambda operation: "throttle"
            proxy.seen.clear()
            await assert_503_in_time(http.get(f"/todos/{todo['id']}"), 8.0)
            assert proxy.operations("throttle") == ["GetItem"] * 3
            gaps = [b.at - a.at for a, b in zip(proxy.seen, proxy.seen[1:], strict=False)]
            assert all(gap > 0 for gap in gaps)
            retries = await metric_value(http, 'todo_dynamodb_retries_total{operation="GetItem"}')
            assert retries == 4  # 2 in the first call, 2 in the second
            errors = await metric_value(
                http,
                'todo_dynamodb_errors_total{code="ThrottlingException",operation="GetItem"}',
            )
            assert errors == 1


async def test_lost_answers_to_writes_neither_duplicate_nor_misreport_them() -> None:
    """DynamoDB applies a write but its answer is lost; botocore sends the write again and its
    condition now fails. The service must see its own write, not someone else's."""
    table = fresh_table_name()
    async with running(moto_server()) as backend, proxy_to(backend.port) as proxy:
        await create_tables(backend.endpoint_url, table)
        async with serving(proxy.endpoint_url, table, deadline_s=5.0) as http:
            lost: set[str] = set()

            def lose_first(operation: str) -> Any:
                # The first answer to each kind of write is lost; reads pass.
                if operation not in {"PutItem", "DeleteItem"} or operation in lost:
                    return "forward"
                lost.add(operation)
                return "lose_answer"

            proxy.plan = lose_first
            created = await http.post("/todos", json={"text": "once"})
            assert created.status == 201, await created.text()
            todo = await created.json()
            assert await stored_ids(backend.endpoint_url, table) == {todo["id"]}
            assert proxy.operations("lose_answer") == ["PutItem"]
            assert proxy.operations().count("PutItem") == 2  # botocore sent it again

            deleted = await http.delete(f"/todos/{todo['id']}")
            assert deleted.status == 204, await deleted.text()
            assert proxy.operations("lose_answer") == ["PutItem", "DeleteItem"]
            assert await stored_ids(backend.endpoint_url, table) == set()

            lost.clear()
            keyed = await http.post(
                "/todos", json={"text": "keyed"}, headers={"Idempotency-Key": "lossy"}
            )
            assert keyed.status == 201, await keyed.text()
            assert "Idempotent-Replayed" not in keyed.headers  # its own claim, not a replay
            assert await stored_ids(backend.endpoint_url, table) == {(await keyed.json())["id"]}

            # An update and a flip whose first attempts were applied: botocore's retry finds
            # the version moved on, or the flag already flipped, by our own write.
            edited = await (await http.post("/todos", json={"text": "v1"})).json()
            lost.clear()

            def lose_first_update(operation: str) -> Any:
                if operation != "UpdateItem" or lost:
                    return "forward"
                lost.add(operation)
                return "lose_answer"

            proxy.plan = lose_first_update
            patched = await http.patch(
                f"/todos/{edited['id']}", json={"text": "v2"}, headers={"If-Match": '"1"'}
            )
            assert patched.status == 200, await patched.text()  # not 412: the write was ours
            assert patched.headers["ETag"] == '"2"'
            assert (await patched.json())["text"] == "v2"
            lost.clear()
            toggled = await http.post(f"/todos/{edited['id']}/toggle")
            assert toggled.status == 200, await toggled.text()
            assert (await toggled.json())["completed"] is True  # flipped once, not back again
            assert toggled.headers["ETag"] == '"3"'
            assert proxy.operations("lose_answer")[-2:] == ["UpdateItem", "UpdateItem"]
