"""TodoApiService: Fargate tasks behind an internal load balancer, scaled on CPU."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Match, Template

from todo_cdk.stack import AUTH_MODES, REPOSITORY_ROOT, TodoStackProps
from todo_service import settings
from todo_service.run.server import SHUTDOWN_GRACE_S

from .cli import REGION
from .templates import Synthesized, api_container, container_environment, only, ref

# What every API container gets besides the table, region and auth: the in-flight bound and
# OpenTelemetry's standard variables (test_cdk_collector.py checks their values).
SERVING_VARIABLES = (
    "TODO_MAX_IN_FLIGHT",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
)


def test_load_balancer_checks_task_health_on_healthz(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "HealthCheckPath": "/healthz",
            "Matcher": {"HttpCode": "200"},
            "Port": 8080,
            "Protocol": "HTTP",
            "TargetType": "ip",
        },
    )


def test_at_least_two_tasks_run_in_private_subnets_of_two_azs(synthesized: Synthesized) -> None:
    _, service = only(synthesized.resources("AWS::ECS::Service"))
    props = service["Properties"]
    assert props["LaunchType"] == "FARGATE"
    assert props["DesiredCount"] >= 2
    network = props["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert network["AssignPublicIp"] == "DISABLED"
    subnets = synthesized.resources("AWS::EC2::Subnet")
    task_subnets = [subnets[s["Ref"]]["Properties"] for s in network["Subnets"]]
    assert [s["MapPublicIpOnLaunch"] for s in task_subnets] == [False, False]
    assert len({str(s["AvailabilityZone"]) for s in task_subnets}) == 2
    # A deployment that never turns healthy rolls back instead of retrying for hours.
    assert props["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
        "Enable": True,
        "Rollback": True,
    }
    assert props["DeploymentConfiguration"]["MinimumHealthyPercent"] == 100


def test_task_count_scales_between_two_and_six_on_cpu(synthesized: Synthesized) -> None:
    service_id, _ = only(synthesized.resources("AWS::ECS::Service"))
    _, target = only(synthesized.resources("AWS::ApplicationAutoScaling::ScalableTarget"))
    assert target["Properties"]["ScalableDimension"] == "ecs:service:DesiredCount"
    assert target["Properties"]["MinCapacity"] == 2
    assert target["Properties"]["MaxCapacity"] == 6
    resource_id = str(target["Properties"]["ResourceId"])
    assert service_id in resource_id
    synthesized.template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                },
                "TargetValue": 60,
            },
        },
    )


def test_container_gets_table_region_and_the_shared_cursor_secret(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    secret_id, _ = only(synthesized.resources("AWS::SecretsManager::Secret"))
    container = api_container(synthesized)
    environment = container_environment(synthesized)
    assert {"TODO_TABLE_NAME", "AWS_REGION"} <= set(environment)
    assert environment["AWS_REGION"] == "us-east-1"
    assert container["Secrets"] == [{"Name": "TODO_CURSOR_SECRET", "ValueFrom": ref(secret_id)}]
    assert container["PortMappings"] == [{"ContainerPort": 8080, "Protocol": "tcp"}]


def test_container_verifies_tokens_of_the_stacks_own_pool_and_client_by_default(
    synthesized: Synthesized,
) -> None:
    pool_id, _ = only(synthesized.resources("AWS::Cognito::UserPool"))
    client_id, _ = only(synthesized.resources("AWS::Cognito::UserPoolClient"))
    environment = container_environment(synthesized)
    assert set(environment) == {
        "TODO_TABLE_NAME",
        "AWS_REGION",
        "TODO_AUTH",
        "TODO_COGNITO_USER_POOL_ID",
        "TODO_COGNITO_CLIENT_ID",
        *SERVING_VARIABLES,
    }
    assert environment["TODO_AUTH"] == "cognito"
    assert environment["TODO_COGNITO_USER_POOL_ID"] == ref(pool_id)
    assert environment["TODO_COGNITO_CLIENT_ID"] == ref(client_id)
    # The deployed tasks verify against Cognito's own issuer and keys: no local override.
    assert "TODO_COGNITO_JWKS_URL" not in environment


def test_container_is_told_there_is_no_sign_in_without_auth(
    synthesized_without_auth: Synthesized,
) -> None:
    environment = container_environment(synthesized_without_auth)
    assert set(environment) == {"TODO_TABLE_NAME", "AWS_REGION", "TODO_AUTH", *SERVING_VARIABLES}
    assert environment["TODO_AUTH"] == "none"


def _as_deployed(environment: dict[str, object], synthesized: Synthesized) -> dict[str, str]:
    """The container's environment with each reference replaced by a value of its kind."""
    deployed = {
        "AWS::DynamoDB::Table": "TodoTable",
        "AWS::Cognito::UserPool": f"{REGION}_AbC123xyz",
        "AWS::Cognito::UserPoolClient": "4tq1example0client0id0abc1",
    }
    resources = synthesized.template.to_json()["Resources"]
    return {
        name: value if isinstance(value, str) else deployed[resources[value["Ref"]]["Type"]]
        for name, value in environment.items()
    }


