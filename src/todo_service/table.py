"""The one definition of the todo table: its name, key schema and billing.

`todo-service create-table`, the tests and the CDK stack all read these constants, so the
table that is created locally is the table that is deployed. This module imports nothing
beyond the standard library on purpose: the CDK app imports it without the service's
dependencies installed.
"""

from __future__ import annotations

from typing import Any, Final

DEFAULT_TABLE_NAME: Final = "TodoTable"
PARTITION_KEY: Final = "id"
# DynamoDB's scalar type letter: "N" is NUMBER, as the workshop specifies.
PARTITION_KEY_TYPE: Final = "N"
BILLING_MODE: Final = "PAY_PER_REQUEST"


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable parameters for the todo table (on-demand, no secondary indexes)."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": PARTITION_KEY, "AttributeType": PARTITION_KEY_TYPE}
        ],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "BillingMode": BILLING_MODE,
    }
