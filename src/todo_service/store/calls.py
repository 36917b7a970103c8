"""How the store calls DynamoDB: one deadline, one translation of failures, one conditional update.

Both repositories (`todos.py` and `idempotency.py`) make their calls inside `guarded(...)`, so
a slow, unreachable or throttling DynamoDB becomes the same `BackendUnavailable` (503 with
Retry-After) wherever it happens, and botocore's `ClientError` never leaves the store except
for the codes a caller handles itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
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


@contextlib.asynccontextmanager
async def guarded(timeout_s: float, tables: str) -> AsyncIterator[None]:
    """Bound DynamoDB calls by one deadline and turn transport trouble into domain errors.

    `tables` names the tables the calls use, for the message when one does not exist.
    """
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError:
        raise BackendUnavailable(f"DynamoDB did not answer within {timeout_s:g} s") from None
    except ClientError as error:
        code = error_code(error)
        if code in THROTTLING_CODES:
            raise BackendUnavailable("DynamoDB is throttling requests") from error
        if code == "ResourceNotFoundException":
            raise BackendUnavailable(f"table {tables} does not exist") from error
        raise
    except NoCredentialsError as error:
        raise BackendUnavailable("no AWS credentials are configured") from error
    except (BotoCoreError, aiohttp.ClientError, OSError) as error:
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
