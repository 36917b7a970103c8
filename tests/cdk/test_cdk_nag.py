"""cdk-nag's AWS Solutions checks: no unsuppressed finding, and every suppression says why."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from .templates import Synthesized

# Every finding this app accepts, by rule (and, for IAM, by the permission it names). The
# reasons sit beside the resources in todo_cdk; a new suppression must be added here too.
ACCEPTED_FINDINGS = {
    "AwsSolutions-CFR1",  # no geo restriction
    "AwsSolutions-CFR2",  # no WAF by default
    "AwsSolutions-CFR4",  # the default CloudFront certificate's TLS floor
    "AwsSolutions-COG2",  # MFA optional, as issue 12 asks
    "AwsSolutions-COG8",  # no Plus feature plan (threat protection) by default
    "AwsSolutions-ECS2",  # non-secret environment variables
    "AwsSolutions-IAM4",  # CDK's BucketDeployment function: basic Lambda logging
    "AwsSolutions-IAM5",  # ecr:GetAuthorizationToken; xray:PutTraceSegments; CDK's functions
    "AwsSolutions-L1",  # CDK's BucketDeployment function runtime
    "AwsSolutions-S1",  # the access-log bucket does not log itself
    "AwsSolutions-SMG4",  # the cursor key is rotated by redeploying
    "AwsSolutions-SNS2",  # the alarm topic: no KMS key (CloudWatch cannot use aws/sns)
}


def _suppressions(synthesized: Synthesized) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for resource in synthesized.template.to_json()["Resources"].values():
        rules.extend(resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []))
    return rules


def test_aws_solutions_checks_report_no_unsuppressed_error(
    synthesized_each_mode: Synthesized,
) -> None:
    annotations = synthesized_each_mode.annotations
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e["entry"]["data"] for e in errors] == []


def test_aws_solutions_checks_report_no_unsuppressed_warning(
    synthesized_each_mode: Synthesized,
) -> None:
    warnings = synthesized_each_mode.annotations.find_warning("*", Match.string_like_regexp(".*"))
    assert [w["entry"]["data"] for w in warnings] == []


def test_aws_solutions_checks_ran(synthesized: Synthesized) -> None:
    # cdk-nag records its suppressions in the template; none would mean it never looked.
    assert {rule["id"] for rule in _suppressions(synthesized)} == ACCEPTED_FINDINGS


def test_only_the_user_pools_findings_go_with_it(synthesized_without_auth: Synthesized) -> None:
    cognito_rules = {rule for rule in ACCEPTED_FINDINGS if rule.startswith("AwsSolutions-COG")}
    found = {rule["id"] for rule in _suppressions(synthesized_without_auth)}
    assert found == ACCEPTED_FINDINGS - cognito_rules


def test_every_suppression_carries_a_written_reason(synthesized: Synthesized) -> None:
    for rule in _suppressions(synthesized):
        reason = rule["reason"]
        assert len(reason.split()) >= 8, f"{rule['id']}: give a real reason, not {reason!r}"


def test_iam_wildcard_suppressions_name_the_permissions_they_accept(
    synthesized: Synthesized,
) -> None:
    for rule in _suppressions(synthesized):
        if rule["id"] in ("AwsSolutions-IAM4", "AwsSolutions-IAM5"):
            assert rule.get("applies_to"), f"{rule['id']} suppressed wholesale: {rule['reason']}"
