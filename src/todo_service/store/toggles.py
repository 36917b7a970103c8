"""The toggle: an atomic flip of a BOOL `completed`, in one UpdateItem in the common case.

DynamoDB cannot negate a BOOL in an update expression, so a flip is a conditional write that
assumes the current state: `SET completed = :true IF completed is false` (or the reverse).
The condition alone makes every flip exact: concurrent toggles each count, none is lost or
merged, and a missing todo is never created (`attribute_exists(id)`). A wrong assumption is
refused and costs another call: the opposite flip, and when both are refused, a read that
tells a missing todo (404) from one that others keep flipping.

What remains is to assume right as often as possible, so that the common case is one call:

- Toggles of one todo in this process take turns (an asyncio lock per todo, dropped when no
  toggle holds or awaits it). Without turns, N concurrent toggles of one todo would all assume
  the same state, one would win and N-1 retry: N^2 calls. In turns, each starts from the state
  the previous one left: N calls.
- The last state this process saw is remembered for a bounded number of todos; a todo nobody
  here has seen is assumed open (todos are created open). Another process's write makes a
  remembered state stale, which costs one extra call, never a wrong flip.

An N 0/1 flag (written by earlier versions) matches the same conditions and is flipped to a
BOOL. With an owner, each flip's condition also names the owner, so someone else's todo is
refused like a missing one (None, 404) without being read first.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Final

from todo_service.domain.errors import Conflict
from todo_service.domain.todo import Todo, now_iso
from todo_service.store import items
from todo_service.store.calls import read_item, update_item
from todo_service.store.expressions import set_clause

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# About 100 bytes a todo: a few MB at most, whatever the table's size.
REMEMBERED_TODOS: Final = 32_768
# Flips, each assuming a state; past this the todo changes faster than we can flip it.
MAX_FLIPS: Final = 8


@dataclasses.dataclass(slots=True)
class _Turns:
    lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    holders: int = 0


class Toggles:
    def __init__(self, capacity: int = REMEMBERED_TODOS) -> None:
        self._capacity = capacity
        self._states: collections.OrderedDict[int, bool] = collections.OrderedDict()
        self._turns: dict[int, _Turns] = {}

    def remember(self, todo_id: int, completed: bool) -> None:
        self._states[todo_id] = completed
        self._states.move_to_end(todo_id)
        if len(self._states) > self._capacity:
            self._states.popitem(last=False)

    def forget(self, todo_id: int) -> None:
        self._states.pop(todo_id, None)

    @contextlib.asynccontextmanager
    async def _turn(self, todo_id: int) -> AsyncIterator[None]:
        turns = self._turns.setdefault(todo_id, _Turns())
        turns.holders += 1
        try:
            async with turns.lock:
                yield
        finally:
            turns.holders -= 1
            if turns.holders == 0:
                del self._turns[todo_id]

    async def toggle(
        self, client: DynamoDBClient, table: str, todo_id: int, owner: str | None
    ) -> Todo | None:
        """The flipped todo, or None if there is no such todo (of `owner`'s)."""
        async with self._turn(todo_id):
            assumed = self._states.get(todo_id, False)
            for attempt in range(MAX_FLIPS):
                flipped = await _flip(client, table, todo_id, assumed, owner)
                if flipped is not None:
                    self.remember(todo_id, flipped.completed)
                    return flipped
                if attempt % 2 == 0:
                    assumed = not assumed
                    continue
                item = await read_item(client, table, todo_id)
                if item is None or not items.owned_by(item, owner):
                    self.forget(todo_id)
                    return None
                assumed = items.completed_of(item)
        raise Conflict(f"todo {todo_id} changed too often to toggle; try again")


async def _flip(
    client: DynamoDBClient, table: str, todo_id: int, completed: bool, owner: str | None
) -> Todo | None:
    """Set `completed` to `not completed` if it is `completed` and `owner`'s: the todo, or None."""
    now = now_iso()
    update = set_clause(items.completed_set_to(not completed), items.touched(now))
    condition = items.owned(items.EXISTS & items.filter_completed(completed), owner)
    written = await update_item(client, table, items.key(todo_id), update, condition)
    if written.item is not None:
        return items.to_todo(written.item)
    if not written.on_retry:
        return None
    # botocore sent the flip again after a lost answer. If the first attempt was applied, the
    # todo shows our write (our timestamp, our state): flipping again would undo it.
    item = await read_item(client, table, todo_id)
    if item is None or not items.written_at(item, now, owner):
        return None
    ours = items.to_todo(item)
    return ours if ours.completed is not completed else None
