"""The per-user quota of todos (TODO_AUTH=cognito): exact under concurrency, retries and replays.

On every DynamoDB backend, dynalite (no transactions) among them: concurrent creates at the
boundary make exactly the room there is; replays of done creates count nothing; botocore's
retry of a counter update after a lost answer counts once; and a crash between two of a
create's or a delete's writes is repaired. The counter is never seen among the todos.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from todo_service.app import create_app
from todo_service.domain.errors import QuotaExceeded
from todo_service.domain.ids import IdGenerator
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.quotas import OwnerQuota
from todo_service.store.table import idempotency_table_name
from todo_service.store.todos import TodoRepository

from .conftest import REGION
from .support.api import Client, assert_error, create
from .support.cognito import LocalPool, User, bearer, cognito, signed_in_users
from .support.cognito_servers import CognitoIdp
from .support.faults import proxy_to

pytestmark = pytest.mark.integration

LIMIT = 25
ALREADY = 5
CONCURRENT = 60
OWNER = "owner-under-test"


@pytest.fixture(scope="module")
def users(cognito_idp: CognitoIdp) -> tuple[LocalPool, User, User]:
    pool, (ada, bob) = asyncio.run(signed_in_users(cognito_idp.endpoint_url, REGION, "ada", "bob"))
    return pool, ada, bob


@pytest.fixture
async def clients(
    settings: Settings, users: tuple[LocalPool, User, User]
) -> AsyncIterator[tuple[Client, Client]]:
    pool, ada, bob = users
    server = TestServer(create_app(cognito(settings, pool).replace(max_todos_per_user=LIMIT)))
    ada_client: Client = TestClient(server, headers=bearer(ada.token))
    bob_client: Client = TestClient(server, headers=bearer(bob.token))
    await ada_client.start_server()
    await bob_client.start_server()
    yield ada_client, bob_client
    await bob_client.close()
    await ada_client.close()


async def counted(settings: Settings, owner: str) -> tuple[int, dict[str, Any]]:
    """The owner's counter as stored: its count, and its unfinished entries."""
    async with open_client(settings.client_options()) as client:
        quota = OwnerQuota(
            client, idempotency_table_name(settings.table_name), settings.table_name, LIMIT, owner
        )
        item = await quota.counter()
    assert item is not None
    unfinished = {**item["pending"]["M"], **item["releasing"]["M"]}
    return int(item["count"]["N"]), unfinished


async def owned_ids(settings: Settings, owner: str) -> set[int]:
    """The owner's todos, read straight from the table (consistent), not from the index."""
    async with open_client(settings.client_options()) as client:
        found: set[int] = set()
        paginator = client.get_paginator("scan")
        async for page in paginator.paginate(TableName=settings.table_name, ConsistentRead=True):
            found |= {
                int(item["id"]["N"])
                for item in page["Items"]
                if item.get("owner", {}).get("S") == owner
            }
        return found


async def test_concurrent_creates_at_the_boundary_make_exactly_the_room_there_is(
    clients: tuple[Client, Client], settings: Settings, users: tuple[LocalPool, User, User]
) -> None:
    ada, bob = clients
    for n in range(ALREADY):
        await create(ada, f"before {n}")
    answers = await asyncio.gather(
        *(ada.post("/todos", json={"text": f"racing {n}"}) for n in range(CONCURRENT))
    )
    statuses = [response.status for response in answers]
    assert statuses.count(201) == LIMIT - ALREADY
    assert statuses.count(409) == CONCURRENT - (LIMIT - ALREADY)
    for response in answers:
        if response.status == 409:
            await assert_error(response, 409, "quota_exceeded", str(LIMIT))
    _, ada_user, _ = users
    assert len(await owned_ids(settings, ada_user.sub)) == LIMIT
    assert await counted(settings, ada_user.sub) == (LIMIT, {})
    # Bob's quota is his own.
    await create(bob, "bob has room")
    # Each deleted todo frees one place, and only one.
    victim = next(iter(await owned_ids(settings, ada_user.sub)))
    assert (await ada.delete(f"/todos/{victim}")).status == 204
    assert (await ada.post("/todos", json={"text": "the freed place"})).status == 201
    await assert_error(await ada.post("/todos", json={"text": "no more"}), 409, "quota_exceeded")
    assert await counted(settings, ada_user.sub) == (LIMIT, {})
    # A refused delete (someone else's todo) frees nothing.
    bob_todo = await create(bob, "not ada's")
    assert (await ada.delete(f"/todos/{bob_todo['id']}")).status == 404
    assert await counted(settings, ada_user.sub) == (LIMIT, {})


