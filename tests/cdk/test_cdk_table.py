"""TodoTable: declared from the service's own table definition, and hard to lose."""

from __future__ import annotations

from aws_cdk.assertions import Template

from todo_service.store.table import (
    DEFAULT_TABLE_NAME,
    IDEMPOTENCY_PARTITION_KEY,
    IDEMPOTENCY_TABLE_SUFFIX,
    IDEMPOTENCY_TTL_ATTRIBUTE,
    PARTITION_KEY,
    create_idempotency_table_request,
    create_table_request,
    owner_index,
)

from .cli import REGION
from .templates import Synthesized, container_environment, table_keyed_by


def test_key_schema_owner_index_and_billing_are_the_ones_create_table_uses(
    synthesized_each_mode: Synthesized,
) -> None:
    _, table = table_keyed_by(synthesized_each_mode, PARTITION_KEY)
    request = create_table_request("any-name")
    props = table["Properties"]
    assert (
        props["KeySchema"] == request["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    )
    assert props["AttributeDefinitions"] == request["AttributeDefinitions"]
    assert props["AttributeDefinitions"] == [
        {"AttributeName": "id", "AttributeType": "N"},
        {"AttributeName": "owner", "AttributeType": "S"},
    ]
    assert props["BillingMode"] == request["BillingMode"] == "PAY_PER_REQUEST"
    # The one index, exactly as create-table makes it: in both modes, so that switching the
    # mode of a deployed stack never drops (and later rebuilds) it.
    assert props["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"] == [owner_index()]
    assert props["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "byOwner",
            "KeySchema": [
                {"AttributeName": "owner", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ]
    assert "LocalSecondaryIndexes" not in props


def test_idempotency_table_has_no_index(synthesized: Synthesized) -> None:
    _, table = table_keyed_by(synthesized, IDEMPOTENCY_PARTITION_KEY)
    assert "GlobalSecondaryIndexes" not in table["Properties"]
    assert "LocalSecondaryIndexes" not in table["Properties"]


def test_table_has_point_in_time_recovery_encryption_and_deletion_protection(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    )


def test_table_is_retained_when_the_stack_is_deleted_or_the_table_replaced(
    template: Template,
) -> None:
    template.has_resource(
        "AWS::DynamoDB::Table", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    )


def test_table_is_named_todotable_as_the_workshop_and_given_to_the_tasks(
    synthesized: Synthesized,
) -> None:
    table_id, table = table_keyed_by(synthesized, PARTITION_KEY)
    # The data file and the AWS CLI address the table by the workshop's name.
    assert table["Properties"]["TableName"] == DEFAULT_TABLE_NAME
    assert container_environment(synthesized)["TODO_TABLE_NAME"] == {"Ref": table_id}
    outputs = synthesized.template.find_outputs("*")
    # What loading the data file into the deployed table needs (docs/deploy.md).
    assert outputs["TableName"]["Value"] == {"Ref": table_id}
    assert outputs["Region"]["Value"] == REGION


def test_idempotency_table_is_named_after_the_todo_table_with_its_key_and_ttl(
    synthesized: Synthesized,
) -> None:
    todo_id, _ = table_keyed_by(synthesized, PARTITION_KEY)
    _, table = table_keyed_by(synthesized, IDEMPOTENCY_PARTITION_KEY)
    props = table["Properties"]
    request = create_idempotency_table_request("any-name")
    assert props["KeySchema"] == request["KeySchema"]
    assert props["AttributeDefinitions"] == request["AttributeDefinitions"]
    assert props["BillingMode"] == request["BillingMode"]
    # The service derives this name from TODO_TABLE_NAME: it must be exactly <todo>-idempotency.
    assert props["TableName"] == {"Fn::Join": ["", [{"Ref": todo_id}, IDEMPOTENCY_TABLE_SUFFIX]]}
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": IDEMPOTENCY_TTL_ATTRIBUTE,
        "Enabled": True,
    }
