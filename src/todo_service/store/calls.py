"""How the store calls DynamoDB: one deadline, one translation of failures, one conditional update.

Both repositories (`todos.py` and `idempotency.py`) make their calls inside `Guarded(...)`, so
a slow, unreachable or throttling DynamoDB becomes the same `BackendUnavailable` (503 with
Retry-After) wherever it happens, and botocore's `ClientError` never leaves the store except
for the codes a caller handles itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from todo_service.domain.errors import BackendUnavailable
from todo_service.store import items

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
    """Whether botocore sent the call more than once before this answer.

    After a lost answer (a reset connection, a read timeout) botocore sends a write again. If
    the first attempt was applied, the retry's condition fails: a create then finds its own
    todo, a delete finds nothing. Such a failure is ours, not someone else's.
    """
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


async def update_item(
    client: DynamoDBClient,
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
        answer = await client.update_item(**params)
    except ClientError as error:
        if not condition_failed(error):
            raise
        return None
    return answer["Attributes"]


async def read_item(client: DynamoDBClient, table: str, todo_id: int) -> Mapping[str, Any] | None:
    """The stored todo item, read strongly consistent, or None."""
    answer = await client.get_item(TableName=table, Key=items.key(todo_id), ConsistentRead=True)
    return answer.get("Item")