async def test_replays_at_the_quota_answer_their_201_and_only_new_todos_count(
    clients: tuple[Client, Client], settings: Settings, users: tuple[LocalPool, User, User]
) -> None:
    ada, _ = clients
    _, ada_user, _ = users
    first = await ada.post("/todos", json={"text": "keyed"}, headers={"Idempotency-Key": "k-1"})
    assert first.status == 201
    for n in range(LIMIT - 1):
        await create(ada, f"fill {n}")
    assert await counted(settings, ada_user.sub) == (LIMIT, {})
    replay = await ada.post("/todos", json={"text": "keyed"}, headers={"Idempotency-Key": "k-1"})
    assert replay.status == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (await replay.json())["id"] == (await first.json())["id"]
    fresh = await ada.post("/todos", json={"text": "keyed"}, headers={"Idempotency-Key": "k-2"})
    await assert_error(fresh, 409, "quota_exceeded")
    # Concurrent replays of one key at the limit: all 201, one todo, nothing counted.
    replays = await asyncio.gather(
        *(
            ada.post("/todos", json={"text": "keyed"}, headers={"Idempotency-Key": "k-1"})
            for _ in range(10)
        )
    )
    assert {response.status for response in replays} == {201}
    assert await counted(settings, ada_user.sub) == (LIMIT, {})
    assert len(await owned_ids(settings, ada_user.sub)) == LIMIT


def lose_every_first_answer(operation: str) -> Any:
    """Every UpdateItem's answer is lost once, so botocore sends each again; the rest pass."""
    if operation != "UpdateItem":
        return "forward"
    return "lose_answer" if next(_every_other) else "forward"


_every_other = itertools.cycle([True, False])


async def test_a_retried_counter_update_counts_once(settings: Settings) -> None:
    port = urlsplit(settings.endpoint_url or "").port
    assert port is not None
    async with proxy_to(port) as proxy:
        proxy.plan = lose_every_first_answer
        lossy = settings.replace(endpoint_url=proxy.endpoint_url)
        async with open_client(lossy.client_options()) as client:
            repository = TodoRepository(
                client, settings.table_name, 30.0, max_todos_per_owner=LIMIT
            )
            made = [await repository.create(f"lossy {n}", OWNER) for n in range(3)]
            made.append((await repository.create_once("keyed", "lossy-key", OWNER)).todo)
            await repository.delete(made[0].id, owner=OWNER)
        assert proxy.operations("lose_answer"), "no answer was lost"
    assert await counted(settings, OWNER) == (3, {})
    assert await owned_ids(settings, OWNER) == {todo.id for todo in made[1:]}


async def test_a_crash_between_two_writes_is_repaired_when_the_owner_reaches_the_limit(
    repository: TodoRepository, settings: Settings
) -> None:
    async with open_client(settings.client_options()) as client:
        stale_after_s = 0.5
        repo = TodoRepository(
            client,
            settings.table_name,
            30.0,
            max_todos_per_owner=3,
            quota_stale_after_s=stale_after_s,
        )
        quota = OwnerQuota(
            client, idempotency_table_name(settings.table_name), settings.table_name, 3, OWNER
        )
        kept = await repo.create("kept", OWNER)
        # A create that died after counting its todo and before putting it.
        await quota.reserve(IdGenerator().next_id())
        # A delete that died after its todo was deleted and before uncounting it.
        gone = await repo.create("gone", OWNER)
        mark = await quota.begin_release(gone.id)
        await repository.delete(gone.id, owner=OWNER)  # a repository without the quota
        # A delete that died after marking and before deleting: its todo stays counted.
        await quota.begin_release(kept.id)
        assert (await counted(settings, OWNER))[0] == 3
        with pytest.raises(QuotaExceeded):
            await repo.create("too early: nothing is stale yet", OWNER)
        await asyncio.sleep(stale_after_s + 0.1)
        made = await repo.create("after the repair", OWNER)
        assert mark  # (the delete's own mark, left behind with its todo gone)
    count, unfinished = await counted(settings, OWNER)
    assert (count, unfinished) == (2, {})
    assert await owned_ids(settings, OWNER) == {kept.id, made.id}


async def test_the_counter_is_never_among_the_todos(
    clients: tuple[Client, Client], settings: Settings
) -> None:
    ada, _ = clients
    for n in range(3):
        await create(ada, f"counted {n}")
    listed = await (await ada.get("/todos")).json()
    assert len(listed) <= 3
    async with open_client(settings.client_options()) as client:
        items = (await client.scan(TableName=settings.table_name, ConsistentRead=True))["Items"]
    assert len(items) == 3
    assert all({"id", "text", "createdAt"} <= set(item) for item in items)
