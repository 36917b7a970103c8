"""The todo repository: every todo operation, each as few conditional DynamoDB calls as it needs.

Above the store the service speaks in `Todo`s and domain errors only; the item's attributes
are in `items.py`, the deadline and error translation in `calls.py`, idempotency records in
`idempotency.py`.

Every operation takes an `owner`: None with TODO_AUTH=none (one shared list, as the
workshop's), else the caller's Cognito `sub`. An owner sees and changes only their own todos;
someone else's is TodoNotFound everywhere, decided by each write's own condition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, NoReturn

from todo_service.domain.errors import (
    BackendUnavailable,
    Conflict,
    IdempotencyKeyReused,
    PreconditionFailed,
    TodoNotFound,
)
from todo_service.domain.ids import IdGenerator
from todo_service.domain.todo import Todo, now_iso
from todo_service.store import items
from todo_service.store.calls import Guarded, delete_item, put_item, read_item, update_item
from todo_service.store.expressions import set_clause
from todo_service.store.idempotency import IdempotencyStore, digest
from todo_service.store.listing import Page, query_page, scan_page
from todo_service.store.table import (
    IDEMPOTENCY_PARTITION_KEY,
    OWNER_INDEX,
    idempotency_table_name,
    owner_index_status,
)
from todo_service.store.toggles import Toggles

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

__all__ = ["Created", "Page", "TodoRepository"]

# Ids collide only across processes, and rarely; a handful of fresh ids always suffices.
MAX_CREATE_ATTEMPTS: Final = 5


@dataclasses.dataclass(frozen=True, slots=True)
class Created:
    todo: Todo
    # True when an earlier request with the same Idempotency-Key created the todo.
    replayed: bool


class TodoRepository:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        timeout_s: float,
        ids: IdGenerator | None = None,
        *,
        owner_index: bool = False,
    ) -> None:
        """`owner_index`: whether the owner index must exist (TODO_AUTH=cognito lists by it)."""
        self._client = client
        self._owner_index = owner_index
        self._table = table_name
        self._records = IdempotencyStore(client, idempotency_table_name(table_name))
        self._timeout_s = timeout_s
        self._ids = ids or IdGenerator()
        self._toggles = Toggles()

    def _guarded(self) -> Guarded:
        return Guarded(self._timeout_s, f"{self._table} or {self._records.table}")

    async def ping(self) -> None:
        """Raise BackendUnavailable unless both tables (and the owner index, when it is
        needed) exist and are ACTIVE."""
        async with self._guarded():
            for table in (self._table, self._records.table):
                answer = await self._client.describe_table(TableName=table)
                status = answer["Table"].get("TableStatus")
                if status != "ACTIVE":
                    raise BackendUnavailable(f"table {table} is {status}")
                if self._owner_index and table == self._table:
                    _check_owner_index(table, answer["Table"])

    async def list(
        self, limit: int, after_id: int | None, completed: bool | None, owner: str | None = None
    ) -> Page:
        async with self._guarded():
            if owner is None:
                return await scan_page(self._client, self._table, limit, after_id, completed)
            return await query_page(self._client, self._table, owner, limit, after_id, completed)

    async def get(self, todo_id: int, owner: str | None = None) -> Todo:
        async with self._guarded():
            item = await self._item(todo_id)
        if item is None or not items.owned_by(item, owner):
            raise TodoNotFound(todo_id)
        return items.to_todo(item)

    async def _item(self, todo_id: int) -> Mapping[str, Any] | None:
        return await read_item(self._client, self._table, todo_id)

    def _new_todo(self, text: str) -> Todo:
        """A todo not yet written, with a fresh id (see domain/ids.py)."""
        now = now_iso()
        return Todo(
            id=self._ids.next_id(),
            text=text,
            completed=False,
            created_at=now,
            updated_at=now,
            version=1,
        )

    async def create(self, text: str, owner: str | None = None) -> Todo:
        async with self._guarded():
            for _ in range(MAX_CREATE_ATTEMPTS):
                todo = self._new_todo(text)
                if await self._put_new(todo, owner, {}):
                    return todo
                # Another process took this id: draw the next one.
        raise Conflict("could not allocate a unique id; try again")

    async def _put_new(self, todo: Todo, owner: str | None, extra: dict[str, Any]) -> bool:
        """Put `todo` if its id is free. False if it is taken, unless by our own lost attempt
        (botocore's retry of a put whose answer was lost finds the first attempt's todo)."""
        item = {**items.todo_item(todo, owner), **extra}
        written = await put_item(self._client, self._table, item, items.IS_NEW)
        return written.applied or (written.on_retry and await self._holds(todo, owner))

    async def _holds(self, todo: Todo, owner: str | None) -> bool:
        """Whether the table holds exactly this new todo (ids never repeat in a process)."""
        item = await self._item(todo.id)
        return item is not None and items.owned_by(item, owner) and items.to_todo(item) == todo

    async def create_once(
        self, text: str, idempotency_key: str, owner: str | None = None
    ) -> Created:
        """Create a todo at most once per Idempotency-Key, also when retries race.

        Without transactions (dynalite has none), in four single-item conditional writes:

        1. Claim the key: put a record naming a fresh id, if no live record has the key. A
           request that loses the claim reads the winner's record instead.
        2. Put the record's todo, if its id is free. Any request holding the record may do
           this, so a claimant that died half-way is completed by its retry; the id is fixed
           by the record, so racing puts make one todo. If the id belongs to an unrelated
           todo (another process drew it), re-point the record at a fresh id and go again.
        3. Mark the record done, if it still names that id.
        4. A record that is done answers from itself and writes nothing, so a retry never
           re-creates a todo that was created and then deleted.

        Keys are scoped to their owner: the same key from two users is two records.
        """
        key = IdempotencyStore.key_of(idempotency_key, owner)
        fingerprint = digest(text)
        claimant = False  # whether this request claimed the key (it stays so after a re-point)
        async with self._guarded():
            for _ in range(MAX_CREATE_ATTEMPTS):
                claim = await self._records.claim(key, self._new_todo(text), fingerprint)
                if claim is None:
                    continue  # the record expired and vanished between our put and read
                record, claimed = claim
                claimant = claimant or claimed
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used for a different request body; "
                        "use a new key for a new todo"
                    )
                if record.done:
                    return Created(record.todo, replayed=True)
                if not await self._put_claimed(record.todo, owner, key):
                    await self._records.repoint(key, record.todo.id, self._ids.next_id())
                    continue
                if await self._records.complete(key, record.todo.id):
                    return Created(record.todo, replayed=not claimant)
        raise Conflict("could not complete the create for this Idempotency-Key; try again")

    async def _put_claimed(self, todo: Todo, owner: str | None, key: dict[str, Any]) -> bool:
        """Make the record's todo exist; False if its id is held by an unrelated todo."""
        mark = {IDEMPOTENCY_PARTITION_KEY: key[IDEMPOTENCY_PARTITION_KEY]}
        if await self._put_new(todo, owner, mark):
            return True
        item = await self._item(todo.id)
        # Gone again: it was there a moment ago, so it was created (and someone deleted it).
        return (
            item is None or item.get(IDEMPOTENCY_PARTITION_KEY) == mark[IDEMPOTENCY_PARTITION_KEY]
        )

    async def update(
        self,
        todo_id: int,
        *,
        text: str | None = None,
        completed: bool | None = None,
        expected_version: int | None = None,
        owner: str | None = None,
    ) -> Todo:
        """Set the given fields in one conditional UpdateItem; never creates a todo."""
        now = now_iso()
        assignments = [items.touched(now)]
        if text is not None:
            assignments.append(items.text_set_to(text))
        if completed is not None:
            assignments.append(items.completed_set_to(completed))
        condition = items.owned(items.version_condition(expected_version), owner)
        async with self._guarded():
            written = await update_item(
                self._client, self._table, items.key(todo_id), set_clause(*assignments), condition
            )
            attributes = written.item
            if attributes is None:  # refused; on a retry, perhaps by our own first attempt
                found = await self._item(todo_id) if written.on_retry else None
                if found is None or not items.written_at(found, now, owner):
                    await self._raise_condition_failure(todo_id, expected_version, owner)
                attributes = found
        todo = items.to_todo(attributes)
        self._toggles.remember(todo.id, todo.completed)
        return todo

    async def toggle(self, todo_id: int, owner: str | None = None) -> Todo:
        """Flip `completed` atomically: concurrent toggles each count, none is lost."""
        async with self._guarded():
            todo = await self._toggles.toggle(self._client, self._table, todo_id, owner)
        if todo is None:
            raise TodoNotFound(todo_id)
        return todo

    async def delete(
        self, todo_id: int, *, expected_version: int | None = None, owner: str | None = None
    ) -> None:
        condition = items.owned(items.version_condition(expected_version), owner)
        async with self._guarded():
            written = await delete_item(self._client, self._table, items.key(todo_id), condition)
            if not written.applied:
                if written.on_retry and await self._item(todo_id) is None:
                    return  # our first attempt deleted it; only its answer was lost
                await self._raise_condition_failure(todo_id, expected_version, owner)
        self._toggles.forget(todo_id)

    async def _raise_condition_failure(
        self, todo_id: int, expected_version: int | None, owner: str | None
    ) -> NoReturn:
        """Tell "no such todo" (404) from "stale version" (412) after a failed condition.

        The read only classifies the failure; the write itself was decided by the condition.
        Someone else's todo is "no such todo": its version is never told.
        """
        if expected_version is None:
            raise TodoNotFound(todo_id)
        item = await self._item(todo_id)
        if item is None or not items.owned_by(item, owner):
            raise TodoNotFound(todo_id)
        current = items.to_todo(item).version
        raise PreconditionFailed(
            f"todo {todo_id} is at version {current}, not {expected_version}: reload and retry"
        )


def _check_owner_index(table: str, description: Mapping[str, Any]) -> None:
    status = owner_index_status(description)
    if status is None:
        raise BackendUnavailable(
            f"table {table} has no index {OWNER_INDEX}, which TODO_AUTH=cognito lists by: "
            "run `todo-service create-table` to add it"
        )
    if status != "ACTIVE":
        raise BackendUnavailable(f"index {OWNER_INDEX} of table {table} is {status}")
