"""TodoWebsite: the page in a private bucket, and one CloudFront distribution for page and API."""

from __future__ import annotations

from pathlib import Path
from typing import Final, TypeVar

import aws_cdk as cdk
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from todo_service.web_policy import (
    CONFIG_FILE,
    INDEX_FILE,
    PAGE_SECURITY_HEADERS,
    STATIC_CACHE_CONTROL,
    SignIn,
    config_js,
    content_security_policy,
)

from .service import LISTENER_PORT

# The API's routes, sent to the load balancer; every other path is the page, from S3.
API_PATH_PATTERNS: Final = ("/todos*", "/healthz", "/readyz", "/openapi.json")
# The API is behind the same distribution: the page calls its own origin.
SAME_ORIGIN: Final = ""


_E = TypeVar("_E")

# CloudFront sets these through the policy's security-headers settings, and refuses them as
# custom headers; every other page header is a custom one.
_SECURITY_BEHAVIOR_HEADERS: Final = frozenset(
    {"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"}
)


def _enum_member(enum: type[_E], header_value: str) -> _E:
    """The jsii enum member for a header value, e.g. "no-referrer" -> NO_REFERRER."""
    member: _E = getattr(enum, header_value.replace("-", "_").upper())
    return member


def page_headers_policy(
    scope: Construct, construct_id: str, sign_in: SignIn | None
) -> cloudfront.ResponseHeadersPolicy:
    """The page's headers exactly as `todo_service.web_policy` defines them for every server.

    With `sign_in`, the policy lets the page call Cognito's endpoint too (connect-src).
    """
    headers = PAGE_SECURITY_HEADERS
    # CloudFront can only send "nosniff"; anything else in web_policy must fail synthesis.
    if headers["X-Content-Type-Options"] != "nosniff":
        raise ValueError("CloudFront only sends X-Content-Type-Options: nosniff")
    return cloudfront.ResponseHeadersPolicy(
        scope,
        construct_id,
        comment="todo-service page: CSP and the security headers of web_policy",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                # The policy `todo-service web` sends with the page, for a same-origin API.
                content_security_policy=content_security_policy(SAME_ORIGIN, sign_in),
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=_enum_member(
                    cloudfront.HeadersFrameOption, headers["X-Frame-Options"]
                ),
                override=True,
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=_enum_member(
                    cloudfront.HeadersReferrerPolicy, headers["Referrer-Policy"]
                ),
                override=True,
            ),
            # Only behind CloudFront is the page always HTTPS, so only here is HSTS sent.
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=cdk.Duration.days(365), override=True
            ),
        ),
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
            custom_headers=[
                cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                for name, value in headers.items()
                if name not in _SECURITY_BEHAVIOR_HEADERS
            ]
        ),
    )


def cdk_nag_regex(pattern: str) -> RegexAppliesTo:
    """A cdk-nag `applies_to` entry matching findings by a regular expression."""
    return RegexAppliesTo(regex=f"/{pattern}/")


