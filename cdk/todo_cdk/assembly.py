"""The app that `cdk` synthesizes: the stack, checked by cdk-nag on every synth; with
`-c todo:githubRepo=...` also the deploy role's stack (deploy_access.py)."""

from __future__ import annotations

import os
from typing import Final

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from . import deploy_access
from .stack import ContextError, TodoServiceStack, TodoStackProps

STACK_NAME: Final = "TodoService"


def build(app: cdk.App, region: str | None = None) -> TodoServiceStack:
    """Add the stack to `app`, configured from its context (see `TodoStackProps`).

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
    stack = TodoServiceStack(
        app,
        STACK_NAME,
        props=props,
        env=cdk.Environment(region=region),
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
    # Errors fail `cdk synth` and `cdk deploy`; each accepted finding is suppressed where the
    # resource is declared, with its reason.
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    return stack
