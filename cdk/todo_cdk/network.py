"""TodoNetwork: the VPC, and the DynamoDB gateway endpoint limited to the service's tables."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .table import TodoTable

AVAILABILITY_ZONES = 2
# A literal range, so that rules on it (the ALB's ingress) are plain text a checker can read.
VPC_CIDR = "10.0.0.0/16"


class TodoNetwork(Construct):
    """Two AZs, each with a public subnet (NAT, nothing else) and a private one (ALB, tasks).

    DynamoDB traffic leaves through the gateway endpoint, never the NAT. The endpoint's policy
    is the second fence after the task role: whatever runs in this VPC may call only the
    service's operations, only on its tables and its index.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: TodoTable,
        nat_gateways: int,
        flow_log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cidr = VPC_CIDR
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=AVAILABILITY_ZONES,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24
                ),
            ],
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_s3(flow_log_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.dynamodb_endpoint = self.vpc.add_gateway_endpoint(
            "DynamoDbEndpoint",
            service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)],
        )
        # An endpoint policy names its principal "*": who may call is the task role's business,
        # what may pass through this endpoint is this policy's.
        for statement in table.service_access([iam.AnyPrincipal()]):
            self.dynamodb_endpoint.add_to_policy(statement)
