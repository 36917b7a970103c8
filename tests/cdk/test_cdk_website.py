"""TodoWebsite: a private bucket behind CloudFront, which also carries the API (same origin)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Match, Template

from todo_cdk.website import API_PATH_PATTERNS
from todo_service.api.openapi import openapi_document
from todo_service.web_policy import (
    CONFIG_FILE,
    PAGE_SECURITY_HEADERS,
    STATIC_CACHE_CONTROL,
    SignIn,
    cognito_endpoint,
    config_js,
    content_security_policy,
)

from .cli import REGION
from .templates import Synthesized, only, ref

COGNITO_ORIGIN = "https://cognito-idp.us-east-1.amazonaws.com"

PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _distribution(synthesized: Synthesized) -> dict[str, Any]:
    _, distribution = only(synthesized.resources("AWS::CloudFront::Distribution"))
    config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
    return config


def _origins_by_id(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {origin["Id"]: origin for origin in config["Origins"]}


def test_every_bucket_blocks_public_access_and_refuses_plain_http(
    synthesized: Synthesized,
) -> None:
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert len(buckets) == 2  # the website and the access logs
    for bucket in buckets.values():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == PUBLIC_ACCESS_BLOCKED
        assert bucket["Properties"]["BucketEncryption"]
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
    }
    assert set(policies) == set(buckets)
    for statements in policies.values():
        assert any(
            s["Effect"] == "Deny"
            and s["Action"] == "s3:*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_website_bucket_is_read_by_cloudfront_alone_through_origin_access_control(
    synthesized: Synthesized,
) -> None:
    config = _distribution(synthesized)
    (s3_origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert s3_origin["OriginAccessControlId"]
    bucket_id = s3_origin["DomainName"]["Fn::GetAtt"][0]
    synthesized.template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": {
                "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always",
                "SigningProtocol": "sigv4",
            }
        },
    )
    (policy,) = [
        p
        for p in synthesized.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == ref(bucket_id)
    ]
    allows = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert [s["Principal"] for s in allows] == [{"Service": "cloudfront.amazonaws.com"}]
    assert allows[0]["Action"] == "s3:GetObject"
    assert "AWS:SourceArn" in str(allows[0]["Condition"])


def _page_policy(synthesized: Synthesized) -> dict[str, Any]:
    """The response headers policy of the page (the distribution's default behaviour)."""
    headers_id = _distribution(synthesized)["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    policy: dict[str, Any] = synthesized.resources("AWS::CloudFront::ResponseHeadersPolicy")[
        headers_id["Ref"]
    ]["Properties"]["ResponseHeadersPolicyConfig"]
    return policy


def _content_security_policy(synthesized: Synthesized) -> str:
    security = _page_policy(synthesized)["SecurityHeadersConfig"]
    policy: str = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return policy


def test_page_is_served_over_https_with_its_security_headers(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    config = _distribution(synthesized)
    default = config["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["DefaultRootObject"] == "index.html"
    headers = _page_policy(synthesized)
    security = headers["SecurityHeadersConfig"]
    # Its exact value per mode is checked below; in no mode may anything inline run.
    assert "unsafe-inline" not in security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000
    sent = {
        "X-Content-Type-Options": "nosniff" if security["ContentTypeOptions"] else None,
        "X-Frame-Options": security["FrameOptions"]["FrameOption"],
        "Referrer-Policy": security["ReferrerPolicy"]["ReferrerPolicy"],
    } | {item["Header"]: item["Value"] for item in headers["CustomHeadersConfig"]["Items"]}
    # Every page header of web_policy (Cross-Origin-Opener-Policy among them), as it says.
    assert {name: sent.get(name) for name in PAGE_SECURITY_HEADERS} == dict(PAGE_SECURITY_HEADERS)


def test_page_may_call_cognitos_endpoint_for_sign_in_and_nothing_else_foreign(
    synthesized: Synthesized,
) -> None:
    policy = _content_security_policy(synthesized)
    # The endpoint config.js names, by the policy `todo-service web` sends for it.
    sign_in = SignIn(REGION, "any-pool", "any-client", cognito_endpoint(REGION))
    assert policy == content_security_policy("", sign_in)
    assert f"connect-src 'self' {COGNITO_ORIGIN};" in policy


def test_page_may_call_its_own_origin_alone_without_auth(
    synthesized_without_auth: Synthesized,
) -> None:
    policy = _content_security_policy(synthesized_without_auth)
    assert policy == content_security_policy("")
    assert "connect-src 'self';" in policy


def test_api_paths_go_uncached_to_the_internal_load_balancer_with_every_method(
    synthesized: Synthesized,
) -> None:
    config = _distribution(synthesized)
    origins = _origins_by_id(config)
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == set(API_PATH_PATTERNS)
    balancer_id, _ = only(synthesized.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"))
    vpc_origin_id, vpc_origin = only(synthesized.resources("AWS::CloudFront::VpcOrigin"))
    endpoint = vpc_origin["Properties"]["VpcOriginEndpointConfig"]
    assert endpoint["Arn"] == ref(balancer_id)
    assert (endpoint["OriginProtocolPolicy"], endpoint["HTTPPort"]) == ("http-only", 80)
    for behavior in behaviors.values():
        origin = origins[behavior["TargetOriginId"]]
        assert origin["VpcOriginConfig"]["VpcOriginId"] == {"Fn::GetAtt": [vpc_origin_id, "Id"]}
        assert behavior["ViewerProtocolPolicy"] == "https-only"
        assert set(behavior["AllowedMethods"]) == {
            "GET",
            "HEAD",
            "OPTIONS",
            "PUT",
            "PATCH",
            "POST",
            "DELETE",
        }
        assert behavior["CachePolicyId"] == cloudfront.CachePolicy.CACHING_DISABLED.cache_policy_id
        assert (
            behavior["OriginRequestPolicyId"]
            == cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.origin_request_policy_id
        )


def test_distribution_logs_access(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {"DistributionConfig": {"Logging": {"Bucket": Match.any_value(), "Prefix": "cloudfront/"}}},
    )


def _generated_config(synthesized: Synthesized) -> tuple[Path, dict[str, Any]]:
    """The staged config.js and the markers the deployment replaces in it at deploy time."""
    _, deployment = only(synthesized.resources("Custom::CDKBucketDeployment"))
    props = deployment["Properties"]
    sources = [
        (synthesized.outdir / f"asset.{key.removesuffix('.zip')}", markers)
        for key, markers in zip(props["SourceObjectKeys"], props["SourceMarkers"], strict=True)
    ]
    # Exactly one source holds config.js: the generated one (web/'s own is left out).
    ((directory, markers),) = [s for s in sources if (s[0] / CONFIG_FILE).is_file()]
    return directory / CONFIG_FILE, markers


def test_page_and_generated_config_are_deployed_and_cloudfront_invalidated(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    _, deployment = only(synthesized.resources("Custom::CDKBucketDeployment"))
    props = deployment["Properties"]
    assert len(props["SourceObjectKeys"]) == 2  # web/, and the generated config.js
    assert props["DistributionPaths"] == ["/*"]
    assert props["Prune"] is True
    assert props["RetainOnDelete"] is False  # so that the stack can delete the website bucket
    # The stale config.js on disk is left out: the only one staged is the generated one.
    staged = list(synthesized.outdir.glob(f"asset.*/{CONFIG_FILE}"))
    config_file, _ = _generated_config(synthesized)
    assert staged == [config_file]
    assert config_file.read_text().startswith('window.TODO_CONFIG = {"apiBaseUrl": "",')
    # No content hashes in the file names: browsers revalidate, as with `todo-service web`.
    assert props["SystemMetadata"] == {"cache-control": STATIC_CACHE_CONTROL}


def test_generated_config_names_no_pool_without_auth(
    synthesized_without_auth: Synthesized,
) -> None:
    config_file, markers = _generated_config(synthesized_without_auth)
    assert config_file.read_bytes() == config_js("")
    assert markers == {}


@pytest.fixture
def deployment_function(monkeypatch: pytest.MonkeyPatch, synthesized: Synthesized) -> ModuleType:
    """CDK's own BucketDeployment function, as staged for deployment (it runs on Lambda)."""
    (source,) = [
        path
        for path in synthesized.outdir.glob("asset.*/index.py")
        if "def replace_markers(" in path.read_text()
    ]
    # It makes its boto3 clients at import; making one sends nothing, but needs a region.
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    spec = importlib.util.spec_from_file_location("cdk_bucket_deployment", source)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_config_gets_the_deployed_pool_and_client_at_deploy_time(
    synthesized: Synthesized, deployment_function: ModuleType, tmp_path: Path
) -> None:
    pool_id, _ = only(synthesized.resources("AWS::Cognito::UserPool"))
    client_id, _ = only(synthesized.resources("AWS::Cognito::UserPoolClient"))
    config_file, markers = _generated_config(synthesized)
    # The synthesized file holds markers where the ids go, never an unresolved CDK token.
    staged = config_file.read_text()
    assert "${Token[" not in staged
    assert sorted(markers.values(), key=str) == sorted([ref(pool_id), ref(client_id)], key=str)
    (pool_marker,) = [m for m, value in markers.items() if value == ref(pool_id)]
    (client_marker,) = [m for m, value in markers.items() if value == ref(client_id)]
    assert config_file.read_bytes() == config_js(
        "", SignIn(REGION, pool_marker, client_marker, cognito_endpoint(REGION))
    )
    # What CloudFormation resolves the references to, replaced by the function's own code.
    resolved = {pool_marker: f"{REGION}_AbC123xyz", client_marker: "4tq1example0client0id0abc1"}
    deployed = tmp_path / CONFIG_FILE
    shutil.copy(config_file, deployed)
    deployment_function.replace_markers(str(deployed), resolved, {})
    text = deployed.read_text()
    prefix, suffix = "window.TODO_CONFIG = ", ";\n"
    assert text.startswith(prefix)
    assert text.endswith(suffix)
    config = json.loads(text.removeprefix(prefix).removesuffix(suffix))
    assert config["auth"] == {
        "region": REGION,
        "userPoolId": f"{REGION}_AbC123xyz",
        "clientId": "4tq1example0client0id0abc1",
        "endpoint": "https://cognito-idp.us-east-1.amazonaws.com/",
        # Anyone may sign up by default (`todo:signup=open`).
        "selfSignUp": True,
    }
    assert config["apiBaseUrl"] == ""


def test_outputs_name_the_website_the_api_and_the_table(
    synthesized_each_mode: Synthesized,
) -> None:
    synthesized = synthesized_each_mode
    outputs = synthesized.template.find_outputs("*")
    assert set(outputs) >= {"WebsiteUrl", "ApiUrl", "TableName"}
    distribution_id, _ = only(synthesized.resources("AWS::CloudFront::Distribution"))
    https_url = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    # The API is served on the page's own origin: no mixed content, no CORS.
    assert outputs["WebsiteUrl"]["Value"] == outputs["ApiUrl"]["Value"] == https_url


# API paths deliberately not published through CloudFront, each with its reason.
NOT_THROUGH_CLOUDFRONT = {
    # The distribution's root is the page (index.html); the API's `/` is the workshop's health
    # message, which /healthz answers through CloudFront too.
    "/": "the page",
    # Prometheus metrics are for a scraper inside the VPC, not for the internet.
    "/metrics": "internal",
}


def cloudfront_pattern_matches(pattern: str, path: str) -> bool:
    """CloudFront's path patterns: `*` any characters (slashes too), `?` one, case-sensitive."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.fullmatch(regex, path) is not None


def test_pattern_matcher_follows_cloudfronts_rules() -> None:
    assert cloudfront_pattern_matches("/todos*", "/todos/1/toggle")
    assert cloudfront_pattern_matches("/todos?", "/todos1")
    assert not cloudfront_pattern_matches("/todos?", "/todos")
    assert not cloudfront_pattern_matches("/todos*", "/Todos")
    assert not cloudfront_pattern_matches("/healthz", "/healthz/x")


def test_every_openapi_path_reaches_the_api_through_cloudfront(synthesized: Synthesized) -> None:
    config = _distribution(synthesized)
    origins = _origins_by_id(config)
    api_patterns = [
        b["PathPattern"]
        for b in config["CacheBehaviors"]
        if "VpcOriginConfig" in origins[b["TargetOriginId"]]
    ]
    paths = set(openapi_document()["paths"])
    assert set(NOT_THROUGH_CLOUDFRONT) <= paths
    for template_path in sorted(paths):
        # A templated segment such as {id} stands for any value; a real id tests the pattern.
        path = re.sub(r"\{[^}]+\}", "1", template_path)
        # CloudFront takes the first matching behaviour in order, then the default (S3).
        first = next(
            (
                p
                for p in (b["PathPattern"] for b in config["CacheBehaviors"])
                if cloudfront_pattern_matches(p, path)
            ),
            None,
        )
        if template_path in NOT_THROUGH_CLOUDFRONT:
            assert first is None or first not in api_patterns, template_path
        else:
            assert first in api_patterns, f"{template_path} does not reach the API: {first}"
