"""The one definition of the service's tables: names, key schemas, billing, time to live.

`todo-service create-table`, the tests and the CDK stack all read these constants, so the
tables that are created locally are the tables that are deployed. This module imports nothing
beyond the standard library on purpose: the CDK app imports it without the service's
dependencies installed.

Two tables:

- the todo table (`TodoTable`), keyed by the NUMBER `id`, as the workshop specifies, with one
  global secondary index, `OWNER_INDEX`: partition key `owner` (the Cognito `sub` of the user
  who created the todo with TODO_AUTH=cognito), sort key `id`, all attributes projected. It is
  sparse: todos created with TODO_AUTH=none have no `owner` and are not in it. A user's list
  is a Query on it, newest first (ids grow with time). Like every global secondary index it
  is read eventually consistently;
- its idempotency table (`TodoTable-idempotency`), keyed by the STRING `idempotencyKey`:
  one record per `Idempotency-Key` a client sent with `POST /todos`, expiring after
  `IDEMPOTENCY_TTL_S` through DynamoDB's time to live on `expiresAt`. A separate table keeps
  the todo table's scans (the list) free of records that are not todos.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

DEFAULT_TABLE_NAME: Final = "TodoTable"
PARTITION_KEY: Final = "id"
# DynamoDB's scalar type letter: "N" is NUMBER, as the workshop specifies.
PARTITION_KEY_TYPE: Final = "N"
BILLING_MODE: Final = "PAY_PER_REQUEST"

IDEMPOTENCY_TABLE_SUFFIX: Final = "-idempotency"
IDEMPOTENCY_PARTITION_KEY: Final = "idempotencyKey"
IDEMPOTENCY_PARTITION_KEY_TYPE: Final = "S"
# The attribute DynamoDB's time to live reads (epoch seconds); the CDK stack enables it.
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiresAt"
# How long a retried create is recognised: a day, as common idempotency-key practice.
IDEMPOTENCY_TTL_S: Final = 24 * 60 * 60

OWNER_ATTRIBUTE: Final = "owner"
OWNER_ATTRIBUTE_TYPE: Final = "S"
OWNER_INDEX: Final = "byOwner"

# Every DynamoDB operation the service calls at run time, on the tables and on the index. The
# CDK task role grants exactly these, each on its own resources (the index's ARN for Query
# alone); tests check the sets against the repository's code and against the calls the
# integration suite really makes.
TABLE_OPERATIONS: Final = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "DescribeTable"}
)
OWNER_INDEX_OPERATIONS: Final = frozenset({"Query"})
SERVICE_OPERATIONS: Final = TABLE_OPERATIONS | OWNER_INDEX_OPERATIONS


def idempotency_table_name(table_name: str) -> str:
    """The idempotency table that belongs to the todo table `table_name`."""
    return table_name + IDEMPOTENCY_TABLE_SUFFIX


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable parameters for the todo table (on-demand, with the owner index)."""
    request = _hash_key_table(table_name, PARTITION_KEY, PARTITION_KEY_TYPE)
    request["AttributeDefinitions"].append(
        {"AttributeName": OWNER_ATTRIBUTE, "AttributeType": OWNER_ATTRIBUTE_TYPE}
    )
    request["GlobalSecondaryIndexes"] = [owner_index()]
    return request


def owner_index_status(table: Mapping[str, Any]) -> str | None:
    """The owner index's status in DescribeTable's `Table`, or None if the table has no such
    index. Emulators that omit the status build indexes at once: ACTIVE."""
    for index in table.get("GlobalSecondaryIndexes", []):
        if index.get("IndexName") == OWNER_INDEX:
            return str(index.get("IndexStatus", "ACTIVE"))
    return None


def owner_index() -> dict[str, Any]:
    """The owner index as CreateTable and UpdateTable take it (on-demand: no throughput)."""
    return {
        "IndexName": OWNER_INDEX,
        "KeySchema": [
            {"AttributeName": OWNER_ATTRIBUTE, "KeyType": "HASH"},
            {"AttributeName": PARTITION_KEY, "KeyType": "RANGE"},
        ],
        # The list shows whole todos: projecting them all saves a GetItem per todo listed.
        "Projection": {"ProjectionType": "ALL"},
    }


def create_idempotency_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable parameters for the idempotency table of the todo table `table_name`."""
    return _hash_key_table(
        idempotency_table_name(table_name),
        IDEMPOTENCY_PARTITION_KEY,
        IDEMPOTENCY_PARTITION_KEY_TYPE,
    )


def _hash_key_table(name: str, key: str, key_type: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": key_type}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "BillingMode": BILLING_MODE,
    }
