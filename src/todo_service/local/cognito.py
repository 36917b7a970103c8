"""A Cognito user pool and app client on the embedded server, for `dev` and the tests.

moto's Cognito IdP answers on the same port as its DynamoDB (one DomainDispatcherApplication
routes by the request's signing service), signs RS256 tokens with its one built-in key and
publishes that key at `<endpoint>/<pool-id>/.well-known/jwks.json`.

What moto does with sign-up codes: SignUp answers where a code "was sent" (CodeDeliveryDetails)
but neither sends nor keeps one, and ConfirmSignUp accepts any code (`CONFIRMATION_CODE_HINT`).
"""

from __future__ import annotations

import dataclasses
from typing import Final

import aioboto3

# The flows the page and the tests use: a password sign-in and silent refresh.
AUTH_FLOWS: Final = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
# Codes go by email, as in the cloud's pool: without this moto (like Cognito's legacy default)
# says it sent them by SMS to a made-up number.
ACCOUNT_RECOVERY: Final = {"RecoveryMechanisms": [{"Priority": 1, "Name": "verified_email"}]}
# The deployed pool's policy (cdk/todo_cdk/user_pool.py; tests/cdk checks they agree), so a
# password that works here works there; `dev` prints it (password_rule).
PASSWORD_POLICY: Final = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
CONFIRMATION_CODE_HINT: Final = (
    "No email is sent locally: the embedded Cognito (moto) accepts any confirmation code, "
    "such as 123456."
)


def password_rule() -> str:
    """PASSWORD_POLICY in words, e.g. "at least 12 characters, with an upper-case letter, ..."."""
    kinds = [
        name
        for key, name in (
            ("RequireUppercase", "an upper-case letter"),
            ("RequireLowercase", "a lower-case letter"),
            ("RequireNumbers", "a digit"),
            ("RequireSymbols", "a symbol"),
        )
        if PASSWORD_POLICY[key]
    ]
    rule = f"at least {PASSWORD_POLICY['MinimumLength']} characters"
    if not kinds:
        return rule
    listed = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} and {kinds[-1]}"
    return f"{rule}, with {listed}"


@dataclasses.dataclass(frozen=True, slots=True)
class LocalPool:
    endpoint_url: str
    region: str
    user_pool_id: str
    client_id: str

    @property
    def jwks_url(self) -> str:
        """Where the local server publishes the pool's keys: the tokens' issuer names AWS's
        host, so the service is pointed here (TODO_COGNITO_JWKS_URL)."""
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"


async def create_pool(endpoint_url: str, region: str, name: str) -> LocalPool:
    """A new user pool with email sign-up and one public app client (no secret)."""
    session = aioboto3.Session()
    async with session.client("cognito-idp", endpoint_url=endpoint_url, region_name=region) as idp:
        pool = await idp.create_user_pool(
            PoolName=name,
            AutoVerifiedAttributes=["email"],
            AccountRecoverySetting=ACCOUNT_RECOVERY,
            Policies={"PasswordPolicy": PASSWORD_POLICY},
        )
        pool_id = pool["UserPool"]["Id"]
        client = await idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=f"{name}-web", ExplicitAuthFlows=AUTH_FLOWS
        )
    return LocalPool(endpoint_url, region, pool_id, client["UserPoolClient"]["ClientId"])
