"""TodoTable: the DynamoDB table, declared from the service's own table definition."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from todo_service.store import table as definition

# DynamoDB's scalar type letters, as `todo_service.store.table` writes them, and CDK's names.
_ATTRIBUTE_TYPES: Final = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


def _actions(operations: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(f"dynamodb:{operation}" for operation in operations))


# The IAM actions for exactly the DynamoDB operations the service calls at run time, split by
# the resource they act on. Both the task role and the VPC endpoint policy grant these and
# nothing else: the table operations on the two tables, Query on the owner index alone.
TABLE_ACTIONS: Final = _actions(definition.TABLE_OPERATIONS)
OWNER_INDEX_ACTIONS: Final = _actions(definition.OWNER_INDEX_OPERATIONS)


class TodoTable(Construct):
    """The todo table: keys, index and billing from `todo_service.store.table`, kept from loss.

    `table_name=None` lets CloudFormation name it. The table outlives its stack (retain and
    deletion protection), so with a fixed name the old table must be removed before the stack
    is created again; the stack still defaults to the workshop's fixed `TodoTable` (stack.py).
    """

    def __init__(self, scope: Construct, construct_id: str, *, table_name: str | None) -> None:
        super().__init__(scope, construct_id)
        # Only the service's constants decide the key and billing: a change there changes the
        # deployed table too.
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(
                name=definition.PARTITION_KEY,
                type=_ATTRIBUTE_TYPES[definition.PARTITION_KEY_TYPE],
            ),
            billing_mode=dynamodb.BillingMode[definition.BILLING_MODE],
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # The account's AWS-managed KMS key (aws/dynamodb): its use shows in CloudTrail and
            # there is no key to manage (DynamoDB caches the data key, so KMS calls are few).
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.owner_index_arn = self._add_owner_index()
        # Idempotency-Key records (see `todo_service.store.table`): named after the todo table, as
        # the service derives it, and emptied by DynamoDB's TTL. They only matter for a day,
        # so the table goes with the stack; PITR and encryption still apply to user data.
        self.idempotency_table = dynamodb.Table(
            self,
            "IdempotencyTable",
            table_name=definition.idempotency_table_name(self.table.table_name),
            partition_key=dynamodb.Attribute(
                name=definition.IDEMPOTENCY_PARTITION_KEY,
                type=_ATTRIBUTE_TYPES[definition.IDEMPOTENCY_PARTITION_KEY_TYPE],
            ),
            billing_mode=dynamodb.BillingMode[definition.BILLING_MODE],
            time_to_live_attribute=definition.IDEMPOTENCY_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

    def _add_owner_index(self) -> str:
        """Declare the owner index exactly as `create-table` creates it; return its ARN.

        Names, key schema, attribute types and projection are all read from `owner_index()`
        and `create_table_request()`, so the deployed index is the one the tests run against.
        On an existing stack CloudFormation adds it in place; DynamoDB backfills it from the
        table (todos without an `owner` are left out: the index is sparse).
        """
        index = definition.owner_index()
        attribute_types = {
            attribute["AttributeName"]: attribute["AttributeType"]
            for attribute in definition.create_table_request("any")["AttributeDefinitions"]
        }
        keys = {key["KeyType"]: key["AttributeName"] for key in index["KeySchema"]}

        def key(role: str) -> dynamodb.Attribute:
            name = keys[role]
            return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[attribute_types[name]])

        projection = index["Projection"]
        self.table.add_global_secondary_index(
            index_name=index["IndexName"],
            partition_key=key("HASH"),
            sort_key=key("RANGE"),
            projection_type=dynamodb.ProjectionType[projection["ProjectionType"]],
            non_key_attributes=projection.get("NonKeyAttributes"),
        )
        # IAM names an index as <table ARN>/index/<name>: Query is granted on this alone.
        return f"{self.table.table_arn}/index/{index['IndexName']}"

    @property
    def table_name(self) -> str:
        return self.table.table_name

    def service_access(
        self, principals: Sequence[iam.IPrincipal] = ()
    ) -> tuple[iam.PolicyStatement, iam.PolicyStatement]:
        """Allow the service's operations on its own resources alone, each on its own.

        The table operations on the two tables' ARNs; Query on the owner index's ARN only (a
        Query on an index is authorized against the index, not the table). No `index/*`
        pattern, no wildcard: an index added later gets no access until it is named here.
        """
        who = list(principals) or None
        return (
            iam.PolicyStatement(
                sid="TodoServiceTableAccess",
                principals=who,
                actions=list(TABLE_ACTIONS),
                resources=[self.table.table_arn, self.idempotency_table.table_arn],
            ),
            iam.PolicyStatement(
                sid="TodoServiceOwnerIndexQuery",
                principals=who,
                actions=list(OWNER_INDEX_ACTIONS),
                resources=[self.owner_index_arn],
            ),
        )
