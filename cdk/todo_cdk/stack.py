"""TodoServiceStack: the table, the network, the API service and the website, wired together."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from constructs import Construct, Node

from todo_service.store.table import DEFAULT_TABLE_NAME

from .access_logs import AccessLogBucket
from .monitoring import TodoMonitoring
from .network import TodoNetwork
from .origin_access import VpcOriginAccess
from .queries import IncidentQueries
from .service import LISTENER_PORT, TodoApiService
from .table import TodoTable
from .user_pool import TodoUserPool
from .website import TodoWebsite

REPOSITORY_ROOT: Final = Path(__file__).resolve().parents[2]
# Context keys for `cdk deploy -c KEY=VALUE` (or cdk.json), each overriding one default below.
CONTEXT_PREFIX: Final = "todo:"
# `todo:auth`: what the deployed API asks of a caller. The values are the service's TODO_AUTH
# modes (tests/cdk check they stay the same).
AUTH_MODES: Final = ("cognito", "none")
# `todo:waf`: an AWS WAF web ACL in front of CloudFront (waf.py), opt-in for its cost.
WAF_MODES: Final = ("off", "on")
# `todo:signup`: whether anyone may sign up on the page, or only an administrator adds users.
SIGNUP_MODES: Final = ("open", "closed")
# Enough to catch a typo (a missing @ or domain) in `todo:alarmEmail`; SNS and the
# confirmation mail it sends decide the rest.
_EMAIL_PATTERN: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ContextError(ValueError):
    """A `-c todo:...` value the stack cannot use; `cdk synth` reports it in one line."""


@dataclasses.dataclass(frozen=True, slots=True)
class TodoStackProps:
    # The Docker build context, holding the Dockerfile: the repository root.
    image_directory: Path = REPOSITORY_ROOT
    # The static page deployed to the website bucket.
    web_directory: Path = REPOSITORY_ROOT / "web"
    # The Dockerfile's BASE_IMAGE build argument; None keeps the Dockerfile's default.
    base_image: str | None = None
    # One NAT gateway per AZ keeps each AZ's tasks independent of the other AZ; 1 saves ~$36 a
    # month and makes that AZ a shared dependency for image pulls, logs and secrets.
    nat_gateways: int = 2
    min_tasks: int = 2
    max_tasks: int = 6
    # The workshop's name, so that `aws dynamodb batch-write-item --request-items
    # file://data/populate-dynamodb.json` and `todo-service seed` load the deployed table as
    # they are. A retained table keeps its name after `cdk destroy`: delete or rename it (or
    # set `todo:tableName`) before deploying the stack again. "" lets CloudFormation name it.
    table_name: str | None = DEFAULT_TABLE_NAME
    # "cognito": a user pool, and every /todos route needs its access token; each user sees
    # their own list. "none" opts out: no pool, and the API is open to anyone on the internet.
    auth: str = "cognito"
    # Where the alarm topics mail to (monitoring.py, edge.py); None: the topics have no
    # subscriber until one is added (docs/operations.md).
    alarm_email: str | None = None
    # The share of requests the tasks trace (OTEL_TRACES_SAMPLER_ARG), from 0 to 1.
    trace_sample_rate: float = 0.05
    waf: str = "off"
    signup: str = "open"

    @classmethod
    def from_context(cls, node: Node) -> TodoStackProps:
        """The defaults, with any `todo:<field name in camelCase>` context value applied."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            head, *rest = field.name.split("_")
            key = CONTEXT_PREFIX + head + "".join(p.title() for p in rest)
            raw = node.try_get_context(key)
            if raw is None:
                continue
            default = field.default
            if isinstance(default, Path):
                values[field.name] = Path(raw).resolve()
            elif isinstance(default, float):
                try:
                    values[field.name] = float(raw)
                except ValueError:
                    raise ContextError(f"{key}={raw!r} must be a number") from None
            elif isinstance(default, int):
                try:
                    values[field.name] = int(raw)
                except ValueError:
                    raise ContextError(f"{key}={raw!r} must be a whole number") from None
            else:
                values[field.name] = str(raw)
        props = cls(**values)
        if not 1 <= props.min_tasks <= props.max_tasks:
            raise ContextError(
                f"need 1 <= todo:minTasks <= todo:maxTasks, got {props.min_tasks} and "
                f"{props.max_tasks}"
            )
        for key, value, choices in (
            ("auth", props.auth, AUTH_MODES),
            ("waf", props.waf, WAF_MODES),
            ("signup", props.signup, SIGNUP_MODES),
        ):
            if value not in choices:
                raise ContextError(
                    f"{CONTEXT_PREFIX}{key}={value!r} must be one of {', '.join(choices)}"
                )
        if not 0 <= props.trace_sample_rate <= 1:
            raise ContextError(
                f"{CONTEXT_PREFIX}traceSampleRate={props.trace_sample_rate!r} must be from 0 to 1"
            )
        if props.alarm_email is not None and not _EMAIL_PATTERN.fullmatch(props.alarm_email):
            raise ContextError(
                f"{CONTEXT_PREFIX}alarmEmail={props.alarm_email!r} is not an email address"
            )
        if props.signup == "closed" and props.auth != "cognito":
            raise ContextError(
                f"{CONTEXT_PREFIX}signup=closed needs {CONTEXT_PREFIX}auth=cognito "
                "(without sign-in there are no users)"
            )
        return props


class TodoServiceStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: TodoStackProps,
        web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        logs = AccessLogBucket(self, "AccessLogs")
        self.table = TodoTable(self, "TodoTable", table_name=props.table_name or None)
        self.users = (
            TodoUserPool(self, "Users", self_sign_up=props.signup == "open")
            if props.auth == "cognito"
            else None
        )
        network = TodoNetwork(
            self,
            "Network",
            table=self.table,
            nat_gateways=props.nat_gateways,
            flow_log_bucket=logs.bucket,
        )
        self.api = TodoApiService(
            self,
            "Api",
            network=network,
            table=self.table,
            image_directory=props.image_directory,
            base_image=props.base_image,
            min_tasks=props.min_tasks,
            max_tasks=props.max_tasks,
            access_log_bucket=logs.bucket,
            user_pool=self.users,
            trace_sample_rate=props.trace_sample_rate,
        )
        self.website = TodoWebsite(
            self,
            "Website",
            web_directory=props.web_directory,
            api_load_balancer=self.api.load_balancer,
            access_log_bucket=logs.bucket,
            sign_in=None if self.users is None else self.users.sign_in(),
            web_acl_arn=web_acl_arn,
        )
        VpcOriginAccess(
            self,
            "VpcOriginAccess",
            vpc=network.vpc,
            distribution=self.website.distribution,
            target=self.api.load_balancer,
            port=LISTENER_PORT,
        )

        self.monitoring = TodoMonitoring(
            self,
            "Monitoring",
            api=self.api,
            table=self.table,
            distribution=self.website.distribution,
            alarm_email=props.alarm_email,
        )
        IncidentQueries(self, "Queries", log_group=self.api.log_group)

        cdk.CfnOutput(self, "WebsiteUrl", value=self.website.url, description="The todo page")
        cdk.CfnOutput(
            self,
            "ApiUrl",
            value=self.website.url,
            description="The API's base URL (/todos, /healthz, /readyz): the page's own origin",
        )
        cdk.CfnOutput(self, "TableName", value=self.table.table_name, description="TodoTable")
        # With TableName, what `todo-service seed` needs (TODO_TABLE_NAME, AWS_REGION).
        cdk.CfnOutput(self, "Region", value=self.region, description="The stack's AWS region")
        cdk.CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.monitoring.topic.topic_arn,
            description="The SNS topic of the stack's alarms (subscribe with todo:alarmEmail)",
        )
        if self.users is not None:
            cdk.CfnOutput(
                self,
                "UserPoolId",
                value=self.users.user_pool_id,
                description="The user pool the page signs in to (TODO_COGNITO_USER_POOL_ID)",
            )
            cdk.CfnOutput(
                self,
                "UserPoolClientId",
                value=self.users.client_id,
                description="The page's public app client (TODO_COGNITO_CLIENT_ID)",
            )