def test_service_starts_in_the_mode_and_with_the_pool_the_stack_configures(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    environment = _as_deployed(container_environment(synthesized), synthesized)
    # The service's own reading of its environment: a misspelt variable name here would
    # leave it in the default mode, or stop it with "TODO_AUTH=cognito needs ...".
    loaded = settings.settings_from_env(environment | {"TODO_CURSOR_SECRET": "x" * 64})
    if synthesized.stack.users is None:
        assert loaded.auth_mode == "none"
    else:
        assert loaded.auth_mode == "cognito"
        assert loaded.cognito_user_pool_id == f"{REGION}_AbC123xyz"
        assert loaded.cognito_client_id == "4tq1example0client0id0abc1"


def test_stack_offers_exactly_the_services_auth_modes() -> None:
    assert set(AUTH_MODES) == set(settings.AUTH_MODES)


def test_cursor_secret_is_long_enough_for_the_service(synthesized: Synthesized) -> None:
    _, secret = only(synthesized.resources("AWS::SecretsManager::Secret"))
    generated = secret["Properties"]["GenerateSecretString"]
    # The service refuses a TODO_CURSOR_SECRET shorter than 16 characters.
    assert generated["PasswordLength"] >= 16


def test_container_logs_go_to_cloudwatch_with_a_retention(synthesized: Synthesized) -> None:
    container = api_container(synthesized)
    log = container["LogConfiguration"]
    assert log["LogDriver"] == "awslogs"
    log_group_id = log["Options"]["awslogs-group"]["Ref"]
    group = synthesized.resources("AWS::Logs::LogGroup")[log_group_id]
    assert group["Properties"]["RetentionInDays"] == 30


def test_load_balancer_is_internal_and_admits_only_cloudfronts_vpc_origin_group(
    synthesized: Synthesized,
) -> None:
    _, balancer = only(synthesized.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"))
    assert balancer["Properties"]["Scheme"] == "internal"
    (group,) = balancer["Properties"]["SecurityGroups"]
    group_id = group["Fn::GetAtt"][0]
    groups = synthesized.resources("AWS::EC2::SecurityGroup")
    # No address range at all: CloudFront's VPC origin does not connect from one we could name.
    assert groups[group_id]["Properties"].get("SecurityGroupIngress", []) == []
    rules = [
        r["Properties"]
        for r in synthesized.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    ]
    (rule,) = rules
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 80, 80)
    assert "CidrIp" not in rule
    assert "SourcePrefixListId" not in rule
    # The source is the group CloudFront creates in the VPC, found at deploy time.
    lookup_id, _ = rule["SourceSecurityGroupId"]["Fn::GetAtt"]
    lookup = synthesized.resources("Custom::AWS")[lookup_id]
    call = json.loads("".join(str(p) for p in lookup["Properties"]["Create"]["Fn::Join"][1]))
    assert (call["service"], call["action"]) == ("ec2", "describeSecurityGroups")
    filters = {f["Name"]: f["Values"] for f in call["parameters"]["Filters"]}
    assert filters["group-name"] == ["CloudFront-VPCOrigins-Service-SG"]
    assert set(filters) == {"group-name", "vpc-id"}
    # CloudFront creates the group with the VPC origin: look it up only after the distribution.
    distribution_id, _ = only(synthesized.resources("AWS::CloudFront::Distribution"))
    assert distribution_id in lookup["DependsOn"]
    # Nothing anywhere in the stack is open to an address range.
    for any_group in groups.values():
        for ingress in any_group["Properties"].get("SecurityGroupIngress", []):
            assert "CidrIp" not in ingress, ingress
    for any_rule in synthesized.resources("AWS::EC2::SecurityGroupIngress").values():
        assert "CidrIp" not in any_rule["Properties"], any_rule


def test_load_balancer_writes_access_logs(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "LoadBalancerAttributes": Match.array_with(
                [{"Key": "access_logs.s3.enabled", "Value": "true"}]
            )
        },
    )


