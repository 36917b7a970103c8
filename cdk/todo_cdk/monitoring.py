"""TodoMonitoring: the main stack's alarms, its SNS topic and the one dashboard.

Built on cdk-monitoring-constructs wherever it covers the resource: the Fargate service with
its load balancer (the unhealthy-target and tasks-at-maximum alarms, the task, CPU, memory,
latency and error widgets), both DynamoDB tables (throttled reads and writes, system errors)
and CloudFront's widgets. Hand-written with its `monitor_custom`, because the library has no
such alarm: the API's 5xx rate and p99 latency at the load balancer, running tasks below the
minimum, the service's own 503 backend_unavailable rate, and every widget of the service's
own metrics (namespace `collector.METRICS_NAMESPACE`). CloudFront's 5xx alarm is in us-east-1
(edge.py). Each alarm's description is its one-line defence, the same as docs/operations.md.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from cdk_monitoring_constructs import (
    CustomMetricGroup,
    CustomMetricSearch,
    CustomMetricWithAlarm,
    CustomThreshold,
    ErrorCountThreshold,
    MetricStatistic,
    MonitoringFacade,
    RunningTaskCountThreshold,
    ThrottledEventsThreshold,
    UnhealthyTaskCountThreshold,
)
from constructs import Construct

from .alarm_topic import alarm_facade, alarm_topic
from .collector import METRICS_NAMESPACE, SERVER_ERROR_CLASS
from .service import TodoApiService
from .table import TodoTable

DASHBOARD_NAME: Final = "TodoService"
ONE_MINUTE: Final = cdk.Duration.minutes(1)
# Below this many requests a minute a rate alarm stays quiet: one failed request of three is
# not an outage, and a rate of so few requests says nothing.
MIN_REQUESTS_PER_MINUTE: Final = 20
SERVER_ERROR_PERCENT: Final = 5
LATENCY_P99_S: Final = 1
BACKEND_UNAVAILABLE_PERCENT: Final = 1
# CloudFront's metrics are published in us-east-1 only, whatever the stack's region.
CLOUDFRONT_METRICS_REGION: Final = "us-east-1"

# The one-line defence of each alarm: its description in CloudWatch and its row in
# docs/operations.md (tests/cdk check that the two say the same).
REASONS: Final = {
    "ServerErrorRate": (
        f"More than {SERVER_ERROR_PERCENT}% of the API's answers at the load balancer were 5xx "
        "for 3 minutes in a row (with at least "
        f"{MIN_REQUESTS_PER_MINUTE} requests a minute): users are failing, not a blip; no "
        "traffic is no error (missing data is OK)."
    ),
    "LatencyP99": (
        f"The API's p99 at the load balancer was over {LATENCY_P99_S} s for 5 minutes in a row: "
        "normal answers take milliseconds and DynamoDB's deadline is 5 s, so users wait; "
        "minutes with too few requests for a p99 are not judged."
    ),
    "UnhealthyTargets": (
        "At least one task failed the load balancer's /healthz check for 3 minutes in a row: "
        "a deployment replaces tasks within that time, a wedged task does not; no data means "
        "no target group, which the other alarms see."
    ),
    "TasksBelowMinimum": (
        "Fewer tasks ran than the minimum for 5 minutes in a row: capacity or an AZ is lost "
        "(a deployment keeps 100% running); no data means nothing runs, so it alarms."
    ),
    "TasksAtMaximum": (
        "Autoscaling held the task count at its maximum for 15 minutes: CPU stays above "
        "target with no room to scale, so the tasks shed load next; raise todo:maxTasks."
    ),
    "ReadThrottles": (
        "DynamoDB throttled reads in 3 of 5 minutes: on-demand only throttles past twice the "
        "previous peak or a per-partition limit, and each throttle is a retried, slower "
        "request; no data means no throttle."
    ),
    "WriteThrottles": (
        "DynamoDB throttled writes in 3 of 5 minutes: on-demand only throttles past twice the "
        "previous peak or a per-partition limit, and each throttle is a retried, slower "
        "request; no data means no throttle."
    ),
    "SystemErrors": (
        "DynamoDB answered 500s in 3 of 5 minutes: its own failure, retried by the SDK but "
        "felt by users when it lasts; no data means no error."
    ),
    "BackendUnavailable": (
        f"More than {BACKEND_UNAVAILABLE_PERCENT}% of requests got 503 backend_unavailable "
        "(DynamoDB unreachable or past the deadline) for 3 minutes in a row, at least "
        f"{MIN_REQUESTS_PER_MINUTE} a minute; missing data is OK, and the 5xx alarm is the "
        "backstop if the collector itself stops."
    ),
}


def service_metric(
    metric_name: str,
    dimensions: dict[str, str] | None = None,
    statistic: str = "Sum",
) -> cloudwatch.Metric:
    """One of the service's own metrics, as the collector writes it."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dimensions,
        statistic=statistic,
        period=ONE_MINUTE,
    )


