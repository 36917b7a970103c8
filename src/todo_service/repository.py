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
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .errors import BackendUnavailable, Conflict, PreconditionFailed, TodoNotFound
from .ids import IdGenerator
from .table import PARTITION_KEY
from .todo import Todo, now_iso

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

# Every DynamoDB operation the service calls at run time. The CDK task role grants exactly
# these, and a test checks this set against what the integration suite really calls.
SERVICE_OPERATIONS: Final = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "DescribeTable"}
)

_ONE: Final = {"N": "1"}
_ZERO: Final = {"N": "0"}
_BUMP_VERSION: Final = "version = if_not_exists(version, :zero) + :one"


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
    def __init__(self, client: DynamoDBClient, table_name: str, timeout_s: float) -> None:
        self._client = client
        self._table = table_name
        self._timeout_s = timeout_s
        self._ids = IdGenerator()

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
                raise BackendUnavailable(f"table {self._table} does not exist") from error
            raise
        except NoCredentialsError as error:
            raise BackendUnavailable("no AWS credentials are configured") from error
        except (BotoCoreError, aiohttp.ClientError, OSError) as error:
            raise BackendUnavailable("DynamoDB is unreachable") from error

    async def ping(self) -> None:
        """Raise BackendUnavailable unless the table exists and is ACTIVE."""
        async with self._dynamodb():
            answer = await self._client.describe_table(TableName=self._table)
        status = answer["Table"].get("TableStatus")
        if status != "ACTIVE":
            raise BackendUnavailable(f"table {self._table} is {status}")

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
            answer = await self._client.get_item(
                TableName=self._table, Key=_key(todo_id), ConsistentRead=True
            )
        if "Item" not in answer:
            raise TodoNotFound(todo_id)
        return _to_todo(answer["Item"])

    async def create(self, text: str) -> Todo:
        now = now_iso()
        async with self._dynamodb():
            for _ in range(MAX_CREATE_ATTEMPTS):
                todo = Todo(
                    id=self._ids.next_id(),
                    text=text,
                    completed=False,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
                try:
                    await self._client.put_item(
                        TableName=self._table,
                        Item={
                            **_key(todo.id),
                            "text": {"S": text},
                            "completed": _ZERO,
                            "createdAt": {"S": now},
                            "updatedAt": {"S": now},
                            "version": _ONE,
                        },
                        ConditionExpression="attribute_not_exists(id)",
                    )
                except ClientError as error:
                    if _error_code(error) != "ConditionalCheckFailedException":
                        raise
                    continue  # another process took this id: draw the next one
                return todo
        raise Conflict("could not allocate a unique id; try again")

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
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(todo_id),
            "UpdateExpression": "SET completed = :new, updatedAt = :now, " + _BUMP_VERSION,
            "ConditionExpression": "completed = :old",
            "ExpressionAttributeValues": {
                ":old": {"BOOL": current.completed},
                ":new": _ZERO if current.completed else _ONE,
                ":now": {"S": now_iso()},
                ":one": _ONE,
                ":zero": _ZERO,
            },
            "ReturnValues": "ALL_NEW",
        }
        async with self._dynamodb():
            try:
                answer = await self._client.update_item(**params)
            except ClientError as error:
                if _error_code(error) != "ConditionalCheckFailedException":
                    raise
                # A concurrent toggle converted it (or it is gone): the atomic path now applies.
                return await self.toggle(todo_id)
        return _to_todo(answer["Attributes"])

    async def _update(
        self,
        todo_id: int,
        expression: str,
        values: dict[str, Any],
        expected_version: int | None,
        names: dict[str, str] | None,
    ) -> Todo:
        condition = _version_condition(expected_version, values)
        params: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(todo_id),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
        }
        if names:
            params["ExpressionAttributeNames"] = names
        async with self._dynamodb():
            try:
                answer = await self._client.update_item(**params)
            except ClientError as error:
                if _error_code(error) != "ConditionalCheckFailedException":
                    raise
                await self._raise_condition_failure(todo_id, expected_version)
        return _to_todo(answer["Attributes"])

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
                if _error_code(error) != "ConditionalCheckFailedException":
                    raise
                await self._raise_condition_failure(todo_id, expected_version)

    async def _raise_condition_failure(self, todo_id: int, expected_version: int | None) -> None:
        """Tell "no such todo" (404) from "stale version" (412) after a failed condition.

        The read only classifies the failure; the write itself was decided by the condition.
        """
        if expected_version is None:
            raise TodoNotFound(todo_id)
        answer = await self._client.get_item(
            TableName=self._table, Key=_key(todo_id), ConsistentRead=True
        )
        if "Item" not in answer:
            raise TodoNotFound(todo_id)
        current = _to_todo(answer["Item"]).version
        raise PreconditionFailed(
            f"todo {todo_id} is at version {current}, not {expected_version}: reload and retry"
        )