class TodoWebsite(Construct):
    """HTTPS only, one origin for the browser: no mixed content and no CORS.

    The default behaviour serves `web/` from a private bucket through Origin Access Control;
    the API's paths go to the internal load balancer through a VPC origin, uncached, with
    every method, query string and header but Host passed on. config.js is generated here,
    never taken from disk, by the page server's own `config_js`, and names the same origin
    ("") since the API is behind this distribution too, and the user pool to sign in to
    (`sign_in`; None when the API needs no sign-in).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        web_directory: Path,
        api_load_balancer: elbv2.IApplicationLoadBalancer,
        access_log_bucket: s3.IBucket,
        sign_in: SignIn | None,
        web_acl_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="website-bucket/",
            # Holds nothing but a copy of web/: the deployment below empties it on delete,
            # so the stack can remove it.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )

        page_headers = page_headers_policy(self, "PageHeaders", sign_in)

        api_origin = origins.VpcOrigin.with_application_load_balancer(
            api_load_balancer,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            http_port=LISTENER_PORT,
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Query strings (limit, cursor, completed), If-Match, Content-Type, X-Request-ID:
            # everything but Host, which CloudFront sets to the origin's own (the managed
            # policy meant for load balancer origins).
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="todo-service: the page and its API",
            default_root_object=INDEX_FILE,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=page_headers,
            ),
            additional_behaviors={pattern: api_behavior for pattern in API_PATH_PATTERNS},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=access_log_bucket,
            log_file_prefix="cloudfront/",
            # `-c todo:waf=on`: the web ACL of waf.py, in front of the page and the API.
            web_acl_id=web_acl_arn,
        )

        files = s3deploy.BucketDeployment(
            self,
            "Files",
            destination_bucket=self.bucket,
            sources=[
                # A config.js left on disk by local use must never shadow the generated one.
                s3deploy.Source.asset(str(web_directory), exclude=[CONFIG_FILE]),
                # The pool and client ids are tokens here: Source.data writes markers in their
                # place, which the deployment function replaces with the deployed values.
                s3deploy.Source.data(CONFIG_FILE, config_js(SAME_ORIGIN, sign_in).decode()),
            ],
            # The file names carry no content hash, so browsers revalidate (cheaply, by ETag)
            # and every deployment invalidates CloudFront's copies.
            cache_control=[s3deploy.CacheControl.from_string(STATIC_CACHE_CONTROL)],
            distribution=self.distribution,
            distribution_paths=["/*"],
            retain_on_delete=False,
        )

        no_waf = [
            NagPackSuppression(
                id="AwsSolutions-CFR2",
                reason="No AWS WAF web ACL by default: it costs at least $5 a month plus "
                "$1 per rule and $0.60 per million requests; the API bounds and validates "
                "every request itself. `-c todo:waf=on` attaches one (waf.py).",
            )
        ]
        NagSuppressions.add_resource_suppressions(
            self.distribution,
            [
                NagPackSuppression(
                    id="AwsSolutions-CFR1",
                    reason="A todo list for anyone: no country is to be kept out.",
                ),
                *(no_waf if web_acl_arn is None else []),
                NagPackSuppression(
                    id="AwsSolutions-CFR4",
                    reason="The distribution uses CloudFront's default *.cloudfront.net "
                    "certificate, whose minimum TLS version cannot be set; with a custom "
                    "domain and an ACM certificate, set minimum_protocol_version TLSv1.2_2021.",
                ),
            ],
        )

        self._suppress_deployment_findings(files)

    @staticmethod
    def _suppress_deployment_findings(files: s3deploy.BucketDeployment) -> None:
        """The findings on CDK's own BucketDeployment function, which we cannot change.

        The function is a singleton that CDK places at the stack's top level, so it is found
        by its id; the role is the deployment's own.
        """
        stack = cdk.Stack.of(files)
        handlers = [
            child
            for child in stack.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        NagSuppressions.add_resource_suppressions(
            [files.handler_role, *handlers],
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole"
                    ],
                    reason="CDK's deployment function writes its own logs with the standard "
                    "Lambda logging policy, and nothing else.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    applies_to=[
                        "Action::s3:GetBucket*",
                        "Action::s3:GetObject*",
                        "Action::s3:List*",
                        "Action::s3:Abort*",
                        "Action::s3:DeleteObject*",
                        cdk_nag_regex(r"^Resource::<WebsiteBucket[0-9A-F]+\.Arn>/\*$"),
                        cdk_nag_regex(r"^Resource::arn:[^:]+:s3:::cdk-[a-z0-9]+-assets-.+/\*$"),
                    ],
                    reason="CDK's deployment function copies the page from the CDK asset "
                    "bucket into the website bucket and prunes old files: object wildcards "
                    "inside those two buckets only.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    applies_to=["Resource::*"],
                    reason="CDK grants the deployment function cloudfront:CreateInvalidation "
                    "and GetInvalidation on every distribution; it invalidates only this one, "
                    "after each deployment of the page.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason="The runtime of CDK's deployment function is chosen by aws-cdk-lib "
                    "and moves forward with it; it runs only during deployments.",
                ),
            ],
            apply_to_children=True,
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