def by_dimension(
    metric_name: str,
    dimension: str,
    statistic: MetricStatistic,
    fixed: dict[str, str] | None = None,
) -> CustomMetricSearch:
    """A graph line per value of `dimension`, among the series with `fixed` dimension values
    (a CloudWatch SEARCH: dashboards only)."""
    return CustomMetricSearch(
        namespace=METRICS_NAMESPACE,
        search_query=f'MetricName="{metric_name}"',
        dimensions_map={dimension: "*", **(fixed or {})},
        statistic=statistic,
        label="",
        period=ONE_MINUTE,
    )


def _threshold(
    name: str,
    operator: cloudwatch.ComparisonOperator,
    threshold: float,
    periods: int,
    missing: cloudwatch.TreatMissingData,
    judge_few_samples: bool | None = None,
) -> dict[str, CustomThreshold]:
    """The facade's alarm `name`: `periods` breaching minutes in a row, described by REASONS."""
    return {
        name: CustomThreshold(
            comparison_operator=operator,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data_override=missing,
            evaluate_low_sample_count_percentile=judge_few_samples,
            alarm_description_override=REASONS[name],
        )
    }


class TodoMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: TodoApiService,
        table: TodoTable,
        distribution: cloudfront.IDistribution,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = alarm_topic(self, "AlarmTopic", alarm_email)
        facade = alarm_facade(self, "Monitoring", self.topic, dashboard_name=DASHBOARD_NAME)
        self._monitor_load_balancer(facade, api)
        self._monitor_tasks(facade, api)
        self._monitor_service(facade, api)
        for name, each in (
            ("TodoTable", table.table),
            ("IdempotencyTable", table.idempotency_table),
        ):
            self._monitor_table(facade, name, each)
        facade.monitor_cloud_front_distribution(
            distribution=distribution,
            region=CLOUDFRONT_METRICS_REGION,
            additional_metrics_enabled=False,
            alarm_friendly_name="CloudFront",
        )

    @staticmethod
    def _monitor_load_balancer(facade: MonitoringFacade, api: TodoApiService) -> None:
        metrics = api.load_balancer.metrics
        requests = metrics.request_count(period=ONE_MINUTE, statistic="Sum")
        server_errors = cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {MIN_REQUESTS_PER_MINUTE}, "
                "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests, 0)"
            ),
            using_metrics={
                "requests": requests,
                "target5xx": metrics.http_code_target(
                    cdk.aws_elasticloadbalancingv2.HttpCodeTarget.TARGET_5XX_COUNT,
                    period=ONE_MINUTE,
                    statistic="Sum",
                ),
                "elb5xx": metrics.http_code_elb(
                    cdk.aws_elasticloadbalancingv2.HttpCodeElb.ELB_5XX_COUNT,
                    period=ONE_MINUTE,
                    statistic="Sum",
                ),
            },
            label="5xx % of requests",
            period=ONE_MINUTE,
        )
        latency = metrics.target_response_time(period=ONE_MINUTE, statistic="p99")
        above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ok_when_missing = cloudwatch.TreatMissingData.NOT_BREACHING
        facade.monitor_custom(
            alarm_friendly_name="Api",
            human_readable_name="API at the load balancer",
            metric_groups=[
                CustomMetricGroup(
                    title="5xx rate (ALB and tasks)",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=server_errors,
                            alarm_friendly_name="ServerErrorRate",
                            add_alarm=_threshold(
                                "ServerErrorRate", above, SERVER_ERROR_PERCENT, 3, ok_when_missing
                            ),
                        )
                    ],
                ),
                CustomMetricGroup(
                    title="p99 latency (ALB target response time)",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=latency,
                            alarm_friendly_name="LatencyP99",
                            add_alarm=_threshold(
                                "LatencyP99",
                                above,
                                LATENCY_P99_S,
                                5,
                                ok_when_missing,
                                # A p99 of a handful of requests is noise: keep the state.
                                judge_few_samples=False,
                            ),
                        )
                    ],
                ),
            ],
        )

    @staticmethod
    def _monitor_tasks(facade: MonitoringFacade, api: TodoApiService) -> None:
        facade.monitor_fargate_application_load_balancer(
            fargate_service=api.service,
            application_load_balancer=api.load_balancer,
            application_target_group=api.target_group,
            alarm_friendly_name="Tasks",
            human_readable_name="API tasks (Fargate)",
            min_auto_scaling_task_count=api.min_tasks,
            max_auto_scaling_task_count=api.max_tasks,
            invert_load_balancer_task_count_metrics_statistics=True,
            add_unhealthy_task_count_alarm={
                "UnhealthyTargets": UnhealthyTaskCountThreshold(
                    max_unhealthy_tasks=0,
                    evaluation_periods=3,
                    datapoints_to_alarm=3,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=REASONS["UnhealthyTargets"],
                )
            },
            add_running_task_count_alarm={
                "TasksAtMaximum": RunningTaskCountThreshold(
                    max_running_tasks=api.max_tasks,
                    comparison_operator_override=(
                        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
                    ),
                    evaluation_periods=15,
                    datapoints_to_alarm=15,
                    treat_missing_data_override=cloudwatch.TreatMissingData.NOT_BREACHING,
                    alarm_description_override=REASONS["TasksAtMaximum"],
                )
            },
        )
        running = cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": api.cluster.cluster_name,
                "ServiceName": api.service.service_name,
            },
            statistic="Minimum",
            period=ONE_MINUTE,
        )
        facade.monitor_custom(
            alarm_friendly_name="Capacity",
            human_readable_name="Running tasks against the minimum",
            metric_groups=[
                CustomMetricGroup(
                    title="Running tasks (minimum of each minute)",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=running,
                            alarm_friendly_name="TasksBelowMinimum",
                            add_alarm=_threshold(
                                "TasksBelowMinimum",
                                cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                                api.min_tasks,
                                5,
                                cloudwatch.TreatMissingData.BREACHING,
                            ),
                        )
                    ],
                )
            ],
        )

    @staticmethod
    def _monitor_service(facade: MonitoringFacade, api: TodoApiService) -> None:
        requests = api.load_balancer.metrics.request_count(period=ONE_MINUTE, statistic="Sum")
        backend_unavailable = cloudwatch.MathExpression(
            expression=(
                f"IF(FILL(requests, 0) >= {MIN_REQUESTS_PER_MINUTE}, "
                "100 * FILL(unavailable, 0) / requests, 0)"
            ),
            using_metrics={
                "requests": requests,
                "unavailable": service_metric(
                    "todo_http_errors_total", {"code": "backend_unavailable"}
                ),
            },
            label="backend_unavailable % of requests",
            period=ONE_MINUTE,
        )
        sum_, average = MetricStatistic.SUM, MetricStatistic.AVERAGE
        facade.monitor_custom(
            alarm_friendly_name="Service",
            human_readable_name="todo-service's own metrics (from /metrics)",
            metric_groups=[
                CustomMetricGroup(
                    title="Requests by route",
                    metrics=[by_dimension("todo_http_requests_total", "route", sum_)],
                ),
                CustomMetricGroup(
                    title="5xx answers by route",
                    metrics=[
                        by_dimension(
                            "todo_http_requests_total",
                            "route",
                            sum_,
                            {"status_class": SERVER_ERROR_CLASS},
                        )
                    ],
                ),
                CustomMetricGroup(
                    title="Error answers by code",
                    metrics=[by_dimension("todo_http_errors_total", "code", sum_)],
                ),
                CustomMetricGroup(
                    title="backend_unavailable rate",
                    metrics=[
                        CustomMetricWithAlarm(
                            metric=backend_unavailable,
                            alarm_friendly_name="BackendUnavailable",
                            add_alarm=_threshold(
                                "BackendUnavailable",
                                cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                                BACKEND_UNAVAILABLE_PERCENT,
                                3,
                                cloudwatch.TreatMissingData.NOT_BREACHING,
                            ),
                        )
                    ],
                ),
                CustomMetricGroup(
                    title="Mean latency by route (s)",
                    metrics=[by_dimension("todo_http_request_duration_seconds", "route", average)],
                ),
                CustomMetricGroup(
                    title="Requests in flight (highest task)",
                    metrics=[service_metric("todo_http_in_flight", statistic="Maximum")],
                ),
                CustomMetricGroup(
                    title="DynamoDB calls by operation",
                    metrics=[by_dimension("todo_dynamodb_calls_total", "operation", sum_)],
                ),
                CustomMetricGroup(
                    title="DynamoDB mean call latency by operation (s)",
                    metrics=[
                        by_dimension("todo_dynamodb_call_duration_seconds", "operation", average)
                    ],
                ),
                CustomMetricGroup(
                    title="DynamoDB retries and errors by operation",
                    metrics=[
                        by_dimension("todo_dynamodb_retries_total", "operation", sum_),
                        by_dimension("todo_dynamodb_errors_total", "operation", sum_),
                    ],
                ),
                CustomMetricGroup(
                    title="Refused tokens by reason",
                    metrics=[by_dimension("todo_auth_failures_total", "reason", sum_)],
                ),
            ],
        )

    @staticmethod
    def _monitor_table(facade: MonitoringFacade, name: str, table: dynamodb.ITable) -> None:
        missing = cloudwatch.TreatMissingData.NOT_BREACHING

        def throttled(reason: str) -> dict[str, ThrottledEventsThreshold]:
            return {
                reason: ThrottledEventsThreshold(
                    max_throttled_events_threshold=0,
                    evaluation_periods=5,
                    datapoints_to_alarm=3,
                    treat_missing_data_override=missing,
                    alarm_description_override=REASONS[reason],
                )
            }

        facade.monitor_dynamo_table(
            table=table,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            alarm_friendly_name=name,
            add_read_throttled_events_count_alarm=throttled("ReadThrottles"),
            add_write_throttled_events_count_alarm=throttled("WriteThrottles"),
            add_system_error_count_alarm={
                "SystemErrors": ErrorCountThreshold(
                    max_error_count=0,
                    evaluation_periods=5,
                    datapoints_to_alarm=3,
                    treat_missing_data_override=missing,
                    alarm_description_override=REASONS["SystemErrors"],
                )
            },
        )
