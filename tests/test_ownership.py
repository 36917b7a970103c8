"""TODO_AUTH=cognito: each user sees and changes only their own todos, on every backend.

Two real users of a user pool (moto's Cognito on every backend, cognito-local on the first;
see tests/support/cognito_servers.py), each with their own client (their access token on every
request) to the same real app. Someone else's todo is 404 on every route, and stays exactly
as it was; lists are Queries on the owner index, newest first; cursors and idempotency keys
are the user's own. The list is read from a global secondary index, eventually consistent, so
a test that lists right after a write waits for the index (bounded, `listed_eventually`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer

from todo_service.api.openapi import openapi_document
from todo_service.app import create_app
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.provisioning import delete_tables, ensure_table
from todo_service.store.table import (
    OWNER_ATTRIBUTE,
    OWNER_INDEX,
    SERVICE_OPERATIONS,
    create_idempotency_table_request,
    create_table_request,
)
from todo_service.store.todos import TodoRepository

from .conftest import REGION
from .support.api import Client, assert_error, create, list_all, list_pages, next_cursor
from .support.cognito import LocalPool, bearer, cognito, create_pool, sign_in, sign_up
from .support.cognito_servers import CognitoIdp

pytestmark = pytest.mark.integration

# Bounded waits for the owner index (immediate on moto and dynalite, not so on DynamoDB).
INDEX_WAIT_S = 10.0
INDEX_POLL_S = 0.05


class User:
    def __init__(self, name: str, access_token: str) -> None:
        self.name = name
        self.token = access_token
        self.sub: str = jwt.decode(access_token, options={"verify_signature": False})["sub"]


@pytest.fixture(scope="module")
def users(cognito_idp: CognitoIdp) -> tuple[LocalPool, User, User]:
    """One pool and two signed-in users for the module (sign-up is the slow part)."""

    async def make() -> tuple[LocalPool, User, User]:
        name = f"owners-{uuid.uuid4().hex[:8]}"
        pool = await create_pool(cognito_idp.endpoint_url, REGION, name)
        signed_in = []
        for name in ("ada", "bob"):
            username = f"{name}-{uuid.uuid4().hex[:8]}"
            await sign_up(pool, username)
            signed_in.append(User(name, (await sign_in(pool, username)).access))
        return pool, signed_in[0], signed_in[1]

    return asyncio.run(make())


@pytest.fixture
async def clients(
    settings: Settings, users: tuple[LocalPool, User, User]
) -> AsyncIterator[tuple[Client, Client]]:
    """Ada's and Bob's clients of one app with TODO_AUTH=cognito."""
    pool, ada, bob = users
    server = TestServer(create_app(cognito(settings, pool)))
    ada_client: Client = TestClient(server, headers=bearer(ada.token))
    bob_client: Client = TestClient(server, headers=bearer(bob.token))
    await ada_client.start_server()
    await bob_client.start_server()
    yield ada_client, bob_client
    await bob_client.close()
    await ada_client.close()


async def listed_eventually(api: Client, expected: list[int], **query: str) -> list[int]:
    """The ids the list shows, once it shows exactly `expected` (bounded: the index lags)."""
    shown: list[int] = []
    for _ in range(int(INDEX_WAIT_S / INDEX_POLL_S)):
        shown = [todo["id"] for todo in await list_all(api, **query)]
        if shown == expected:
            return shown
        await asyncio.sleep(INDEX_POLL_S)
    raise AssertionError(f"the list shows {shown}, not {expected}, after {INDEX_WAIT_S} s")


async def test_each_user_lists_only_their_own_todos_newest_first(
    clients: tuple[Client, Client],
) -> None:
    ada, bob = clients
    ada_ids = [(await create(ada, f"ada {n}"))["id"] for n in range(5)]
    bob_ids = [(await create(bob, f"bob {n}"))["id"] for n in range(3)]
    await listed_eventually(ada, sorted(ada_ids, reverse=True))
    await listed_eventually(bob, sorted(bob_ids, reverse=True))
    # Newest first across pages, every page full but the last.
    pages = await list_pages(ada, limit="2")
    assert [[t["id"] for t in page] for page in pages] == [
        sorted(ada_ids, reverse=True)[i : i + 2] for i in range(0, 5, 2)
    ]
    assert all(t["text"].startswith("ada") for page in pages for t in page)


async def test_filters_and_full_pages_work_on_the_index(clients: tuple[Client, Client]) -> None:
    ada, bob = clients
    ids = [(await create(ada, f"t{n}"))["id"] for n in range(6)]
    for todo_id in ids[::2]:
        assert (await ada.post(f"/todos/{todo_id}/toggle")).status == 200
    await create(bob, "bob's, done")
    done = sorted(ids[::2], reverse=True)
    await listed_eventually(ada, done, completed="true")
    await listed_eventually(ada, sorted(ids[1::2], reverse=True), completed="false")
    pages = await list_pages(ada, completed="true", limit="2")
    assert [len(page) for page in pages] == [2, 1]
    assert [t["id"] for page in pages for t in page] == done


def _todo_path(todo: dict[str, Any]) -> str:
    return f"/todos/{todo['id']}"


# Every way Bob might reach Ada's todo. Each must be 404, as for a todo that does not exist:
# even with the right version in If-Match (a 412 would tell him it exists).
CROSS_USER_REQUESTS = [
    ("GET", "", {}),
    ("PATCH", "", {"json": {"text": "mine now"}}),
    ("PATCH", "", {"json": {"completed": True}}),
    ("PATCH", "", {"json": {"text": "mine now"}, "headers": {"If-Match": '"1"'}}),
    ("PATCH", "", {"json": {"text": "mine now"}, "headers": {"If-Match": '"7"'}}),
    ("POST", "/toggle", {}),
    ("DELETE", "", {}),
    ("DELETE", "", {"headers": {"If-Match": '"1"'}}),
    ("DELETE", "", {"headers": {"If-Match": '"7"'}}),
]


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs"),
    CROSS_USER_REQUESTS,
    ids=[
        f"{m} {s or '/'} {sorted(k.get('headers', {}).values())}" for m, s, k in CROSS_USER_REQUESTS
    ],
)
async def test_someone_elses_todo_is_404_and_stays_as_it_was(
    clients: tuple[Client, Client],
    repository: TodoRepository,
    method: str,
    suffix: str,
    kwargs: dict[str, Any],
) -> None:
    ada, bob = clients
    todo = await create(ada, "Ada's")
    before = await repository.get(todo["id"])
    response = await bob.request(method, _todo_path(todo) + suffix, **kwargs)
    # Word for word what a todo that does not exist answers.
    await assert_error(response, 404, "not_found")
    assert (await response.json())["error"]["message"] == f"no todo with id {todo['id']}"
    assert await repository.get(todo["id"]) == before
    assert (await ada.get(_todo_path(todo))).status == 200


async def test_a_todo_of_the_shared_list_belongs_to_nobody(
    clients: tuple[Client, Client], repository: TodoRepository
) -> None:
    """Todos written with TODO_AUTH=none (or loaded by seed) have no owner: no user sees them."""
    ada, _ = clients
    shared = await repository.create("from the workshop's list")
    assert (await ada.get(f"/todos/{shared.id}")).status == 404
    assert (await ada.post(f"/todos/{shared.id}/toggle")).status == 404
    assert await list_all(ada) == []
    assert await repository.get(shared.id) == shared


async def test_another_users_cursor_is_refused(clients: tuple[Client, Client]) -> None:
    ada, bob = clients
    ids = [(await create(ada, f"a{n}"))["id"] for n in range(3)]
    await create(bob, "b")
    await listed_eventually(ada, sorted(ids, reverse=True))
    first = await ada.get("/todos", params={"limit": "1"})
    cursor = next_cursor(first.headers)
    assert cursor is not None
    response = await bob.get("/todos", params={"limit": "1", "cursor": cursor})
    await assert_error(response, 400, "invalid_cursor")
    assert "for this user" in (await response.json())["error"]["message"]
    # Ada's own cursor goes on where her page ended.
    second = await ada.get("/todos", params={"limit": "1", "cursor": cursor})
    assert [t["id"] for t in await second.json()] == [sorted(ids, reverse=True)[1]]


async def test_idempotency_keys_are_scoped_per_user(clients: tuple[Client, Client]) -> None:
    ada, bob = clients
    key = {"Idempotency-Key": f"same-{uuid.uuid4()}"}
    body = {"json": {"text": "same text"}, "headers": key}
    first_ada = await ada.post("/todos", **body)
    first_bob = await bob.post("/todos", **body)
    assert (first_ada.status, first_bob.status) == (201, 201)
    assert "Idempotent-Replayed" not in first_ada.headers
    assert "Idempotent-Replayed" not in first_bob.headers
    ada_todo, bob_todo = await first_ada.json(), await first_bob.json()
    assert ada_todo["id"] != bob_todo["id"]
    again = await bob.post("/todos", **body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == bob_todo
    assert (await ada.get(_todo_path(bob_todo))).status == 404
    await listed_eventually(ada, [ada_todo["id"]])
    await listed_eventually(bob, [bob_todo["id"]])


async def test_cognito_mode_lists_by_query_and_never_scans(
    clients: tuple[Client, Client],
) -> None:
    """The deployed task role grants Query on the index alone, and no route here scans."""
    ada, _ = clients
    todo = await create(ada, "a")
    await ada.post("/todos", json={"text": "b"}, headers={"Idempotency-Key": "k"})
    for method, url, kwargs in [
        ("GET", "/readyz", {}),
        ("GET", "/todos", {}),
        ("GET", "/todos", {"params": {"completed": "true"}}),
        ("GET", _todo_path(todo), {}),
        ("PATCH", _todo_path(todo), {"json": {"text": "c"}, "headers": {"If-Match": '"9"'}}),
        ("POST", _todo_path(todo) + "/toggle", {}),
        ("DELETE", _todo_path(todo), {}),
    ]:
        assert (await ada.request(method, url, **kwargs)).status < 500
    text = await (await ada.get("/metrics")).text()
    called = set(re.findall(r'todo_dynamodb_calls_total\{operation="(\w+)"\}', text))
    assert called == SERVICE_OPERATIONS - {"Scan"}


async def test_a_table_without_the_owner_index_is_not_ready_until_create_table_adds_it(
    moto_endpoint: str, users: tuple[LocalPool, User, User], aiohttp_client: Any
) -> None:
    """A table made by an earlier version: readiness names what is missing, create-table adds it.

    On moto only: dynalite's UpdateTable predates on-demand tables and demands a provisioned
    throughput for the new index, which DynamoDB refuses on an on-demand table.
    """
    pool, ada, _ = users
    name = f"TodoTable-{uuid.uuid4().hex[:12]}"
    base_settings = Settings(
        table_name=name, endpoint_url=moto_endpoint, region=REGION, host="127.0.0.1"
    )
    old = create_table_request(name)
    del old["GlobalSecondaryIndexes"]
    old["AttributeDefinitions"] = [
        d for d in old["AttributeDefinitions"] if d["AttributeName"] != OWNER_ATTRIBUTE
    ]
    async with open_client(base_settings.client_options()) as client:
        await client.create_table(**old)
        await client.create_table(**create_idempotency_table_request(name))
        try:
            secured = await aiohttp_client(create_app(cognito(base_settings, pool)))
            response = await secured.get("/readyz")
            await assert_error(response, 503, "backend_unavailable", OWNER_INDEX)
            # The shared list needs no index: that mode is ready on the old table.
            shared = await aiohttp_client(create_app(base_settings))
            assert (await shared.get("/readyz")).status == 200
            await ensure_table(client, name)
            assert (await secured.get("/readyz")).status == 200
            created = await secured.post("/todos", json={"text": "x"}, headers=bearer(ada.token))
            assert created.status == 201
            await listed_eventually_with(secured, ada, [(await created.json())["id"]])
        finally:
            await delete_tables(client, name)


async def listed_eventually_with(api: Client, user: User, expected: list[int]) -> None:
    for _ in range(int(INDEX_WAIT_S / INDEX_POLL_S)):
        response = await api.get("/todos", headers=bearer(user.token))
        if [t["id"] for t in await response.json()] == expected:
            return
        await asyncio.sleep(INDEX_POLL_S)
    raise AssertionError(f"the list did not show {expected} within {INDEX_WAIT_S} s")


async def test_the_served_document_is_the_cognito_one_and_a_401_matches_it(
    clients: tuple[Client, Client], settings: Settings, users: tuple[LocalPool, User, User]
) -> None:
    ada, _ = clients
    served = await (await ada.get("/openapi.json")).json()
    assert served == openapi_document(auth=True)
    refused = await ada.get("/todos", headers={"Authorization": "Bearer not-a-jwt"})
    answer = served["components"]["responses"]["Unauthorized"]
    codes = answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]
    assert (await refused.json())["error"]["code"] in codes["properties"]["code"]["enum"]
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
