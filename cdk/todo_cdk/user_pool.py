"""TodoUserPool: the Cognito user pool the page signs in to, and its one public app client.

The page calls Cognito's JSON API itself with fetch (SignUp, ConfirmSignUp, InitiateAuth with
USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH, RevokeToken), so the client allows exactly those
two flows: no SRP, no hosted UI, no OAuth. The service verifies the access tokens in-process
(docs/auth.md) against this pool's issuer and this client's id.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from todo_service.web_policy import SignIn, cognito_endpoint

MIN_PASSWORD_LENGTH: Final = 12
# The service verifies access tokens in-process and cannot see a revocation (sign-out revokes
# the refresh token; Cognito's own APIs then refuse its access tokens, our API cannot know):
# a short access token bounds how long a token outlives its sign-out. The page refreshes
# silently before expiry, so users do not notice.
ACCESS_TOKEN_VALIDITY_MINUTES: Final = 15
ID_TOKEN_VALIDITY_MINUTES: Final = 15
# How long "stay signed in" lasts without a password: a week of use, then sign in again.
REFRESH_TOKEN_VALIDITY_DAYS: Final = 7
VERIFICATION_EMAIL_SUBJECT: Final = "Your todo-service verification code"
VERIFICATION_EMAIL_BODY: Final = "Your todo-service verification code is {####}."


class TodoUserPool(Construct):
    """Email sign-in with self sign-up, confirmed by a code sent by email; TOTP MFA optional.

    Retained, with deletion protection, like the todo table: a todo's `owner` is its user's
    `sub` in this pool, and a new pool gives every user a new `sub`. Deleting the pool would
    leave every todo in the retained table owned by nobody who can sign in, and every user to
    sign up again. Properties that CloudFormation can only change by replacing the pool
    (the sign-in alias, the required attributes) have the same effect: change them knowingly.
    """

    def __init__(self, scope: Construct, construct_id: str, *, self_sign_up: bool = True) -> None:
        super().__init__(scope, construct_id)
        self.self_sign_up = self_sign_up
        self.user_pool = cognito.UserPool(
            self,
            "Pool",
            # The email address is the user name: one identifier, verified before first use.
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            # `-c todo:signup=closed`: only an administrator creates users
            # (`aws cognito-idp admin-create-user`); Cognito mails each a temporary password,
            # which the page makes them replace at first sign-in (NEW_PASSWORD_REQUIRED).
            self_sign_up_enabled=self_sign_up,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # A changed address takes effect only once its code is confirmed: until then the
            # user still signs in with the old one and cannot lock themselves out by a typo.
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            user_verification=cognito.UserVerificationConfig(
                email_style=cognito.VerificationEmailStyle.CODE,
                email_subject=VERIFICATION_EMAIL_SUBJECT,
                email_body=VERIFICATION_EMAIL_BODY,
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=MIN_PASSWORD_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            # Optional, app-based one-time codes only: SMS costs per message, needs an SNS
            # role and an origination number, and is the weakest second factor.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Everything used here is in the Lite plan, which costs about a third of
            # Essentials per monthly active user above the free 10,000.
            feature_plan=cognito.FeaturePlan.LITE,
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "PageClient",
            # The page runs in the browser, where no secret stays secret.
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),  # + ALLOW_REFRESH_TOKEN_AUTH
            disable_o_auth=True,
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            # Sign-in, sign-up and recovery answer alike whether or not the address has an
            # account, so the page cannot be used to find out who uses the service.
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=cdk.Duration.minutes(ACCESS_TOKEN_VALIDITY_MINUTES),
            id_token_validity=cdk.Duration.minutes(ID_TOKEN_VALIDITY_MINUTES),
            refresh_token_validity=cdk.Duration.days(REFRESH_TOKEN_VALIDITY_DAYS),
            # The page reads and sets the email address alone; nothing else a user could
            # write about themselves is used anywhere.
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True
            ),
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )
        NagSuppressions.add_resource_suppressions(
            self.user_pool,
            [
                NagPackSuppression(
                    id="AwsSolutions-COG2",
                    reason="MFA is optional on purpose (issue 12): a todo list for anyone who "
                    "signs up; each user may add a TOTP app as second factor, none is forced.",
                ),
                NagPackSuppression(
                    id="AwsSolutions-COG8",
                    reason="No Plus feature plan: its threat protection costs $0.02 per "
                    "monthly active user with no free tier; passwords are long and MFA is "
                    "offered instead. Set feature_plan PLUS for a deployment that needs it.",
                ),
            ],
        )

    @property
    def user_pool_id(self) -> str:
        return self.user_pool.user_pool_id

    @property
    def client_id(self) -> str:
        return self.client.user_pool_client_id

    def sign_in(self) -> SignIn:
        """What the page's config.js names: this pool and client, and Cognito's endpoint."""
        region = cdk.Stack.of(self).region
        if cdk.Token.is_unresolved(region):
            # The endpoint is parsed as a URL (the page's CSP names its origin), which a token
            # placeholder would survive only by luck; `assembly.build` always binds a region.
            raise ValueError("the user pool's stack needs a concrete region")
        return SignIn(
            region=region,
            user_pool_id=self.user_pool_id,
            client_id=self.client_id,
            endpoint=cognito_endpoint(region),
            self_sign_up=self.self_sign_up,
        )
