"""TodoDeployAccess: GitHub's OIDC provider and the one role the deploy workflow assumes.

The trust is checked word for word: only GitHub's tokens for one repository's `production`
environment, for the audience `sts.amazonaws.com`. The permissions: `sts:AssumeRole` on the CDK
bootstrap roles of the app's region and us-east-1, and nothing else anywhere in the stack.
Without `-c todo:githubRepo` the stack does not exist; a malformed value is a one-line error.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from todo_cdk.assembly import build
from todo_cdk.deploy_access import STACK_NAME, DeployAccessProps
from todo_cdk.stack import ContextError

from .cli import REPO, run_cdk_synth
from .conftest import cdk_json_context
from .templates import Synthesized, only, ref

REPOSITORY: Final = "octo-org/todo-service"
APP_REGION: Final = "eu-west-1"
EXISTING_PROVIDER: Final = (
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
)
DEPLOY_WORKFLOW: Final = REPO / ".github" / "workflows" / "deploy.yml"
ROLE_KINDS: Final = ("deploy", "file-publishing", "image-publishing", "lookup")


@dataclasses.dataclass(frozen=True)
class AccessStack:
    template: Template
    annotations: Annotations
    stack_names: list[str]

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.template.find_resources(resource_type)
        return found

    def role(self) -> dict[str, Any]:
        _, role = only(self.resources("AWS::IAM::Role"))
        properties: dict[str, Any] = role["Properties"]
        return properties


def _synthesize(outdir: Path, context: dict[str, str], region: str) -> AccessStack:
    app = cdk.App(context=cdk_json_context() | context, outdir=str(outdir))
    build(app, region=region)
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, cdk.Stack)
    names = [child.node.id for child in app.node.children if isinstance(child, cdk.Stack)]
    return AccessStack(Template.from_stack(stack), Annotations.from_stack(stack), names)


@pytest.fixture(scope="module")
def access(tmp_path_factory: pytest.TempPathFactory) -> AccessStack:
    """With `-c todo:githubRepo` alone, for an app in eu-west-1: it makes the provider."""
    outdir = tmp_path_factory.mktemp("cdk.out-access")
    return _synthesize(outdir, {"todo:githubRepo": REPOSITORY}, APP_REGION)


@pytest.fixture(scope="module")
def access_with_existing_provider(tmp_path_factory: pytest.TempPathFactory) -> AccessStack:
    """With the account's provider named, for an app in us-east-1 (CloudFront's region too)."""
    context = {"todo:githubRepo": REPOSITORY, "todo:githubOidcProviderArn": EXISTING_PROVIDER}
    return _synthesize(tmp_path_factory.mktemp("cdk.out-access-arn"), context, "us-east-1")


def _bootstrap_role(kind: str, region: str) -> dict[str, str]:
    return {
        "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/"
        f"cdk-hnb659fds-{kind}-role-${{AWS::AccountId}}-{region}"
    }


def _trust(federated: object) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Effect": "Allow",
                "Principal": {"Federated": federated},
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": (
                            "repo:octo-org/todo-service:environment:production"
                        ),
                    }
                },
            }
        ],
    }


def _only_permissions(role: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = role["Policies"]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_the_stack_holds_the_provider_and_the_role_and_nothing_else(access: AccessStack) -> None:
    # Beside the service's stacks, as they are without it.
    assert {"TodoService", STACK_NAME} <= set(access.stack_names)
    kinds = {body["Type"] for body in access.template.to_json()["Resources"].values()}
    assert kinds == {"AWS::IAM::OIDCProvider", "AWS::IAM::Role"}
    access.template.has_resource_properties(
        "AWS::IAM::OIDCProvider",
        {
            "Url": "https://token.actions.githubusercontent.com",
            "ClientIdList": ["sts.amazonaws.com"],
        },
    )
    assert "DeployRoleArn" in access.template.find_outputs("*")


def test_only_the_repositorys_production_environment_may_assume_the_role(
    access: AccessStack,
) -> None:
    provider_id, _ = only(access.resources("AWS::IAM::OIDCProvider"))
    trust = access.role()["AssumeRolePolicyDocument"]
    # Ref of an AWS::IAM::OIDCProvider is its ARN.
    assert trust == _trust(ref(provider_id))


def test_the_role_may_only_assume_the_bootstrap_roles_of_both_regions(access: AccessStack) -> None:
    role = access.role()
    # No managed policy, boundary-free, and no policy resource attached to it besides.
    assert set(role) == {"AssumeRolePolicyDocument", "Description", "Policies"}
    expected = [
        _bootstrap_role(kind, region) for region in (APP_REGION, "us-east-1") for kind in ROLE_KINDS
    ]
    (statement,) = _only_permissions(role)
    # In any order: IAM's is not ours.
    assert sorted(statement.pop("Resource"), key=str) == sorted(expected, key=str)
    assert statement == {"Action": "sts:AssumeRole", "Effect": "Allow"}


def test_an_existing_provider_is_trusted_as_named_and_none_is_made(
    access_with_existing_provider: AccessStack,
) -> None:
    access = access_with_existing_provider
    assert access.resources("AWS::IAM::OIDCProvider") == {}
    assert access.role()["AssumeRolePolicyDocument"] == _trust(EXISTING_PROVIDER)
    # The app in us-east-1 deploys to one region: four roles, not eight.
    (statement,) = _only_permissions(access.role())
    expected = [_bootstrap_role(kind, "us-east-1") for kind in ROLE_KINDS]
    assert sorted(statement["Resource"], key=str) == sorted(expected, key=str)


def test_cdk_nag_finds_nothing_in_the_access_stack(access: AccessStack) -> None:
    found = access.annotations.find_error("*", Match.any_value()) + (
        access.annotations.find_warning("*", Match.any_value())
    )
    assert [entry["entry"]["data"] for entry in found] == []


def test_without_the_repository_the_app_holds_no_access_stack(synthesized: Synthesized) -> None:
    stacks = [child.node.id for child in synthesized.stack.node.root.node.children]
    assert "TodoService" in stacks
    assert STACK_NAME not in stacks


def test_the_deploy_workflow_runs_in_the_environment_the_role_trusts() -> None:
    workflow = DEPLOY_WORKFLOW.read_text()
    environment = re.search(r"^    environment:\n      name: (\S+)$", workflow, re.MULTILINE)
    assert environment is not None
    assert environment.group(1) == "production"
    assert "id-token: write" in workflow
    assert "./scripts/cdk deploy --all --require-approval never" in workflow


def _props(context: dict[str, str], region: str = APP_REGION) -> DeployAccessProps | None:
    return DeployAccessProps.from_context(cdk.App(context=context).node, region)


def test_deploy_regions_may_be_named() -> None:
    props = _props({"todo:githubRepo": "a/b", "todo:deployRegions": "us-west-2, eu-west-1"})
    assert props is not None
    assert props.regions == ("eu-west-1", "us-west-2")
    assert _props({}) is None


@pytest.mark.parametrize(
    ("context", "error"),
    [
        (
            {"todo:githubRepo": "not a repo"},
            "todo:githubRepo='not a repo' must be <owner>/<repo> of a GitHub repository",
        ),
        (
            {"todo:githubRepo": "-owner/repo"},
            "todo:githubRepo='-owner/repo' must be <owner>/<repo> of a GitHub repository",
        ),
        (
            {"todo:githubRepo": "owner/.."},
            "todo:githubRepo='owner/..' must be <owner>/<repo> of a GitHub repository",
        ),
        (
            {"todo:githubRepo": "a/b", "todo:githubOidcProviderArn": "arn:aws:iam::1:role/x"},
            "todo:githubOidcProviderArn='arn:aws:iam::1:role/x' must be the ARN of GitHub's OIDC "
            "provider, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
        ),
        (
            {"todo:githubRepo": "a/b", "todo:deployRegions": "eu-west-1,mars"},
            "todo:deployRegions='eu-west-1,mars' must be AWS region names separated by commas, "
            "such as eu-west-1,us-east-1",
        ),
        (
            {"todo:githubOidcProviderArn": EXISTING_PROVIDER},
            "todo:githubOidcProviderArn needs todo:githubRepo=<owner>/<repo> too",
        ),
    ],
)
def test_a_malformed_context_value_is_refused_naming_it(
    context: dict[str, str], error: str
) -> None:
    with pytest.raises(ContextError) as raised:
        _props(context)
    assert str(raised.value) == error


def test_cdk_cli_refuses_a_malformed_repository_in_one_line(tmp_path: Path) -> None:
    result = run_cdk_synth(
        sys.executable, tmp_path / "cdk.out", context={"todo:githubRepo": "owner"}
    )
    assert result.returncode != 0
    assert (
        "cdk context: todo:githubRepo='owner' must be <owner>/<repo> of a GitHub repository"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
