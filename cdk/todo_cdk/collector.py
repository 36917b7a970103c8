"""The telemetry sidecar: an AWS Distro for OpenTelemetry collector in every API task.

One container does both jobs the tasks need (docs/operations.md says why this and not EMF
written by the service itself):

- it scrapes the service's Prometheus `/metrics` on the task's loopback and writes the
  declared families to CloudWatch as embedded-metric-format log events (`awsemf`), keeping
  only bounded dimensions (route templates, operations, error codes), so no request, user or
  task ever becomes a metric of its own;
- it receives the service's OTLP/HTTP traces on 127.0.0.1:4318 and sends them to X-Ray
  (`awsxray`).

`collector_config` is the whole configuration as data; the task passes it in an environment
variable that the collector reads with its `env:` config provider, so the template itself
holds it (and the tests read it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

# The ADOT collector's public image, pinned: a new collector is a reviewed change.
COLLECTOR_IMAGE: Final = "public.ecr.aws/aws-observability/aws-otel-collector:v0.45.1"
# The CloudWatch namespace of the service's own metrics (monitoring.py reads them from here).
METRICS_NAMESPACE: Final = "TodoService"
# Two scrapes a minute: a one-minute alarm period then always holds a sample of each task.
SCRAPE_INTERVAL_S: Final = 30
SCRAPE_TIMEOUT_S: Final = 5
METRICS_PATH: Final = "/metrics"
# Where the service's OTLP/HTTP exporter sends spans (OTEL_EXPORTER_OTLP_ENDPOINT).
OTLP_HTTP_PORT: Final = 4318
LOOPBACK: Final = "127.0.0.1"
# The collector's health_check extension, which the image's /healthcheck binary asks.
HEALTH_PORT: Final = 13133
CONFIG_VARIABLE: Final = "TODO_COLLECTOR_CONFIG"
COLLECTOR_USER: Final = "10001:10001"
# The EMF events only feed CloudWatch metrics, which keep their own 15 months: a week of the
# raw events is enough to debug the pipeline.
METRICS_LOG_RETENTION: Final = logs.RetentionDays.ONE_WEEK
# Fargate shares the task's CPU by these weights under contention (they are not caps): the
# API keeps 7/8 of a busy task. 0.25 vCPU in all (service.py's TASK_CPU_UNITS).
COLLECTOR_CPU_UNITS: Final = 32
# The collector's own hard limit, and the memory_limiter's below it: it sheds telemetry
# before the kernel kills it. Sized for a few hundred series and a 5 % trace sample.
COLLECTOR_MEMORY_MIB: Final = 256
COLLECTOR_MEMORY_LIMITER_MIB: Final = 200
# The only label value derived for CloudWatch: every 5xx status in one class, so 5xx by
# route is one metric per route instead of one per route and status.
SERVER_ERROR_CLASS: Final = "5xx"

# Which metric families reach CloudWatch, and by which dimensions: every dimension is a
# bounded label (route templates incl. "unmatched", DynamoDB operations, the API's error
# codes, the token-refusal reasons). Anything not selected here stays on /metrics only.
# The names match with or without `_total`, whichever the receiver's name normalization does.
METRIC_DECLARATIONS: Final[tuple[Mapping[str, Any], ...]] = (
    {
        "metric_name_selectors": ["^todo_http_requests(_total)?$"],
        # [route, status_class] only exists for 5xx answers (the relabel below).
        "dimensions": [["route"], ["route", "status_class"]],
    },
    {
        "metric_name_selectors": ["^todo_http_request_duration_seconds$"],
        "dimensions": [["route"]],
    },
    {"metric_name_selectors": ["^todo_http_errors(_total)?$"], "dimensions": [["code"]]},
    {"metric_name_selectors": ["^todo_http_in_flight$"], "dimensions": [[]]},
    {
        "metric_name_selectors": [
            "^todo_dynamodb_(calls|errors|retries)(_total)?$",
            "^todo_dynamodb_call_duration_seconds$",
        ],
        "dimensions": [["operation"]],
    },
    {"metric_name_selectors": ["^todo_auth_failures(_total)?$"], "dimensions": [["reason"]]},
)


def collector_config(
    *, container_port: int, metrics_log_group: str, application_log_group: str
) -> dict[str, Any]:
    """The collector's configuration: scrape /metrics to EMF, OTLP traces to X-Ray."""
    scrape = {
        "job_name": "todo-service",
        "scrape_interval": f"{SCRAPE_INTERVAL_S}s",
        "scrape_timeout": f"{SCRAPE_TIMEOUT_S}s",
        "metrics_path": METRICS_PATH,
        "static_configs": [{"targets": [f"{LOOPBACK}:{container_port}"]}],
        # A literal replacement, no "$1": the collector expands "$" in its configuration.
        "metric_relabel_configs": [
            {
                "source_labels": ["status"],
                "regex": "5..",
                "target_label": "status_class",
                "replacement": SERVER_ERROR_CLASS,
            }
        ],
    }
    return {
        "extensions": {"health_check": {"endpoint": f"{LOOPBACK}:{HEALTH_PORT}"}},
        "receivers": {
            "prometheus": {"config": {"scrape_configs": [scrape]}},
            "otlp": {"protocols": {"http": {"endpoint": f"{LOOPBACK}:{OTLP_HTTP_PORT}"}}},
        },
        "processors": {
            "memory_limiter": {
                "check_interval": "1s",
                "limit_mib": COLLECTOR_MEMORY_LIMITER_MIB,
            },
            # The task's id for the log stream name ({TaskId}), from ECS's metadata endpoint.
            "resourcedetection": {"detectors": ["env", "ecs"], "timeout": "2s"},
            # Prometheus counters and histograms are cumulative; CloudWatch wants each
            # period's own count and sum (awsemf does this for sums but not for histograms).
            "cumulativetodelta": {},
            "batch/metrics": {"timeout": "60s"},
            "batch/traces": {"timeout": "1s"},
        },
        "exporters": {
            "awsemf": {
                "namespace": METRICS_NAMESPACE,
                "log_group_name": metrics_log_group,
                "log_stream_name": "{TaskId}",
                # Only the declared dimension sets: no rolled-up extra metrics to pay for.
                "dimension_rollup_option": "NoDimensionRollup",
                "metric_declarations": [dict(d) for d in METRIC_DECLARATIONS],
            },
            # X-Ray links each trace to the API's log group (the access lines carry traceId).
            "awsxray": {"aws_log_groups": [application_log_group]},
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "metrics": {
                    "receivers": ["prometheus"],
                    "processors": [
                        "memory_limiter",
                        "resourcedetection",
                        "cumulativetodelta",
                        "batch/metrics",
                    ],
                    "exporters": ["awsemf"],
                },
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "resourcedetection", "batch/traces"],
                    "exporters": ["awsxray"],
                },
            },
            "telemetry": {"logs": {"level": "warn"}, "metrics": {"level": "none"}},
        },
    }


