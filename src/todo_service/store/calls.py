"""How the store calls DynamoDB: one deadline, one translation of failures, conditional writes.

Both repositories (`todos.py` and `idempotency.py`) make their calls inside `Guarded(...)`, so
a slow, unreachable or throttling DynamoDB becomes the same `BackendUnavailable` (503 with
Retry-After) wherever it happens, and botocore's `ClientError` never leaves the store except
for the codes a caller handles itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from todo_service.domain.errors import BackendUnavailable
from todo_service.store import items
from todo_service.store.expressions import Expression, placeholders

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
CONDITION_FAILED: Final = "ConditionalCheckFailedException"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def condition_failed(error: ClientError) -> bool:
    return error_code(error) == CONDITION_FAILED


def was_retried(error: ClientError) -> bool:
    """Whether botocore sent the call more than once before this answer (see `Written`)."""
    return int(error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)) > 0


class Guarded:
    """Bound DynamoDB calls by one deadline and turn transport trouble into domain errors.

    `tables` names the tables the calls use, for the message when one does not exist.
    A class rather than a generator-based context manager: it is entered on every request,
    and the generator machinery cost about as much as the deadline itself.
    """

    __slots__ = ("_deadline", "_tables", "_timeout_s")

    def __init__(self, timeout_s: float, tables: str) -> None:
        self._timeout_s = timeout_s
        self._tables = tables

    async def __aenter__(self) -> None:
        # The deadline runs from here, on the running loop's clock.
        self._deadline = asyncio.timeout(self._timeout_s)
        await self._deadline.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            # Turns the body's cancellation into TimeoutError when the deadline has passed.
            await self._deadline.__aexit__(exc_type, error, traceback)
        except TimeoutError as expired:
            error = expired
        if error is not None:
            self._raise_domain_error(error)
        # Anything else leaves as it came.

    def _raise_domain_error(self, error: BaseException) -> None:
        # In this order: TimeoutError is an OSError, NoCredentialsError a BotoCoreError.
        if isinstance(error, TimeoutError):
            raise BackendUnavailable(
                f"DynamoDB did not answer within {self._timeout_s:g} s"
            ) from None
        if isinstance(error, ClientError):
            code = error_code(error)
            if code in THROTTLING_CODES:
                raise BackendUnavailable("DynamoDB is throttling requests") from error
            if code == "ResourceNotFoundException":
                raise BackendUnavailable(f"table {self._tables} does not exist") from error
            return
        if isinstance(error, NoCredentialsError):
            raise BackendUnavailable("no AWS credentials are configured") from error
        if isinstance(error, BotoCoreError | aiohttp.ClientError | OSError):
            raise BackendUnavailable("DynamoDB is unreachable") from error


@dataclasses.dataclass(frozen=True, slots=True)
class Written:
    """What a conditional write (put, update or delete) did.

    `applied`: the condition held and the write was made; `item` is then the item as written
    (UpdateItem's ALL_NEW; None for a put or a delete). When it was refused, `on_retry` says
    whether botocore had sent it before: after a lost answer it sends a write again, and if the
    first attempt was applied, the retry's condition fails on our own write (a create finds its
    own todo, a delete finds nothing). Only then is a read needed to tell which.
    """

    applied: bool
    item: Mapping[str, Any] | None = None
    on_retry: bool = False


async def _conditional(call: Awaitable[Mapping[str, Any]]) -> Written:
    try:
        answer = await call
    except ClientError as error:
        if not condition_failed(error):
            raise
        return Written(applied=False, on_retry=was_retried(error))
    return Written(applied=True, item=answer.get("Attributes"))


async def put_item(
    client: DynamoDBClient, table: str, item: Mapping[str, Any], condition: Expression
) -> Written:
    """One conditional PutItem."""
    return await _conditional(
        client.put_item(
            TableName=table,
            Item=dict(item),
            ConditionExpression=condition.text,
            **placeholders(condition),
        )
    )


async def update_item(
    client: DynamoDBClient,
    table: str,
    key: Mapping[str, Any],
    update: Expression,
    condition: Expression,
) -> Written:
    """One conditional UpdateItem; when applied, `item` is the item as updated."""
    return await _conditional(
        client.update_item(
            TableName=table,
            Key=dict(key),
            UpdateExpression=update.text,
            ConditionExpression=condition.text,
            ReturnValues="ALL_NEW",
            **placeholders(update, condition),
        )
    )


async def delete_item(
    client: DynamoDBClient, table: str, key: Mapping[str, Any], condition: Expression
) -> Written:
    """One conditional DeleteItem."""
    return await _conditional(
        client.delete_item(
            TableName=table,
            Key=dict(key),
            ConditionExpression=condition.text,
            **placeholders(condition),
        )
    )


async def read_item(client: DynamoDBClient, table: str, todo_id: int) -> Mapping[str, Any] | None:
    """The stored todo item, read strongly consistent, or None."""
    answer = await client.get_item(TableName=table, Key=items.key(todo_id), ConsistentRead=True)
    return answer.get("Item")
