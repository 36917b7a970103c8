"""A Cognito user pool and app client on the embedded server, for `dev` and the tests.

moto's Cognito IdP answers on the same port as its DynamoDB (one DomainDispatcherApplication
routes by the request's signing service), signs RS256 tokens with its one built-in key and
publishes that key at `<endpoint>/<pool-id>/.well-known/jwks.json`.
"""

from __future__ import annotations

import dataclasses
from typing import Final

import aioboto3

# The flows the page (phase B) and the CLI use: a password sign-in and silent refresh.
AUTH_FLOWS: Final = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


@dataclasses.dataclass(frozen=True, slots=True)
class LocalPool:
    endpoint_url: str
    region: str
    user_pool_id: str
    client_id: str

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"


async def create_pool(endpoint_url: str, region: str, name: str) -> LocalPool:
    """A new user pool with email sign-up and one public app client (no secret)."""
    session = aioboto3.Session()
    async with session.client("cognito-idp", endpoint_url=endpoint_url, region_name=region) as idp:
        pool = await idp.create_user_pool(PoolName=name, AutoVerifiedAttributes=["email"])
        pool_id = pool["UserPool"]["Id"]
        client = await idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName=f"{name}-web", ExplicitAuthFlows=AUTH_FLOWS
        )
    return LocalPool(endpoint_url, region, pool_id, client["UserPoolClient"]["ClientId"])