def test_image_is_built_from_the_repository_root_dockerfile_by_default() -> None:
    props = TodoStackProps()
    assert props.image_directory == REPOSITORY_ROOT == Path(__file__).resolve().parents[2]
    assert props.web_directory == REPOSITORY_ROOT / "web"
    assert props.base_image is None  # the Dockerfile's own default


def test_context_overrides_the_props(tmp_path: Path) -> None:
    app = cdk.App(
        context={
            "todo:baseImage": "debian:bookworm",
            "todo:natGateways": "1",
            "todo:webDirectory": str(tmp_path),
        }
    )
    props = TodoStackProps.from_context(app.node)
    assert props.base_image == "debian:bookworm"
    assert props.nat_gateways == 1
    assert props.web_directory == tmp_path
    assert props.min_tasks == 2


def test_image_asset_is_described_for_deployment_not_built_at_synth(
    synthesized: Synthesized,
) -> None:
    manifests = [synthesized.outdir / f"{synthesized.stack.stack_name}.assets.json"]
    (manifest,) = manifests
    images = json.loads(manifest.read_text())["dockerImages"]
    (image,) = images.values()
    assert image["source"]["platform"] == "linux/amd64"
    staged = synthesized.outdir / image["source"]["directory"]
    assert (staged / "Dockerfile").is_file()
    # The build context never carries the local environments or the synth output itself.
    for excluded in ("cdk", ".venv", "node_modules", ".git"):
        assert not (staged / excluded).exists()


def test_task_checks_its_container_on_healthz_and_waits_out_the_shutdown_grace(
    synthesized: Synthesized,
) -> None:
    container = api_container(synthesized)
    check = container["HealthCheck"]
    command = check["Command"]
    assert command[:3] == ["CMD", "python", "-c"]
    # The image has Python and no curl; the check asks the liveness route on the container port.
    assert "http://127.0.0.1:8080/healthz" in command[3]
    assert check["Timeout"] < check["Interval"]
    assert check["Retries"] >= 1
    # SIGKILL only after the server's own graceful shutdown has had its time.
    assert container["StopTimeout"] > SHUTDOWN_GRACE_S


def test_container_runs_as_the_dockerfiles_non_root_user(synthesized: Synthesized) -> None:
    container = api_container(synthesized)
    dockerfile = (REPOSITORY_ROOT / "Dockerfile").read_text()
    uid = re.search(r"useradd [^\n]*--uid (\d+)", dockerfile)
    gid = re.search(r"groupadd [^\n]*--gid (\d+)", dockerfile)
    assert uid, "the Dockerfile no longer creates the service user with a fixed uid"
    assert gid, "the Dockerfile no longer creates the service group with a fixed gid"
    assert container["User"] == f"{uid[1]}:{gid[1]}"
    assert uid[1] != "0"
