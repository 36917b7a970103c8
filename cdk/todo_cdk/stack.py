"""TodoServiceStack: the table, the network, the API service and the website, wired together."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
from constructs import Construct, Node

from todo_service.store.table import DEFAULT_TABLE_NAME

from .access_logs import AccessLogBucket
from .network import TodoNetwork
from .origin_access import VpcOriginAccess
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
        if props.auth not in AUTH_MODES:
            raise ContextError(
                f"{CONTEXT_PREFIX}auth={props.auth!r} must be one of {', '.join(AUTH_MODES)}"
            )
        return props


class TodoServiceStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: TodoStackProps, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        logs = AccessLogBucket(self, "AccessLogs")
        self.table = TodoTable(self, "TodoTable", table_name=props.table_name or None)
        self.users = TodoUserPool(self, "Users") if props.auth == "cognito" else None
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
        )
        self.website = TodoWebsite(
            self,
            "Website",
            web_directory=props.web_directory,
            api_load_balancer=self.api.load_balancer,
            access_log_bucket=logs.bucket,
            sign_in=None if self.users is None else self.users.sign_in(),
        )
        VpcOriginAccess(
            self,
            "VpcOriginAccess",
            vpc=network.vpc,
            distribution=self.website.distribution,
            target=self.api.load_balancer,
            port=LISTENER_PORT,
        )

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
