"""Idempotent creates: one Idempotency-Key, one todo, however often and however racily sent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from todo_service.domain.ids import IdGenerator
from todo_service.store.todos import TodoRepository

from .support.api import all_ids, assert_error, create

Client = TestClient[Any, Any]


async def post(api: Client, key: str, text: str = "Pay rent") -> Any:
    return await api.post("/todos", json={"text": text}, headers={"Idempotency-Key": key})


async def test_retried_create_answers_the_same_todo_and_creates_one(api: Client) -> None:
    first = await post(api, "key-1")
    assert first.status == 201
    assert "Idempotent-Replayed" not in first.headers
    retry = await post(api, "key-1")
    assert retry.status == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await retry.json() == await first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert await all_ids(api) == {(await first.json())["id"]}


async def test_racing_retries_with_one_key_create_exactly_one_todo(api: Client) -> None:
    responses = await asyncio.gather(*(post(api, "racing-key") for _ in range(25)))
    assert [r.status for r in responses] == [201] * 25
    bodies = [await r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    replayed = [r.headers.get("Idempotent-Replayed") for r in responses]
    assert replayed.count(None) == 1, "exactly one request created the todo"
    assert await all_ids(api) == {bodies[0]["id"]}


async def test_different_keys_create_different_todos(api: Client) -> None:
    one, two = await post(api, "a"), await post(api, "b")
    assert (await one.json())["id"] != (await two.json())["id"]
    assert len(await all_ids(api)) == 2


async def test_same_key_with_another_body_is_422_and_creates_nothing(api: Client) -> None:
    first = await (await post(api, "k", "Pay rent")).json()
    await assert_error(await post(api, "k", "Pay bills"), 422, "idempotency_key_reused")
    assert await all_ids(api) == {first["id"]}


async def test_body_is_compared_after_trimming(api: Client) -> None:
    first = await (await post(api, "trim", "Pay rent")).json()
    retry = await post(api, "trim", "  Pay rent ")
    assert retry.status == 201
    assert (await retry.json())["id"] == first["id"]


async def test_retry_after_delete_replays_and_does_not_resurrect(api: Client) -> None:
    first = await (await post(api, "gone")).json()
    assert (await api.delete(f"/todos/{first['id']}")).status == 204
    retry = await post(api, "gone")
    assert retry.status == 201
    assert (await retry.json())["id"] == first["id"]
    assert await all_ids(api) == set()


async def test_create_without_key_is_not_deduplicated(api: Client) -> None:
    await create(api, "same")
    await create(api, "same")
    assert len(await all_ids(api)) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\tkey"])
async def test_bad_idempotency_key_is_400_and_creates_nothing(api: Client, key: str) -> None:
    response = await api.post(
        "/todos", json={"text": "a"}, headers={"Idempotency-Key": key.encode().decode("latin-1")}
    )
    await assert_error(response, 400, "invalid_request", "Idempotency-Key")
    assert await all_ids(api) == set()


class ReplayingIds(IdGenerator):
    """Draws `taken` first, as another process that drew the same id would."""

    def __init__(self, taken: int) -> None:
        super().__init__()
        self._taken: int | None = taken

    def next_id(self) -> int:
        taken, self._taken = self._taken, None
        return taken if taken is not None else super().next_id()


async def test_id_held_by_an_unrelated_todo_is_replaced_not_overwritten(
    repository: TodoRepository, settings: Any
) -> None:
    other = await repository.create("someone else's todo")
    colliding = TodoRepository(
        repository._client,  # the same client: this is about ids, not connections
        settings.table_name,
        settings.dynamodb_timeout_s,
        ids=ReplayingIds(other.id),
    )
    created = await colliding.create_once("mine", "collision-key")
    assert created.todo.id != other.id
    assert not created.replayed
    assert await repository.get(other.id) == other
    assert (await repository.get(created.todo.id)).text == "mine"
    again = await colliding.create_once("mine", "collision-key")
    assert again.todo == created.todo
    assert again.replayed
