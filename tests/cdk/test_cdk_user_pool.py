"""TodoUserPool: email sign-in for the page, one public client with the page's two flows."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from todo_cdk.assembly import build
from todo_service.local.cognito import AUTH_FLOWS, PASSWORD_POLICY

from .cli import REGION
from .conftest import cdk_json_context
from .templates import Synthesized, only, ref


def _pool(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    return only(synthesized.resources("AWS::Cognito::UserPool"))


def _client(synthesized: Synthesized) -> dict[str, Any]:
    _, client = only(synthesized.resources("AWS::Cognito::UserPoolClient"))
    props: dict[str, Any] = client["Properties"]
    return props


def test_users_sign_up_themselves_with_their_email_confirmed_by_a_code(
    synthesized: Synthesized,
) -> None:
    _, pool = _pool(synthesized)
    props = pool["Properties"]
    assert props["UsernameAttributes"] == ["email"]
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert props["AutoVerifiedAttributes"] == ["email"]
    template = props["VerificationMessageTemplate"]
    assert template["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in template["EmailMessage"]
    assert props["Schema"] == [{"Name": "email", "Required": True, "Mutable": True}]
    # A new address replaces the old one only once its code is confirmed.
    assert props["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }


def test_passwords_are_long_and_mixed_mfa_is_optional_totp_and_recovery_by_email(
    synthesized: Synthesized,
) -> None:
    _, pool = _pool(synthesized)
    props = pool["Properties"]
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(
        policy[rule]
        for rule in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )
    # The local pool (`TODO_AUTH=cognito ./scripts/dev`) takes the same passwords.
    assert {rule: policy[rule] for rule in PASSWORD_POLICY} == PASSWORD_POLICY
    assert props["MfaConfiguration"] == "OPTIONAL"
    # App-based codes only: no SMS factor, so no SNS role and no per-message cost.
    assert props["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert "SmsConfiguration" not in props
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }


def test_pool_outlives_the_stack_like_the_table_whose_owners_are_its_users(
    synthesized: Synthesized,
) -> None:
    _, pool = _pool(synthesized)
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"


def test_page_client_is_public_with_exactly_the_flows_the_page_uses(
    synthesized: Synthesized,
) -> None:
    pool_id, _ = _pool(synthesized)
    client = _client(synthesized)
    assert client["UserPoolId"] == ref(pool_id)
    assert client["GenerateSecret"] is False
    # Password sign-in and silent refresh, as the local pool the tests sign in to: no SRP,
    # no admin or custom flows.
    assert client["ExplicitAuthFlows"] == AUTH_FLOWS
    assert set(AUTH_FLOWS) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    # No hosted UI: no OAuth flows, callbacks or domain.
    assert client["AllowedOAuthFlowsUserPoolClient"] is False
    for oauth in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert oauth not in client
    assert synthesized.resources("AWS::Cognito::UserPoolDomain") == {}
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["EnableTokenRevocation"] is True
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["ReadAttributes"] == ["email", "email_verified"]
    assert client["WriteAttributes"] == ["email"]


def test_access_tokens_are_short_lived_and_refreshed_silently(synthesized: Synthesized) -> None:
    client = _client(synthesized)
    assert client["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "minutes",
    }
    # The API cannot see a revoked token: a short access token bounds how long one outlives
    # its sign-out. The refresh token keeps the user signed in meanwhile.
    assert 5 <= client["AccessTokenValidity"] <= 60
    assert client["IdTokenValidity"] == client["AccessTokenValidity"]
    assert client["RefreshTokenValidity"] >= 24 * 60


def test_outputs_name_the_pool_and_the_client(synthesized: Synthesized) -> None:
    pool_id, _ = _pool(synthesized)
    client_id, _ = only(synthesized.resources("AWS::Cognito::UserPoolClient"))
    outputs = synthesized.template.find_outputs("*")
    assert outputs["UserPoolId"]["Value"] == ref(pool_id)
    assert outputs["UserPoolClientId"]["Value"] == ref(client_id)


def test_without_auth_there_is_no_pool_and_no_output_of_one(
    synthesized_without_auth: Synthesized,
) -> None:
    resources = synthesized_without_auth.template.to_json()["Resources"].values()
    assert [r["Type"] for r in resources if r["Type"].startswith("AWS::Cognito::")] == []
    outputs = synthesized_without_auth.template.find_outputs("*")
    assert not {"UserPoolId", "UserPoolClientId"} & set(outputs)


@pytest.mark.parametrize("value", ["", "None", "off", "basic", "COGNITO "])
def test_any_other_auth_context_is_a_one_line_error_naming_the_choices(value: str) -> None:
    app = cdk.App(context=cdk_json_context() | {"todo:auth": value})
    with pytest.raises(SystemExit) as raised:
        build(app, region=REGION)
    assert str(raised.value) == (f"cdk context: todo:auth={value!r} must be one of cognito, none")
