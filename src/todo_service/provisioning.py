"""`create-table`: make sure the todo table exists and is ACTIVE (idempotent)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from .table import create_table_request

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

log = logging.getLogger(__name__)

# DynamoDB takes seconds to make an on-demand table ACTIVE; emulators take none.
WAIT_DELAY_S: Final = 1
WAIT_MAX_ATTEMPTS: Final = 120


async def ensure_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the table unless it exists, then wait until it is ACTIVE. True if created."""
    try:
        await client.create_table(**create_table_request(table_name))
        created = True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        created = False
    waiter = client.get_waiter("table_exists")
    await waiter.wait(
        TableName=table_name,
        WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_MAX_ATTEMPTS},
    )
    log.info("table %s %s and ACTIVE", table_name, "created" if created else "exists")
    return created
