"""The todo repository: the only code that knows DynamoDB.

Attribute names, the key schema, condition and update expressions, pagination and the
translation of botocore errors into domain errors all live here. Above this module the
service speaks in `Todo`s and domain errors only.

Stored item::

    id         N   the partition key (see ids.py)
    text       S
    completed  N   0 or 1. A number, not a BOOL, so that a toggle is one atomic UpdateItem
                   (``SET completed = :one - completed``): no read, no retry, no lost flip
                   however many toggles race.
    createdAt  S   ISO-8601 UTC
    updatedAt  S   ISO-8601 UTC
    version    N   bumped by every write; the ETag and the optimistic-concurrency guard
    idempotencyKey S  only on todos created with an Idempotency-Key: the key's digest

Idempotency record (the idempotency table, see table.py and `create_once`)::

    idempotencyKey S  SHA-256 of the client's Idempotency-Key (the partition key)
    todoId     N   the id this key's todo has (or will have)
    text, createdAt    the todo as it is (or will be) created
    fingerprint S  SHA-256 of the text, to refuse the same key with another body
    done       BOOL the todo exists: a replay answers from the record and writes nothing
    expiresAt  N   epoch seconds; DynamoDB's time to live removes the record after it
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Final, NoReturn

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from todo_service.domain.errors import (
    BackendUnavailable,
    Conflict,
    IdempotencyKeyReused,
    PreconditionFailed,
    TodoNotFound,
)
from todo_service.domain.ids import IdGenerator
from todo_service.domain.todo import Todo, now_iso
from todo_service.store.table import (
    IDEMPOTENCY_PARTITION_KEY,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    IDEMPOTENCY_TTL_S,
    PARTITION_KEY,
    idempotency_table_name,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# DynamoDB's answers that mean "slow down", which the API passes on as 503 + Retry-After.
THROTTLING_CODES: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
# Ids collide only across processes, and rarely; a handful of fresh ids always suffices.
MAX_CREATE_ATTEMPTS: Final = 5
# When the list is filtered, DynamoDB's Limit counts items read, not items matched: read a
# wider page so that a selective filter does not cost one round trip per few todos.
FILTERED_SCAN_LIMIT: Final = 1000
# Items loaded by hand may lack timestamps; they then show the Unix epoch.
EPOCH_ISO: Final = "1970-01-01T00:00:00.000Z"

_ONE: Final = {"N": "1"}
_ZERO: Final = {"N": "0"}
_BUMP_VERSION: Final = "version = if_not_exists(version, :zero) + :one"


@dataclasses.dataclass(frozen=True, slots=True)
class Created:
    todo: Todo
    # True when an earlier request with the same Idempotency-Key created the todo.
    replayed: bool


@dataclasses.dataclass(frozen=True, slots=True)
class _IdempotencyRecord:
    todo: Todo
    fingerprint: str
    done: bool

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> _IdempotencyRecord:
        created_at = item["createdAt"]["S"]
        todo = Todo(
            id=int(item["todoId"]["N"]),
            text=item["text"]["S"],
            completed=False,
            created_at=created_at,
            updated_at=created_at,
            version=1,
        )
        return cls(todo, item["fingerprint"]["S"], bool(item["done"]["BOOL"]))


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    todos: list[Todo]
    # The id to start the next page after, or None when the scan has reached the end.
    last_id: int | None


def _key(todo_id: int) -> dict[str, Any]:
    return {PARTITION_KEY: {"N": str(todo_id)}}


def _to_todo(item: Mapping[str, Any]) -> Todo:
    completed = item.get("completed")
    created_at = item.get("createdAt", {}).get("S", EPOCH_ISO)
    return Todo(
        id=int(item[PARTITION_KEY]["N"]),
        text=item.get("text", {}).get("S", ""),
        # Tolerate a BOOL written by hand (e.g. with the AWS CLI); we always write N.
        completed=completed is not None
        and completed.get("N", completed.get("BOOL")) in ("1", True),
        created_at=created_at,
        updated_at=item.get("updatedAt", {}).get("S", created_at),
        version=int(item.get("version", {}).get("N", "0")),
    )


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _condition_failed(error: ClientError) -> bool:
    return _error_code(error) == "ConditionalCheckFailedException"


def _was_retried(error: ClientError) -> bool:
    """Whether botocore sent the call more than once before this answer.

    After a lost answer (a reset connection, a read timeout) botocore sends a write again. If
    the first attempt was applied, the retry's condition fails: a create then finds its own
    todo, a delete finds nothing. Such a failure is ours, not someone else's.
    """
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _todo_item(todo: Todo) -> dict[str, Any]:
    return {
        **_key(todo.id),
        "text": {"S": todo.text},
        "completed": _ONE if todo.completed else _ZERO,
        "createdAt": {"S": todo.created_at},
        "updatedAt": {"S": todo.updated_at},
        "version": {"N": str(todo.version)},
    }


def _version_condition(expected_version: int | None, values: dict[str, Any]) -> str:
    """`attribute_exists(id)`, plus a version guard when the client sent If-Match."""
    if expected_version is None:
        return "attribute_exists(id)"
    values[":expected"] = {"N": str(expected_version)}
    if expected_version == 0:
        # Items loaded from a seed file may have no version yet: they count as version 0.
        return "attribute_exists(id) AND (attribute_not_exists(version) OR version = :expected)"
    return "attribute_exists(id) AND version = :expected"


class TodoRepository:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        timeout_s: float,
        ids: IdGenerator | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._idempotency_table = idempotency_table_name(table_name)
        self._timeout_s = timeout_s
        self._ids = ids or IdGenerator()

    @contextlib.asynccontextmanager
    async def _dynamodb(self) -> AsyncIterator[None]:
        """Bound a DynamoDB call by the deadline and turn transport trouble into domain errors."""
        try:
            async with asyncio.timeout(self._timeout_s):
                yield
        except TimeoutError:
            raise BackendUnavailable(
                f"DynamoDB did not answer within {self._timeout_s:g} s"
            ) from None
        except ClientError as error:
            code = _error_code(error)
            if code in THROTTLING_CODES:
                raise BackendUnavailable("DynamoDB is throttling requests") from error
            if code == "ResourceNotFoundException":
                raise BackendUnavailable(
                    f"table {self._table} or {self._idempotency_table} does not exist"
                ) from error
            raise
        except NoCredentialsError as error:
            raise BackendUnavailable("no AWS credentials are configured") from error
        except (BotoCoreError, aiohttp.ClientError, OSError) as error:
            raise BackendUnavailable("DynamoDB is unreachable") from error

    async def ping(self) -> None:
        """Raise BackendUnavailable unless both tables exist and are ACTIVE."""
        async with self._dynamodb():
            for table in (self._table, self._idempotency_table):
                answer = await self._client.describe_table(TableName=table)
                status = answer["Table"].get("TableStatus")
                if status != "ACTIVE":
                    raise BackendUnavailable(f"table {table} is {status}")

    async def list(self, limit: int, after_id: int | None, completed: bool | None) -> Page:
        """Up to `limit` todos after `after_id`, following DynamoDB's pages as far as needed.

        A DynamoDB page ends at 1 MB or at `Limit` items read, and a filter can leave it short
        or empty; we keep reading until the page is full or the scan is done, so a short page
        always means the end.
        """
        params: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        if completed is not None:
            params["FilterExpression"] = (
                "completed = :one"
                if completed
                else ("attribute_not_exists(completed) OR completed = :zero")
            )
            params["ExpressionAttributeValues"] = {":one": _ONE} if completed else {":zero": _ZERO}
        start_key = None if after_id is None else _key(after_id)
        todos: list[Todo] = []
        async with self._dynamodb():
            while True:
                wanted = limit - len(todos)
                params["Limit"] = wanted if completed is None else FILTERED_SCAN_LIMIT
                if start_key is not None:
                    params["ExclusiveStartKey"] = start_key
                answer = await self._client.scan(**params)
                items = answer.get("Items", [])
                todos.extend(_to_todo(item) for item in items[:wanted])
                if len(items) > wanted:
                    # We stopped inside DynamoDB's page: resume right after the last todo sent.
                    return Page(todos, todos[-1].id)
                start_key = answer.get("LastEvaluatedKey")
                if start_key is None:
                    return Page(todos, None)
                if len(todos) == limit:
                    return Page(todos, int(start_key[PARTITION_KEY]["N"]))

    async def get(self, todo_id: int) -> Todo:
        async with self._dynamodb():
            item = await self._item(todo_id)
        if item is None:
            raise TodoNotFound(todo_id)
        return _to_todo(item)

    async def _item(self, todo_id: int) -> Mapping[str, Any] | None:
        """The stored item, read strongly consistent, or None."""
        answer = await self._client.get_item(
            TableName=self._table, Key=_key(todo_id), ConsistentRead=True
        )
        return answer.get("Item")

    def _new_todo(self, text: str) -> Todo:
        """A todo not yet written, with a fresh id (see ids.py)."""
        now = now_iso()
        return Todo(
            id=self._ids.next_id(),
            text=text,
            completed=False,
            created_at=now,
            updated_at=now,
            version=1,
        )

    async def create(self, text: str) -> Todo:
        async with self._dynamodb():
            for _ in range(MAX_CREATE_ATTEMPTS):
                todo = self._new_todo(text)
                try:
                    await self._client.put_item(
                        TableName=self._table,
                        Item=_todo_item(todo),
                        ConditionExpression="attribute_not_exists(id)",
                    )
                except ClientError as error:
                    if not _condition_failed(error):
                        raise
                    if _was_retried(error) and await self._holds(todo):
                        return todo  # our first attempt was written; its answer was lost
                    continue  # another process took this id: draw the next one
                return todo
        raise Conflict("could not allocate a unique id; try again")

    async def _holds(self, todo: Todo) -> bool:
        """Whether the table holds exactly this new todo (ids never repeat in a process)."""
        item = await self._item(todo.id)
        return item is not None and _to_todo(item) == todo

    async def create_once(self, text: str, idempotency_key: str) -> Created:
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
        """
        key = {IDEMPOTENCY_PARTITION_KEY: {"S": _digest(idempotency_key)}}
        fingerprint = _digest(text)
        owner = False  # whether this request claimed the key (it stays so after a re-point)
        async with self._dynamodb():
            for _ in range(MAX_CREATE_ATTEMPTS):
                claim = await self._claim(key, text, fingerprint)
                if claim is None:
                    continue  # the record expired and vanished between our put and read
                record, claimed = claim
                owner = owner or claimed
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used for a different request body; "
                        "use a new key for a new todo"
                    )
                if record.done:
                    return Created(record.todo, replayed=True)
                if not await self._put_claimed(record.todo, key):
                    await self._repoint(key, record.todo.id)
                    continue
                if await self._mark_done(key, record.todo.id):
                    return Created(record.todo, replayed=not owner)
        raise Conflict("could not complete the create for this Idempotency-Key; try again")

    async def _claim(
        self, key: dict[str, Any], text: str, fingerprint: str
    ) -> tuple[_IdempotencyRecord, bool] | None:
        """Our new record and True, or the live record of an earlier request and False."""
        now_s = int(time.time())
        todo = self._new_todo(text)
        try:
            await self._client.put_item(
                TableName=self._idempotency_table,
                Item={
                    **key,
                    "todoId": {"N": str(todo.id)},
                    "text": {"S": text},
                    "createdAt": {"S": todo.created_at},
                    "fingerprint": {"S": fingerprint},
                    "done": {"BOOL": False},
                    IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(now_s + IDEMPOTENCY_TTL_S)},
                },
                # Time to live deletes lazily (within days): an expired record is free to take.
                ConditionExpression="attribute_not_exists(#key) OR #expires < :now",
                ExpressionAttributeNames={
                    "#key": IDEMPOTENCY_PARTITION_KEY,
                    "#expires": IDEMPOTENCY_TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={":now": {"N": str(now_s)}},
            )
            return _IdempotencyRecord(todo, fingerprint, done=False), True
        except ClientError as error:
            if not _condition_failed(error):
                raise
        answer = await self._client.get_item(
            TableName=self._idempotency_table, Key=key, ConsistentRead=True
        )
        if "Item" not in answer:
            return None
        record = _IdempotencyRecord.of(answer["Item"])
        # Our own claim, if its first attempt was written and only the answer was lost.
        return record, record.todo.id == todo.id

    async def _put_claimed(self, todo: Todo, key: dict[str, Any]) -> bool:
        """Make the record's todo exist; False if its id is held by an unrelated todo."""
        try:
            await self._client.put_item(
                TableName=self._table,
                Item={
                    **_todo_item(todo),
                    IDEMPOTENCY_PARTITION_KEY: key[IDEMPOTENCY_PARTITION_KEY],
                },
                ConditionExpression="attribute_not_exists(id)",
            )
            return True
        except ClientError as error:
            if not _condition_failed(error):
                raise
        item = await self._item(todo.id)
        # Gone again: it was there a moment ago, so it was created (and someone deleted it).
        return item is None or item.get(IDEMPOTENCY_PARTITION_KEY) == key[IDEMPOTENCY_PARTITION_KEY]

    async def _repoint(self, key: dict[str, Any], taken_id: int) -> None:
        # If the condition fails, another request re-pointed the record first; the caller
        # reads it again either way.
        await self._update_item(
            self._idempotency_table,
            key,
            "SET todoId = :fresh",
            "todoId = :taken AND #done = :false",
            {
                ":fresh": {"N": str(self._ids.next_id())},
                ":taken": {"N": str(taken_id)},
                ":false": {"BOOL": False},
            },
            {"#done": "done"},
        )

    async def _mark_done(self, key: dict[str, Any], todo_id: int) -> bool:
        """False if the record was re-pointed meanwhile: the caller starts over from it."""
        marked = await self._update_item(
            self._idempotency_table,
            key,
            "SET #done = :true",
            "todoId = :id",
            {":true": {"BOOL": True}, ":id": {"N": str(todo_id)}},
            {"#done": "done"},
        )
        return marked is not None

    async def update(
        self,
        todo_id: int,
        *,
        text: str | None = None,
        completed: bool | None = None,
        expected_version: int | None = None,
    ) -> Todo:
        """Set the given fields in one conditional UpdateItem; never creates a todo."""
        values: dict[str, Any] = {":one": _ONE, ":zero": _ZERO, ":now": {"S": now_iso()}}
        assignments = ["updatedAt = :now", _BUMP_VERSION]
        if text is not None:
            assignments.append("#text = :text")
            values[":text"] = {"S": text}
        if completed is not None:
            assignments.append("completed = :one" if completed else "completed = :zero")
        return await self._update(
            todo_id,
            "SET " + ", ".join(assignments),
            values,
            expected_version,
            names={"#text": "text"} if text is not None else None,
        )

    async def toggle(self, todo_id: int) -> Todo:
        """Flip `completed` atomically: concurrent toggles each count, none is lost."""
        values: dict[str, Any] = {":one": _ONE, ":zero": _ZERO, ":now": {"S": now_iso()}}
        expression = (
            "SET completed = :one - if_not_exists(completed, :zero), updatedAt = :now, "
            + _BUMP_VERSION
        )
        try:
            return await self._update(todo_id, expression, values, None, names=None)
        except ClientError as error:
            if _error_code(error) != "ValidationException":
                raise
        # Arithmetic fails on a BOOL `completed`, which only a hand-written item has (e.g. one
        # put with the AWS CLI). Flip that one by compare-and-set, storing the number from then
        # on, so that every later toggle takes the atomic path above.
        return await self._toggle_bool(todo_id)

    async def _toggle_bool(self, todo_id: int) -> Todo:
        current = await self.get(todo_id)
        values: dict[str, Any] = {
            ":old": {"BOOL": current.completed},
            ":new": _ZERO if current.completed else _ONE,
            ":now": {"S": now_iso()},
            ":one": _ONE,
            ":zero": _ZERO,
        }
        expression = "SET completed = :new, updatedAt = :now, " + _BUMP_VERSION
        async with self._dynamodb():
            attributes = await self._update_item(
                self._table, _key(todo_id), expression, "completed = :old", values
            )
        if attributes is None:
            # A concurrent toggle converted it (or it is gone): the atomic path now applies.
            return await self.toggle(todo_id)
        return _to_todo(attributes)

    async def _update(
        self,
        todo_id: int,
        expression: str,
        values: dict[str, Any],
        expected_version: int | None,
        names: dict[str, str] | None,
    ) -> Todo:
        condition = _version_condition(expected_version, values)
        async with self._dynamodb():
            attributes = await self._update_item(
                self._table, _key(todo_id), expression, condition, values, names
            )
            if attributes is None:
                await self._raise_condition_failure(todo_id, expected_version)
        return _to_todo(attributes)

    async def _update_item(
        self,
        table: str,
        key: dict[str, Any],
        expression: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> Mapping[str, Any] | None:
        """One conditional UpdateItem; the new item, or None when the condition failed."""
        params: dict[str, Any] = {
            "TableName": table,
            "Key": key,
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            params["ExpressionAttributeNames"] = names
        try:
            answer = await self._client.update_item(**params)
        except ClientError as error:
            if not _condition_failed(error):
                raise
            return None
        return answer["Attributes"]

    async def delete(self, todo_id: int, *, expected_version: int | None = None) -> None:
        values: dict[str, Any] = {}
        condition = _version_condition(expected_version, values)
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(todo_id),
            "ConditionExpression": condition,
        }
        if values:
            params["ExpressionAttributeValues"] = values
        async with self._dynamodb():
            try:
                await self._client.delete_item(**params)
            except ClientError as error:
                if not _condition_failed(error):
                    raise
                if _was_retried(error) and await self._item(todo_id) is None:
                    return  # our first attempt deleted it; only its answer was lost
                await self._raise_condition_failure(todo_id, expected_version)

    async def _raise_condition_failure(
        self, todo_id: int, expected_version: int | None
    ) -> NoReturn:
        """Tell "no such todo" (404) from "stale version" (412) after a failed condition.

        The read only classifies the failure; the write itself was decided by the condition.
        """
        if expected_version is None:
            raise TodoNotFound(todo_id)
        item = await self._item(todo_id)
        if item is None:
            raise TodoNotFound(todo_id)
        current = _to_todo(item).version
        raise PreconditionFailed(
            f"todo {todo_id} is at version {current}, not {expected_version}: reload and retry"
        )
