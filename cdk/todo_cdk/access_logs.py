"""AccessLogBucket: one private bucket for the access logs of CloudFront, the ALB, S3, the VPC."""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

LOG_RETENTION_DAYS: Final = 90


class AccessLogBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            # SSE-S3, not KMS: the ALB's log delivery can only write to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            # CloudFront's standard logs are written with an object ACL, which needs ACLs on.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=cdk.Duration.days(LOG_RETENTION_DAYS))],
            # Logs are evidence: they outlive the stack and expire by the rule above.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        NagSuppressions.add_resource_suppressions(
            self.bucket,
            [
                NagPackSuppression(
                    id="AwsSolutions-S1",
                    reason="This is the access-log bucket itself: logging its own access "
                    "into itself would log every log delivery, without end.",
                )
            ],
        )
