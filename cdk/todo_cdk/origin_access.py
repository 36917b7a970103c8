"""VpcOriginAccess: the ALB admits CloudFront's VPC origin, by the security group it runs in.

CloudFront connects to a VPC origin from network interfaces in a security group it creates in
the VPC, `CloudFront-VPCOrigins-Service-SG`, not from a VPC address we could write as a CIDR.
The other documented source, the managed prefix list com.amazonaws.global.cloudfront.origin-facing,
admits every distribution of every account and weighs dozens of rules against the security
group's quota; the group admits this VPC's origins alone, as one rule. CloudFormation does not
return its id, so a custom resource reads it at deploy time (synthesis stays offline).
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_ec2 as ec2
from aws_cdk import custom_resources as cr
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

VPC_ORIGINS_GROUP_NAME: Final = "CloudFront-VPCOrigins-Service-SG"


class VpcOriginAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        distribution: cloudfront.Distribution,
        target: ec2.IConnectable,
        port: int,
    ) -> None:
        super().__init__(scope, construct_id)
        lookup = cr.AwsCustomResource(
            self,
            "FindGroup",
            on_create=cr.AwsSdkCall(
                service="ec2",
                action="describeSecurityGroups",
                parameters={
                    "Filters": [
                        {"Name": "vpc-id", "Values": [vpc.vpc_id]},
                        {"Name": "group-name", "Values": [VPC_ORIGINS_GROUP_NAME]},
                    ]
                },
                physical_resource_id=cr.PhysicalResourceId.of(VPC_ORIGINS_GROUP_NAME),
                output_paths=["SecurityGroups.0.GroupId"],
            ),
            # DescribeSecurityGroups has no resource-level permissions: "*" is its only scope.
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(
                resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE
            ),
            # The SDK bundled with the function: no download from npm during a deployment.
            install_latest_aws_sdk=False,
        )
        # CloudFront creates the group with the VPC origin, so it exists once the distribution does.
        lookup.node.add_dependency(distribution)
        self.group = ec2.SecurityGroup.from_security_group_id(
            self, "Group", lookup.get_response_field("SecurityGroups.0.GroupId")
        )
        target.connections.allow_from(
            self.group, ec2.Port.tcp(port), "HTTP from the CloudFront VPC origin only"
        )
        NagSuppressions.add_resource_suppressions(
            lookup,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    applies_to=["Resource::*"],
                    reason="ec2:DescribeSecurityGroups, the one action this lookup may call, "
                    "supports no resource-level permissions.",
                )
            ],
            apply_to_children=True,
        )
        # CDK's function behind every AwsCustomResource: a singleton at the stack's top level.
        stack_singletons = [
            child
            for child in cdk.Stack.of(self).node.children
            if child.node.id.startswith("AWS679f53fac002430cb0da5b7982bd2287")
        ]
        NagSuppressions.add_resource_suppressions(
            stack_singletons,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole"
                    ],
                    reason="CDK's AwsCustomResource function writes its own logs with the "
                    "standard Lambda logging policy, and nothing else.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason="The runtime of CDK's AwsCustomResource function is chosen by "
                    "aws-cdk-lib and moves forward with it; it runs only during deployments.",
                ),
            ],
            apply_to_children=True,
        )