def collector_access(metrics_log_group: logs.ILogGroup) -> tuple[iam.PolicyStatement, ...]:
    """What the two exporters call, and nothing else.

    awsemf creates its stream ({TaskId}) and puts events into the one metrics log group,
    which the stack creates (so no logs:CreateLogGroup); awsxray calls PutTraceSegments,
    which has no resource to scope to. Telemetry records and sampling rules are not used
    (the service samples by itself), so neither xray:PutTelemetryRecords nor
    xray:GetSamplingRules is granted.
    """
    return (
        iam.PolicyStatement(
            sid="CollectorMetricsToEmf",
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            # The group's ARN ends in ":*", which names its streams.
            resources=[metrics_log_group.log_group_arn],
        ),
        iam.PolicyStatement(
            sid="CollectorTracesToXRay",
            actions=["xray:PutTraceSegments"],
            resources=["*"],
        ),
    )


class TelemetryCollector(Construct):
    """The sidecar container in `task_definition`, its metrics log group and its grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.TaskDefinition,
        container_port: int,
        application_log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.metrics_log_group = logs.LogGroup(
            self,
            "MetricsLogs",
            retention=METRICS_LOG_RETENTION,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.config = collector_config(
            container_port=container_port,
            metrics_log_group=self.metrics_log_group.log_group_name,
            application_log_group=application_log_group.log_group_name,
        )
        self.container = task_definition.add_container(
            "Collector",
            image=ecs.ContainerImage.from_registry(COLLECTOR_IMAGE),
            command=[f"--config=env:{CONFIG_VARIABLE}"],
            # JSON is YAML: the collector reads it as its configuration.
            environment={
                CONFIG_VARIABLE: cdk.Stack.of(self).to_json_string(self.config),
                "AWS_REGION": cdk.Stack.of(self).region,
            },
            # The image is a static binary on `scratch`, root by default; it needs no root (it
            # listens above 1024 and reads only world-readable files), so it runs as the
            # API's unprivileged uid (Control Tower's CT.ECS.PR.3).
            user=COLLECTOR_USER,
            cpu=COLLECTOR_CPU_UNITS,
            memory_limit_mib=COLLECTOR_MEMORY_MIB,
            # Telemetry must never take the API down: a collector that stops leaves gaps in
            # the service's own metrics (the ALB, ECS and DynamoDB alarms still watch).
            essential=False,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix="collector", log_group=application_log_group
            ),
            health_check=ecs.HealthCheck(
                command=["CMD", "/healthcheck"],
                interval=cdk.Duration.seconds(30),
                timeout=cdk.Duration.seconds(5),
                retries=3,
                start_period=cdk.Duration.seconds(15),
            ),
        )
        for statement in collector_access(self.metrics_log_group):
            task_definition.add_to_task_role_policy(statement)
