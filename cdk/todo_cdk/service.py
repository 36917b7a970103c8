"""TodoApiService: the API on ECS Fargate behind an internal Application Load Balancer."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from .collector import COLLECTOR_CPU_UNITS, LOOPBACK, OTLP_HTTP_PORT, TelemetryCollector
from .network import TodoNetwork
from .table import TodoTable
from .user_pool import TodoUserPool

# The Dockerfile's TODO_PORT and EXPOSE.
CONTAINER_PORT: Final = 8080
LISTENER_PORT: Final = 80
HEALTH_CHECK_PATH: Final = "/healthz"
# A quarter of a vCPU for the API and its telemetry sidecar together (collector.py gives the
# sidecar COLLECTOR_CPU_UNITS of it by weight); 1 GiB because the sidecar needs its own
# memory and Fargate pairs 256 CPU units with 512, 1024 or 2048 MiB only.
TASK_CPU_UNITS: Final = 256
TASK_MEMORY_MIB: Final = 1024
API_CPU_UNITS: Final = TASK_CPU_UNITS - COLLECTOR_CPU_UNITS
# TODO_MAX_IN_FLIGHT: the requests one worker works on at once before it sheds load with
# 503 overloaded. Derived from the task's CPU (TASK_CPU_UNITS, one worker per task): a
# quarter of a core reaches its throughput with about this many requests in flight, and more
# only queue; measured in bench/README.md. A larger task needs a new measurement.
MAX_IN_FLIGHT_PER_WORKER: Final = 24
SCALE_ON_CPU_PERCENT: Final = 60
# Health checks fail a task only after about 45 s of consecutive failures (3 checks 15 s
# apart), on both the ALB and the container side: /healthz is answered outside the in-flight
# bound, so a task that is only busy keeps answering it, and a few slow answers under a
# surge never get a busy task replaced (docs/operations.md, "When every task is saturated").
HEALTH_CHECK_INTERVAL_S: Final = 15
HEALTH_CHECK_TIMEOUT_S: Final = 5
HEALTH_CHECK_FAILURES: Final = 3
# ECS ignores the Dockerfile's HEALTHCHECK; the task's own check runs the image's Python (it
# has no curl) against the liveness route, so a wedged process is replaced, not only drained.
# Its own timeout stays under ECS's, so a slow answer is a failed check, not a killed one.
CONTAINER_HEALTH_COMMAND: Final = (
    "python",
    "-c",
    "import urllib.request; "
    f"urllib.request.urlopen('http://127.0.0.1:{CONTAINER_PORT}{HEALTH_CHECK_PATH}', "
    f"timeout={HEALTH_CHECK_TIMEOUT_S - 1})",
)
# The tasks' OpenTelemetry SDK, by its standard variables: OTLP/HTTP to the sidecar on the
# task's loopback (collector.py), which sends the spans on to X-Ray. `traceidratio`, not
# `parentbased_traceidratio`: CloudFront passes viewers' headers on, so an incoming
# traceparent is continued but never decides whether a request is traced.
OTEL_SERVICE_NAME: Final = "todo-service"
# Between SIGTERM and SIGKILL. The server takes up to SHUTDOWN_GRACE_S (10 s, run/server.py)
# to finish in-flight requests; ECS's default of 30 s is explicit here, so that a change on
# either side is a visible decision (tests/cdk check it stays above the grace).
STOP_TIMEOUT_S: Final = 30
# The Dockerfile's `todo` user (uid and gid 10001), restated so the task definition itself
# shows it never runs as root (Control Tower's CT.ECS.PR.3), whatever the image says.
CONTAINER_USER: Final = "10001:10001"
# The cursor key is checked for at least 16 characters at start; 64 leaves no doubt.
CURSOR_SECRET_LENGTH: Final = 64
# Never part of the image: the synth output (which lives under cdk/ and would be staged
# into itself), the local environments (.tools holds the validators' venvs, over 1 GB) and
# history. The repository's .dockerignore, which CDK also honours, lists everything else the
# image leaves out.
IMAGE_CONTEXT_EXCLUDES: Final = ("cdk", "cdk.out", ".venv*", ".tools", "node_modules", ".git")


def tracing_environment(sample_rate: float) -> dict[str, str]:
    """The OTEL_* variables of the API container: trace `sample_rate` of the requests."""
    return {
        "OTEL_SERVICE_NAME": OTEL_SERVICE_NAME,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{LOOPBACK}:{OTLP_HTTP_PORT}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": str(sample_rate),
    }


def auth_environment(user_pool: TodoUserPool | None) -> dict[str, str]:
    """TODO_AUTH and the pool the tokens come from (settings.py reads these names).

    The mode is always explicit, so the task never depends on the service's default. In
    cognito mode the tasks fetch the pool's keys from Cognito's public endpoint,
    https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json, over HTTPS
    through the NAT gateways (the tasks' security group lets all traffic out). The NAT is
    there anyway for ECR, CloudWatch Logs and Secrets Manager; an interface endpoint for
    cognito-idp would cost about $15 a month for about one fetch per task (the keys are cached).
    """
    if user_pool is None:
        return {"TODO_AUTH": "none"}
    return {
        "TODO_AUTH": "cognito",
        "TODO_COGNITO_USER_POOL_ID": user_pool.user_pool_id,
        "TODO_COGNITO_CLIENT_ID": user_pool.client_id,
    }


class TodoApiService(Construct):
    """At least two tasks across the two AZs, scaled on CPU, logging to CloudWatch.

    The load balancer is internal: CloudFront reaches it through a VPC origin, so the API has
    no address on the internet and answers only through the distribution, over HTTPS.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: TodoNetwork,
        table: TodoTable,
        image_directory: Path,
        base_image: str | None,
        min_tasks: int,
        max_tasks: int,
        access_log_bucket: s3.IBucket,
        user_pool: TodoUserPool | None,
        trace_sample_rate: float,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc = network.vpc
        private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        # Several tasks serve one table, so they must share the key that signs list cursors:
        # a cursor issued by one task is then accepted by all of them.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="todo-service: the key that signs list cursors (TODO_CURSOR_SECRET)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=CURSOR_SECRET_LENGTH, exclude_punctuation=True
            ),
        )

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

        # The task role holds the service's DynamoDB permissions and the collector's
        # (collector.py), nothing else.
        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="todo-service tasks: the DynamoDB operations the service calls, "
            "and the collector's metrics and traces",
        )
        for statement in table.service_access():
            self.task_role.add_to_policy(statement)

        task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=TASK_CPU_UNITS,
            memory_limit_mib=TASK_MEMORY_MIB,
            task_role=self.task_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        image = ecr_assets.DockerImageAsset(
            self,
            "Image",
            directory=str(image_directory),
            # The platform of the tasks, whatever machine runs `cdk deploy`.
            platform=ecr_assets.Platform.LINUX_AMD64,
            build_args={"BASE_IMAGE": base_image} if base_image else None,
            exclude=list(IMAGE_CONTEXT_EXCLUDES),
        )
        self.api_container = task_definition.add_container(
            "Api",
            image=ecs.ContainerImage.from_docker_image_asset(image),
            port_mappings=[ecs.PortMapping(container_port=CONTAINER_PORT)],
            environment={
                "TODO_TABLE_NAME": table.table_name,
                "AWS_REGION": cdk.Stack.of(self).region,
                # No TODO_CORS_ORIGINS: the page and the API share CloudFront's origin.
                **auth_environment(user_pool),
                "TODO_MAX_IN_FLIGHT": str(MAX_IN_FLIGHT_PER_WORKER),
                **tracing_environment(trace_sample_rate),
            },
            cpu=API_CPU_UNITS,
            secrets={"TODO_CURSOR_SECRET": ecs.Secret.from_secrets_manager(self.cursor_secret)},
            logging=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=self.log_group),
            health_check=ecs.HealthCheck(
                command=["CMD", *CONTAINER_HEALTH_COMMAND],
                interval=cdk.Duration.seconds(HEALTH_CHECK_INTERVAL_S),
                timeout=cdk.Duration.seconds(HEALTH_CHECK_TIMEOUT_S),
                retries=HEALTH_CHECK_FAILURES,
                start_period=cdk.Duration.seconds(10),
            ),
            stop_timeout=cdk.Duration.seconds(STOP_TIMEOUT_S),
            user=CONTAINER_USER,
        )
        self.collector = TelemetryCollector(
            self,
            "Collector",
            task_definition=task_definition,
            container_port=CONTAINER_PORT,
            application_log_group=self.log_group,
        )

        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=task_definition,
            desired_count=min_tasks,
            vpc_subnets=private_subnets,
            assign_public_ip=False,
            # Replace tasks before stopping old ones, and roll back a deployment that never
            # becomes healthy instead of retrying it for hours.
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            health_check_grace_period=cdk.Duration.seconds(30),
        )

        alb_security_group = ec2.SecurityGroup(
            self,
            "LoadBalancerSecurityGroup",
            vpc=vpc,
            description="todo-service ALB: HTTP from the CloudFront VPC origin only",
            allow_all_outbound=False,
        )
        # Its one ingress rule admits CloudFront's VPC origin group (origin_access.py), which
        # exists only once the distribution does.
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=False,
            vpc_subnets=private_subnets,
            security_group=alb_security_group,
            drop_invalid_header_fields=True,
        )
        self.load_balancer.log_access_logs(access_log_bucket, prefix="alb")
        listener = self.load_balancer.add_listener(
            "Http", port=LISTENER_PORT, protocol=elbv2.ApplicationProtocol.HTTP, open=False
        )
        self.target_group = listener.add_targets(
            "Api",
            port=CONTAINER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.service],
            health_check=elbv2.HealthCheck(
                path=HEALTH_CHECK_PATH,
                healthy_http_codes="200",
                interval=cdk.Duration.seconds(HEALTH_CHECK_INTERVAL_S),
                timeout=cdk.Duration.seconds(HEALTH_CHECK_TIMEOUT_S),
                healthy_threshold_count=2,
                unhealthy_threshold_count=HEALTH_CHECK_FAILURES,
            ),
            # Each request goes to the task with the fewest requests in flight: a task that
            # is slow (a cold start, a long scan) gets less, not an equal share, and the
            # in-flight bound is reached as late as possible on every task at once.
            load_balancing_algorithm_type=(
                elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS
            ),
            # Requests finish within the DynamoDB deadline; 300 s (the default) only slows deploys.
            deregistration_delay=cdk.Duration.seconds(30),
        )

        self.min_tasks = min_tasks
        self.max_tasks = max_tasks
        scaling = self.service.auto_scale_task_count(min_capacity=min_tasks, max_capacity=max_tasks)
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=SCALE_ON_CPU_PERCENT,
            scale_in_cooldown=cdk.Duration.seconds(120),
            scale_out_cooldown=cdk.Duration.seconds(60),
        )

        NagSuppressions.add_resource_suppressions(
            task_definition,
            [
                NagPackSuppression(
                    id="AwsSolutions-ECS2",
                    reason="The environment holds only the table name, the region, the "
                    "auth mode with the user pool and app client ids, the in-flight bound, the "
                    "OTEL_* tracing settings and the collector's configuration, none of them "
                    "secret; the one secret, TODO_CURSOR_SECRET, comes from Secrets Manager.",
                )
            ],
        )
        NagSuppressions.add_resource_suppressions(
            self.task_role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    applies_to=["Resource::*"],
                    reason="xray:PutTraceSegments, which the collector calls to send the "
                    "sampled traces, supports no resource-level permissions.",
                )
            ],
            apply_to_children=True,
        )
        NagSuppressions.add_resource_suppressions(
            task_definition.obtain_execution_role(),
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    applies_to=["Resource::*"],
                    reason="ecr:GetAuthorizationToken, which ECS needs to pull the image, has "
                    "no resource to scope to; the pull itself is limited to the asset repository.",
                )
            ],
            apply_to_children=True,
        )
        NagSuppressions.add_resource_suppressions(
            self.cursor_secret,
            [
                NagPackSuppression(
                    id="AwsSolutions-SMG4",
                    reason="The cursor key is shared with no other system and tasks read it "
                    "only at start, so a scheduled rotation would not reach running tasks; "
                    "rotate by replacing the secret and redeploying (old cursors then fail "
                    "with 400 invalid_cursor, which the API documents).",
                )
            ],
        )
