"""The app that `cdk` synthesizes: its stacks, checked by cdk-nag on every synth.

`TodoService` in the deployer's region holds the application; `TodoServiceEdge` in
us-east-1 holds what must live there (CloudFront's alarm), and with `-c todo:waf=on`
`TodoServiceWaf` in us-east-1 holds the web ACL. `cdk deploy --all` deploys them in the
order their references need: the WAF, the application, the edge. With
`-c todo:githubRepo=...` the app also has the deploy role's stack (deploy_access.py), which is
deployed once, by hand.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Final

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from . import deploy_access
from .edge import EDGE_REGION, TodoEdgeStack
from .stack import ContextError, TodoServiceStack, TodoStackProps
from .waf import TodoWafStack

STACK_NAME: Final = "TodoService"
EDGE_STACK_NAME: Final = "TodoServiceEdge"
WAF_STACK_NAME: Final = "TodoServiceWaf"


@dataclasses.dataclass(frozen=True, slots=True)
class Stacks:
    service: TodoServiceStack
    edge: TodoEdgeStack
    waf: TodoWafStack | None


def build(app: cdk.App, region: str | None = None) -> Stacks:
    """Add the stacks to `app`, configured from its context (see `TodoStackProps`).

    The stack is bound to a region (the CLI's, from CDK_DEFAULT_REGION, unless given): the
    ALB's access-log policy names the region's log-delivery principal. It names no account,
    so synthesis needs no AWS lookups (the AZs are `Fn::GetAZs`) and works offline.
    """
    region = region or os.environ.get("CDK_DEFAULT_REGION")
    if not region:
        raise SystemExit(
            "no AWS region: set AWS_REGION or a profile's region (`aws configure`), "
            "which the cdk CLI passes on as CDK_DEFAULT_REGION"
        )
    try:
        props = TodoStackProps.from_context(app.node)
        access = deploy_access.DeployAccessProps.from_context(app.node, region)
    except ContextError as error:
        # One line for the deployer, not a traceback from inside the CDK.
        raise SystemExit(f"cdk context: {error}") from None
    # Each value crossing a region is a weak reference (cdk.json): Fn::GetStackOutput, read
    # when the consuming stack deploys; no export that locks the producing stack.
    edge_env = cdk.Environment(region=EDGE_REGION)
    waf = (
        TodoWafStack(
            app,
            WAF_STACK_NAME,
            env=edge_env,
            cross_region_references=True,
            description="todo-service: the AWS WAF web ACL of the CloudFront distribution",
        )
        if props.waf == "on"
        else None
    )
    service = TodoServiceStack(
        app,
        STACK_NAME,
        props=props,
        web_acl_arn=None if waf is None else waf.web_acl_arn,
        env=cdk.Environment(region=region),
        cross_region_references=True,
        description="todo-service: DynamoDB table, Fargate API behind an ALB, CloudFront website",
    )
    if access is not None:
        deploy_access.TodoDeployAccessStack(
            app,
            deploy_access.STACK_NAME,
            props=access,
            env=cdk.Environment(region=region),
            description="todo-service: the role that GitHub Actions deploys with (OIDC)",
        )
    edge = TodoEdgeStack(
        app,
        EDGE_STACK_NAME,
        distribution_id=service.website.distribution.distribution_id,
        alarm_email=props.alarm_email,
        env=edge_env,
        cross_region_references=True,
        description="todo-service: CloudFront's alarm and its topic (CloudFront metrics live "
        "in us-east-1)",
    )
    # Errors fail `cdk synth` and `cdk deploy`; each accepted finding is suppressed where the
    # resource is declared, with its reason.
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    return Stacks(service=service, edge=edge, waf=waf)
