"""The opt-ins of issue 21 (`todo:waf`, `todo:signup`) and the new context values' checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template

from todo_cdk.assembly import build
from todo_cdk.stack import ContextError, TodoStackProps
from todo_cdk.waf import COMMON_RULES, EXCLUDED_RULES, RATE_LIMIT_PER_5_MIN
from todo_service.web_policy import config_js

from .conftest import cdk_json_context
from .templates import Synthesized, dashboard_metrics, only


def _web_acl(synthesized: Synthesized) -> dict[str, Any]:
    assert synthesized.waf is not None
    (acl,) = synthesized.waf.find_resources("AWS::WAFv2::WebACL").values()
    props: dict[str, Any] = acl["Properties"]
    return props


def _rules(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in _web_acl(synthesized)["Rules"]}


def test_no_web_acl_by_default(synthesized: Synthesized) -> None:
    assert synthesized.waf_stack is None
    _, distribution = only(synthesized.resources("AWS::CloudFront::Distribution"))
    assert "WebACLId" not in distribution["Properties"]["DistributionConfig"]


def test_waf_is_a_cloudfront_web_acl_in_us_east_1_attached_to_the_distribution(
    synthesized_with_options: Synthesized,
) -> None:
    synthesized = synthesized_with_options
    assert synthesized.waf_stack is not None
    assert synthesized.waf is not None
    assert synthesized.waf_stack.region == "us-east-1"
    acl = _web_acl(synthesized)
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    _, distribution = only(synthesized.resources("AWS::CloudFront::Distribution"))
    reference = distribution["Properties"]["DistributionConfig"]["WebACLId"]["Fn::GetStackOutput"]
    assert (reference["StackName"], reference["Region"]) == ("TodoServiceWaf", "us-east-1")
    output = synthesized.waf.to_json()["Outputs"][reference["OutputName"]]
    (acl_id,) = synthesized.waf.find_resources("AWS::WAFv2::WebACL")
    assert output["Value"] == {"Fn::GetAtt": [acl_id, "Arn"]}


def test_rate_rule_comes_first_per_client_ip_and_answers_429_with_retry_after(
    synthesized_with_options: Synthesized,
) -> None:
    rule = _rules(synthesized_with_options)["RateLimitPerIp"]
    assert rule["Priority"] == 0
    assert rule["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
        "Limit": RATE_LIMIT_PER_5_MIN,
    }
    response = rule["Action"]["Block"]["CustomResponse"]
    assert response["ResponseCode"] == 429
    assert response["CustomResponseBodyKey"] == "rate_limited"
    assert response["ResponseHeaders"] == [{"Name": "Retry-After", "Value": "300"}]


def test_common_rule_set_blocks_with_our_json_except_the_rules_that_read_todo_texts(
    synthesized_with_options: Synthesized,
) -> None:
    rule = _rules(synthesized_with_options)["AWSManagedRulesCommonRuleSet"]
    assert rule["Priority"] == 1
    assert rule["OverrideAction"] == {"None": {}}
    group = rule["Statement"]["ManagedRuleGroupStatement"]
    assert (group["VendorName"], group["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    actions = {o["Name"]: o["ActionToUse"] for o in group["RuleActionOverrides"]}
    assert set(actions) == set(COMMON_RULES)
    # Only rules on the body are excluded: where a todo's text is.
    assert {
        "CrossSiteScripting_BODY",
        "GenericLFI_BODY",
        "GenericRFI_BODY",
        "EC2MetaDataSSRF_BODY",
    } == EXCLUDED_RULES
    for name, action in actions.items():
        if name in EXCLUDED_RULES:
            assert action == {"Count": {}}
        else:
            assert action == {
                "Block": {
                    "CustomResponse": {"ResponseCode": 403, "CustomResponseBodyKey": "forbidden"}
                }
            }


def test_every_block_answer_is_the_apis_json_error_format(
    synthesized_with_options: Synthesized,
) -> None:
    bodies = _web_acl(synthesized_with_options)["CustomResponseBodies"]
    assert set(bodies) == {"rate_limited", "forbidden"}
    for key, body in bodies.items():
        assert body["ContentType"] == "APPLICATION_JSON"
        error = json.loads(body["Content"])["error"]
        assert set(error) == {"code", "message"}
        assert error["code"] == key
    referenced = {
        r["Action"]["Block"]["CustomResponse"]["CustomResponseBodyKey"]
        for r in _web_acl(synthesized_with_options)["Rules"]
        if "Action" in r
    }
    assert referenced <= set(bodies)


def test_closed_signup_lets_only_an_administrator_create_users(
    synthesized_with_options: Synthesized,
) -> None:
    _, pool = only(synthesized_with_options.resources("AWS::Cognito::UserPool"))
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    # The page is told, so that it offers no sign-up.
    users = synthesized_with_options.stack.users
    assert users is not None
    sign_in = users.sign_in()
    assert sign_in.self_sign_up is False
    text = config_js("", sign_in).decode()
    assert '"selfSignUp": false' in text


def test_open_signup_is_the_default(synthesized: Synthesized) -> None:
    _, pool = only(synthesized.resources("AWS::Cognito::UserPool"))
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert synthesized.stack.users is not None
    assert synthesized.stack.users.sign_in().self_sign_up is True


def test_options_add_no_unsuppressed_cdk_nag_finding(
    synthesized_with_options: Synthesized,
) -> None:
    # Synthesis fails on a cdk-nag error; warnings are annotations of each stack.
    assert synthesized_with_options.waf_stack is not None
    for stack in (
        synthesized_with_options.stack,
        synthesized_with_options.edge_stack,
        synthesized_with_options.waf_stack,
    ):
        warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())
        assert [w["entry"]["data"] for w in warnings] == []
    # With the ACL attached, the "no WAF" acceptance is gone from the distribution.
    _, distribution = only(synthesized_with_options.resources("AWS::CloudFront::Distribution"))
    suppressed = distribution["Metadata"]["cdk_nag"]["rules_to_suppress"]
    assert "AwsSolutions-CFR2" not in {rule["id"] for rule in suppressed}


def test_edge_alarm_reads_the_distribution_from_the_main_stacks_region(tmp_path: Path) -> None:
    app = cdk.App(context=cdk_json_context(), outdir=str(tmp_path))
    stacks = build(app, region="eu-west-1")
    assert (stacks.service.region, stacks.edge.region) == ("eu-west-1", "us-east-1")
    edge = Template.from_stack(stacks.edge).to_json()
    references = [
        dimension["Value"]["Fn::GetStackOutput"]
        for alarm in edge["Resources"].values()
        if alarm["Type"] == "AWS::CloudWatch::Alarm"
        for metric in alarm["Properties"]["Metrics"]
        if "MetricStat" in metric
        for dimension in metric["MetricStat"]["Metric"]["Dimensions"]
        if dimension["Name"] == "DistributionId"
    ]
    assert references
    assert all(r["Region"] == "eu-west-1" and r["StackName"] == "TodoService" for r in references)
    # A weak reference: no custom resource carries the value across regions.
    assert not [r for r in edge["Resources"].values() if r["Type"].startswith("Custom::")]
    # The edge stack deploys after the main one, whose output it reads.
    assert stacks.service in stacks.edge.dependencies
    # The main stack's dashboard reads CloudFront's metrics from us-east-1.
    cloudfront = [
        m
        for m in dashboard_metrics(Template.from_stack(stacks.service))
        if m[0] == "AWS/CloudFront"
    ]
    assert cloudfront
    assert all(m[-1]["region"] == "us-east-1" for m in cloudfront)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"todo:waf": "yes"}, "todo:waf='yes' must be one of off, on"),
        ({"todo:signup": "invite"}, "todo:signup='invite' must be one of open, closed"),
        (
            {"todo:signup": "closed", "todo:auth": "none"},
            "todo:signup=closed needs todo:auth=cognito (without sign-in there are no users)",
        ),
        ({"todo:traceSampleRate": "5%"}, "todo:traceSampleRate='5%' must be a number"),
        ({"todo:traceSampleRate": "1.5"}, "todo:traceSampleRate=1.5 must be from 0 to 1"),
        ({"todo:traceSampleRate": "-0.1"}, "todo:traceSampleRate=-0.1 must be from 0 to 1"),
        ({"todo:traceSampleRate": "nan"}, "todo:traceSampleRate=nan must be from 0 to 1"),
        ({"todo:alarmEmail": "oncall"}, "todo:alarmEmail='oncall' is not an email address"),
        (
            {"todo:alarmEmail": "a b@example.com"},
            "todo:alarmEmail='a b@example.com' is not an email address",
        ),
    ],
)
def test_bad_new_context_values_are_refused_in_one_line_naming_them(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(ContextError) as raised:
        TodoStackProps.from_context(cdk.App(context=context).node)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_good_new_context_values_are_taken() -> None:
    props = TodoStackProps.from_context(
        cdk.App(
            context={
                "todo:traceSampleRate": "0",
                "todo:alarmEmail": "oncall@example.com",
                "todo:waf": "on",
                "todo:signup": "closed",
            }
        ).node
    )
    assert (props.trace_sample_rate, props.alarm_email) == (0.0, "oncall@example.com")
    assert (props.waf, props.signup) == ("on", "closed")
    defaults = TodoStackProps()
    assert (defaults.trace_sample_rate, defaults.alarm_email) == (0.05, None)
    assert (defaults.waf, defaults.signup) == ("off", "open")
