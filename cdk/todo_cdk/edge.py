"""TodoEdgeStack: CloudFront's 5xx alarm and its own topic, in us-east-1.

CloudFront publishes its metrics in us-east-1 alone, and an alarm can only watch metrics of
its own region, so this stack lives there whatever the main stack's region (assembly.py
deploys both with `cdk deploy --all`). It reads the distribution's id from the main stack
by a cross-stack reference (cdk.json's weak references: Fn::GetStackOutput, no export that
would lock the main stack), so it is deployed after it.
"""

from __future__ import annotations

from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from cdk_monitoring_constructs import CustomMetricGroup, CustomMetricWithAlarm, CustomThreshold
from constructs import Construct

from .alarm_topic import alarm_facade, alarm_topic

EDGE_REGION: Final = "us-east-1"
CLOUDFRONT_5XX_PERCENT: Final = 5
# As for the API's own rate alarms (monitoring.py): too few requests say nothing.
MIN_VIEWER_REQUESTS_PER_MINUTE: Final = 20
CLOUDFRONT_5XX_REASON: Final = (
    f"More than {CLOUDFRONT_5XX_PERCENT}% of viewers' requests got a 5xx from CloudFront for "
    f"3 minutes in a row (at least {MIN_VIEWER_REQUESTS_PER_MINUTE} a minute): it counts what "
    "the load balancer cannot see (the VPC origin unreachable, origin timeouts); no traffic "
    "is no error."
)


class TodoEdgeStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        distribution_id: str,
        alarm_email: str | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = alarm_topic(self, "AlarmTopic", alarm_email)
        # The one dashboard is the main stack's (it shows CloudFront from here too).
        facade = alarm_facade(self, "Monitoring", self.topic, dashboard_name=None)

        def cloudfront_metric(name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/CloudFront",
                metric_name=name,
                dimensions_map={"DistributionId": distribution_id, "Region": "Global"},
                statistic=statistic,
                period=cdk.Duration.minutes(1),
            )

        error_rate = cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {MIN_VIEWER_REQUESTS_PER_MINUTE}, FILL(rate, 0), 0)"
            ),
            using_metrics={
                "requests": cloudfront_metric("Requests", "Sum"),
                "rate": cloudfront_metric("5xxErrorRate", "Average"),
            },
            label="CloudFront 5xx % of requests",
            period=cdk.Duration.minutes(1),
        )
        facade.monitor_custom(
            alarm_friendly_name="CloudFront",
            human_readable_name="CloudFront (the page and the API)",
            metric_groups=[
                CustomMetricGroup(
                    title="5xx error rate",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=error_rate,
                            alarm_friendly_name="CloudFront5xxRate",
                            add_alarm={
                                "CloudFront5xxRate": CustomThreshold(
                                    comparison_operator=(
                                        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
                                    ),
                                    threshold=CLOUDFRONT_5XX_PERCENT,
                                    evaluation_periods=3,
                                    datapoints_to_alarm=3,
                                    treat_missing_data_override=(
                                        cloudwatch.TreatMissingData.NOT_BREACHING
                                    ),
                                    alarm_description_override=CLOUDFRONT_5XX_REASON,
                                )
                            },
                        )
                    ],
                )
            ],
        )
