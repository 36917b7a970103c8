"""Concurrent writes against a real server: nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from .support.api import all_ids

Client = TestClient[Any, Any]


async def test_200_concurrent_creates_give_200_distinct_ids(api: Client) -> None:
    responses = await asyncio.gather(
        *(api.post("/todos", json={"text": f"todo {n}"}) for n in range(200))
    )
    assert [r.status for r in responses] == [201] * 200
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 200
    assert await all_ids(api, limit="100") == ids


async def test_101_concurrent_toggles_leave_the_todo_flipped(api: Client) -> None:
    todo = await (await api.post("/todos", json={"text": "flip me"})).json()
    responses = await asyncio.gather(*(api.post(f"/todos/{todo['id']}/toggle") for _ in range(101)))
    assert [r.status for r in responses] == [200] * 101
    final = await (await api.get(f"/todos/{todo['id']}")).json()
    assert final["completed"] is True
    # Every toggle bumped the version exactly once: none was lost or merged.
    final_response = await api.get(f"/todos/{todo['id']}")
    assert final_response.headers["ETag"] == '"102"'


async def test_concurrent_if_match_patches_let_exactly_one_win(api: Client) -> None:
    todo = await (await api.post("/todos", json={"text": "contended"})).json()
    responses = await asyncio.gather(
        *(
            api.patch(
                f"/todos/{todo['id']}", json={"text": f"writer {n}"}, headers={"If-Match": '"1"'}
            )
            for n in range(20)
        )
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] + [412] * 19
