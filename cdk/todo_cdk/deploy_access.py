"""TodoDeployAccess: the role that GitHub Actions' deploy job assumes by OpenID Connect.

A stack of its own, deployed once by hand (docs/deploy.md, "One-time setup") and synthesized
only when `-c todo:githubRepo=<owner>/<repo>` names the repository: without it the app holds
the service's stacks alone, so `cdk deploy --all` in the pipeline never deploys its own
permissions. The role trusts GitHub's tokens for that repository's `production` environment
alone, and may do one thing: assume the CDK bootstrap roles that `cdk deploy` uses, in each
region the app deploys to. What a deployment may change is then the bootstrap's CloudFormation
execution role's business, as for a person who deploys.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct, Node

from .stack import CONTEXT_PREFIX, ContextError

STACK_NAME: Final = "TodoDeployAccess"
REPOSITORY_CONTEXT: Final = f"{CONTEXT_PREFIX}githubRepo"
PROVIDER_CONTEXT: Final = f"{CONTEXT_PREFIX}githubOidcProviderArn"
REGIONS_CONTEXT: Final = f"{CONTEXT_PREFIX}deployRegions"
# The context key that changes the bootstrap roles' names (`cdk bootstrap --qualifier`).
QUALIFIER_CONTEXT: Final = "@aws-cdk/core:bootstrapQualifier"

GITHUB_OIDC_HOST: Final = "token.actions.githubusercontent.com"
# The audience GitHub's token carries for AWS (aws-actions/configure-aws-credentials' default).
STS_AUDIENCE: Final = "sts.amazonaws.com"
# The environment of deploy.yml's deploy job (tests/cdk check the workflow names it).
DEPLOY_ENVIRONMENT: Final = "production"
# CloudFront's region: its alarms and web ACL are deployed there, whatever the app's region.
EDGE_REGION: Final = "us-east-1"
# The bootstrap roles that `cdk deploy` assumes, as CDK's default synthesizer names them:
# deploy (CloudFormation), file and image publishing (assets), lookup (reads, for diffs).
BOOTSTRAP_ROLE_ARNS: Final = (
    cdk.DefaultStackSynthesizer.DEFAULT_DEPLOY_ROLE_ARN,
    cdk.DefaultStackSynthesizer.DEFAULT_FILE_ASSET_PUBLISHING_ROLE_ARN,
    cdk.DefaultStackSynthesizer.DEFAULT_IMAGE_ASSET_PUBLISHING_ROLE_ARN,
    cdk.DefaultStackSynthesizer.DEFAULT_LOOKUP_ROLE_ARN,
)

# GitHub's rules: an owner is 1-39 letters, digits and single inner hyphens; a repository
# name up to 100 letters, digits, '.', '-' and '_', but not '.' or '..'.
_OWNER: Final = r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}"
_NAME: Final = r"(?!\.\.?$)[A-Za-z0-9._-]{1,100}"
REPOSITORY_PATTERN: Final = re.compile(f"{_OWNER}/{_NAME}")
PROVIDER_ARN_PATTERN: Final = re.compile(
    rf"arn:aws(?:-[a-z]+)*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}"
)
REGION_PATTERN: Final = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")


@dataclasses.dataclass(frozen=True, slots=True)
class DeployAccessProps:
    # <owner>/<repo> on GitHub.
    repository: str
    # Where the app deploys: the bootstrap roles of these regions may be assumed.
    regions: tuple[str, ...]
    # The account's GitHub OIDC provider, if it has one already (IAM allows one per URL).
    provider_arn: str | None = None

    @property
    def subject(self) -> str:
        """The `sub` claim of GitHub's token for a job in the repository's environment."""
        return f"repo:{self.repository}:environment:{DEPLOY_ENVIRONMENT}"

    @classmethod
    def from_context(cls, node: Node, app_region: str) -> DeployAccessProps | None:
        """The props from `-c todo:githubRepo=...` and the rest; None without that key."""
        raw = {key: node.try_get_context(key) for key in (PROVIDER_CONTEXT, REGIONS_CONTEXT)}
        repository = node.try_get_context(REPOSITORY_CONTEXT)
        if repository is None:
            given = [key for key, value in raw.items() if value is not None]
            if given:
                raise ContextError(f"{given[0]} needs {REPOSITORY_CONTEXT}=<owner>/<repo> too")
            return None
        if not REPOSITORY_PATTERN.fullmatch(str(repository)):
            raise ContextError(
                f"{REPOSITORY_CONTEXT}={repository!r} must be <owner>/<repo> of a GitHub repository"
            )
        provider = raw[PROVIDER_CONTEXT]
        if provider is not None and not PROVIDER_ARN_PATTERN.fullmatch(str(provider)):
            raise ContextError(
                f"{PROVIDER_CONTEXT}={provider!r} must be the ARN of GitHub's OIDC provider, "
                f"arn:aws:iam::<account>:oidc-provider/{GITHUB_OIDC_HOST}"
            )
        return cls(
            repository=str(repository),
            regions=_regions(raw[REGIONS_CONTEXT], app_region),
            provider_arn=None if provider is None else str(provider),
        )


def _regions(raw: object, app_region: str) -> tuple[str, ...]:
    """`todo:deployRegions` (comma-separated), or the app's region and CloudFront's."""
    if raw is None:
        return tuple(sorted({app_region, EDGE_REGION}))
    regions = [part.strip() for part in str(raw).split(",")]
    bad = [region for region in regions if not REGION_PATTERN.fullmatch(region)]
    if bad:
        raise ContextError(
            f"{REGIONS_CONTEXT}={raw!r} must be AWS region names separated by commas, "
            f"such as {app_region},{EDGE_REGION}"
        )
    return tuple(sorted(set(regions)))


def bootstrap_role_arns(regions: tuple[str, ...], qualifier: str) -> list[str]:
    """The bootstrap roles of `regions`, with the account left to CloudFormation (Fn::Sub)."""
    return [
        cdk.Fn.sub(template.replace("${Qualifier}", qualifier).replace("${AWS::Region}", region))
        for region in regions
        for template in BOOTSTRAP_ROLE_ARNS
    ]


class TodoDeployAccessStack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, props: DeployAccessProps, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        provider_arn = props.provider_arn or (
            iam.OidcProviderNative(
                self,
                "GitHubOidc",
                url=f"https://{GITHUB_OIDC_HOST}",
                client_ids=[STS_AUDIENCE],
            ).oidc_provider_arn
        )
        qualifier = self.node.try_get_context(QUALIFIER_CONTEXT) or (
            cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        self.role = iam.Role(
            self,
            "DeployRole",
            description=f"cdk deploy from GitHub Actions: {props.subject}",
            assumed_by=iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": props.subject,
                    }
                },
            ),
            inline_policies={
                "AssumeCdkBootstrapRoles": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["sts:AssumeRole"],
                            resources=bootstrap_role_arns(props.regions, str(qualifier)),
                        )
                    ]
                )
            },
        )
        cdk.CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description="The production environment's AWS_DEPLOY_ROLE_ARN (docs/deploy.md)",
        )
