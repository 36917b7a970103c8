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
# The IAM actions for exactly the DynamoDB operations the service calls at run time. Both the
# task role and the VPC endpoint policy grant these and nothing else.
SERVICE_ACTIONS: Final = tuple(
    sorted(f"dynamodb:{operation}" for operation in definition.SERVICE_OPERATIONS)
)


class TodoTable(Construct):
    """The todo table: key schema and billing from `todo_service.store.table`, kept safe from loss.

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

    @property
    def table_name(self) -> str:
        return self.table.table_name

    def service_access(self, principals: Sequence[iam.IPrincipal] = ()) -> iam.PolicyStatement:
        """Allow the service's operations on its two tables alone.

        The tables have no secondary indexes (see `todo_service.store.table`), so their ARNs are the
        whole resource list: no `index/*` pattern, no wildcard.
        """
        return iam.PolicyStatement(
            sid="TodoServiceTableAccess",
            principals=list(principals) or None,
            actions=list(SERVICE_ACTIONS),
            resources=[self.table.table_arn, self.idempotency_table.table_arn],
        )
