"""`create-table`: make sure the service's tables exist and are ACTIVE (idempotent).

A todo table made by an earlier version has no owner index: it is added with UpdateTable
(DynamoDB backfills it from the existing items, in the background).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from todo_service.store.calls import error_code
from todo_service.store.table import (
    IDEMPOTENCY_TTL_ATTRIBUTE,
    OWNER_INDEX,
    create_idempotency_table_request,
    create_table_request,
    idempotency_table_name,
    owner_index,
    owner_index_status,
)

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

# DynamoDB takes seconds to make an on-demand table ACTIVE; emulators take none.
WAIT_DELAY_S: Final = 1
WAIT_MAX_ATTEMPTS: Final = 120
# dynalite implements DescribeTimeToLive but not UpdateTimeToLive. Expired records are
# ignored by the service itself (see store/idempotency.py), so time to live only saves space.
_TTL_UNSUPPORTED: Final = "UnknownOperationException"


async def ensure_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the todo table and its idempotency table unless they exist, wait until both
    are ACTIVE and time to live is on. True if the todo table was created."""
    created = await _ensure(client, create_table_request(table_name))
    if not created:
        await _ensure_owner_index(client, table_name)
    await _ensure(client, create_idempotency_table_request(table_name))
    await _enable_time_to_live(client, idempotency_table_name(table_name))
    return created


async def delete_tables(client: DynamoDBClient, table_name: str) -> None:
    """Delete the todo table and its idempotency table (the tests' clean-up)."""
    for name in (table_name, idempotency_table_name(table_name)):
        try:
            await client.delete_table(TableName=name)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise


async def _ensure(client: DynamoDBClient, request: dict[str, Any]) -> bool:
    table_name = request["TableName"]
    try:
        await client.create_table(**request)
        created = True
    except ClientError as error:
        if error_code(error) != "ResourceInUseException":
            raise
        created = False
    waiter = client.get_waiter("table_exists")
    await waiter.wait(
        TableName=table_name,
        WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_MAX_ATTEMPTS},
    )
    log.info("table %s %s and ACTIVE", table_name, "created" if created else "exists")
    return created


async def _ensure_owner_index(client: DynamoDBClient, table_name: str) -> None:
    """Add the owner index to a table that lacks it, and wait until it is ACTIVE."""
    for _ in range(WAIT_MAX_ATTEMPTS):
        table = (await client.describe_table(TableName=table_name))["Table"]
        status = owner_index_status(table)
        if status is None:
            await client.update_table(
                TableName=table_name,
                # The new index's key attributes, both of them (DynamoDB requires it).
                AttributeDefinitions=create_table_request(table_name)["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": owner_index()}],  # type: ignore[typeddict-item]
            )
            log.info("table %s: adding index %s", table_name, OWNER_INDEX)
        elif status == "ACTIVE":
            return
        await asyncio.sleep(WAIT_DELAY_S)
    raise TimeoutError(f"index {OWNER_INDEX} of table {table_name} did not become ACTIVE")


async def _enable_time_to_live(client: DynamoDBClient, table_name: str) -> None:
    answer = await client.describe_time_to_live(TableName=table_name)
    if answer.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    try:
        await client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE},
        )
    except ClientError as error:
        if error_code(error) != _TTL_UNSUPPORTED:
            raise
        log.info("this DynamoDB server has no time to live; %s keeps expired records", table_name)
