"""TodoWafStack (`-c todo:waf=on`): an AWS WAF web ACL for the CloudFront distribution.

A web ACL for CloudFront has scope CLOUDFRONT and must be created in us-east-1, so it has a
stack of its own there, deployed before the main stack, whose distribution takes the ACL's
ARN by a cross-stack reference. (It cannot share TodoServiceEdge: that stack reads the
distribution's id, and the distribution reads this ACL, so one stack would need the other
both before and after itself.)

Two rules, cheapest first: a rate limit per client IP, then AWS's managed common rule set,
less the rules that would refuse ordinary todo texts. Every block answers in the API's
error format, `{"error": {"code", "message"}}`, as JSON.
"""

from __future__ import annotations

import json
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests per client IP in any 5 minutes (WAF's evaluation window) before it answers 429:
# about 3 a second for 5 minutes, far above what the page sends for one person.
RATE_LIMIT_PER_5_MIN: Final = 1000
RATE_WINDOW_S: Final = 300
COMMON_RULE_SET: Final = "AWSManagedRulesCommonRuleSet"
# The common rule set's rules, as AWS documents them. Each one blocks with our JSON body; a
# rule AWS adds later blocks with WAF's plain 403 until it is listed here.
COMMON_RULES: Final = (
    "NoUserAgent_HEADER",
    "UserAgent_BadBots_HEADER",
    "SizeRestrictions_QUERYSTRING",
    "SizeRestrictions_Cookie_HEADER",
    "SizeRestrictions_BODY",
    "SizeRestrictions_URIPATH",
    "EC2MetaDataSSRF_BODY",
    "EC2MetaDataSSRF_COOKIE",
    "EC2MetaDataSSRF_URIPATH",
    "EC2MetaDataSSRF_QUERYARGUMENTS",
    "GenericLFI_QUERYARGUMENTS",
    "GenericLFI_URIPATH",
    "GenericLFI_BODY",
    "RestrictedExtensions_URIPATH",
    "RestrictedExtensions_QUERYARGUMENTS",
    "GenericRFI_QUERYARGUMENTS",
    "GenericRFI_BODY",
    "GenericRFI_URIPATH",
    "CrossSiteScripting_COOKIE",
    "CrossSiteScripting_QUERYARGUMENTS",
    "CrossSiteScripting_BODY",
    "CrossSiteScripting_URIPATH",
)
# Only counted, never blocking: they read the request body, where a todo's text is, and a
# todo may well say "fix the <script> tag" (XSS), "see ../notes" (LFI), "check
# http://192.168.1.1" (RFI) or "why is 169.254.169.254 slow" (SSRF). The API stores text as
# text and the page never inserts it as HTML, so these patterns are harmless here.
EXCLUDED_RULES: Final = frozenset(
    {"CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY"}
)
RATE_LIMITED_BODY: Final = "rate_limited"
FORBIDDEN_BODY: Final = "forbidden"
RESPONSE_BODIES: Final = {
    RATE_LIMITED_BODY: {
        "error": {
            "code": "rate_limited",
            "message": "too many requests from this address; retry after the Retry-After seconds",
        }
    },
    FORBIDDEN_BODY: {
        "error": {"code": "forbidden", "message": "the request was refused by the firewall"}
    },
}


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # WAF's own CloudWatch metrics and sampled requests are free; full logging is not.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )


def _block(body_key: str, status: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"responseCode": status, "customResponseBodyKey": body_key}
    if headers:
        response["responseHeaders"] = [{"name": k, "value": v} for k, v in headers.items()]
    return {"block": {"customResponse": response}}


def common_rule_overrides() -> list[dict[str, Any]]:
    """Block with our JSON for every listed common rule, count only for the excluded ones."""
    return [
        {
            "name": rule,
            "actionToUse": {"count": {}} if rule in EXCLUDED_RULES else _block(FORBIDDEN_BODY, 403),
        }
        for rule in COMMON_RULES
    ]


class TodoWafStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            description="todo-service: a rate limit per IP, then the AWS common rule set",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("TodoService"),
            custom_response_bodies={
                key: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=json.dumps(body)
                )
                for key, body in RESPONSE_BODIES.items()
            },
            rules=[
                {
                    "name": "RateLimitPerIp",
                    "priority": 0,
                    "statement": {
                        "rateBasedStatement": {
                            "limit": RATE_LIMIT_PER_5_MIN,
                            "aggregateKeyType": "IP",
                            "evaluationWindowSec": RATE_WINDOW_S,
                        }
                    },
                    "action": _block(RATE_LIMITED_BODY, 429, {"Retry-After": str(RATE_WINDOW_S)}),
                    "visibilityConfig": _visibility("RateLimitPerIp"),
                },
                {
                    "name": COMMON_RULE_SET,
                    "priority": 1,
                    "statement": {
                        "managedRuleGroupStatement": {
                            "vendorName": "AWS",
                            "name": COMMON_RULE_SET,
                            "ruleActionOverrides": common_rule_overrides(),
                        }
                    },
                    "overrideAction": {"none": {}},
                    "visibilityConfig": _visibility(COMMON_RULE_SET),
                },
            ],
        )

    @property
    def web_acl_arn(self) -> str:
        return self.web_acl.attr_arn
