"""Users and tokens on a Cognito-compatible server, through the real cognito-idp client.

The pool and its app client come from the package's own `local.cognito` (what `dev` uses);
here: sign up and confirm a user, sign in with USER_PASSWORD_AUTH, refresh. And, for forging
tokens the pool "signed", moto's own signing key, read from the moto package.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from importlib import resources
from typing import Any

import aioboto3
import jwt

from todo_service.local.cognito import LocalPool, create_pool
from todo_service.settings import Settings

__all__ = [
    "LocalPool",
    "Tokens",
    "bearer",
    "cognito",
    "create_pool",
    "moto_signing_key",
    "refresh",
    "revoke",
    "sign_in",
]

PASSWORD = "Correct-horse-9"


@dataclasses.dataclass(frozen=True, slots=True)
class Tokens:
    access: str
    id: str
    refresh: str


def cognito(settings: Settings, pool: LocalPool, jwks_url: str | None = None) -> Settings:
    """`settings` with TODO_AUTH=cognito against `pool` (its JWKS on the local server)."""
    return settings.with_cognito(pool.user_pool_id, pool.client_id, jwks_url or pool.jwks_url)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client(pool: LocalPool) -> Any:
    return aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    )


async def sign_up(pool: LocalPool, username: str, password: str = PASSWORD) -> None:
    """Sign up as the page will, then confirm as an administrator (no mail goes out locally)."""
    async with _client(pool) as idp:
        await idp.sign_up(
            ClientId=pool.client_id,
            Username=username,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
        )
        await idp.admin_confirm_sign_up(UserPoolId=pool.user_pool_id, Username=username)


async def sign_in(pool: LocalPool, username: str, password: str = PASSWORD) -> Tokens:
    async with _client(pool) as idp:
        answer = await idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    result = answer["AuthenticationResult"]
    return Tokens(result["AccessToken"], result["IdToken"], result["RefreshToken"])


async def refresh(pool: LocalPool, refresh_token: str) -> str:
    """A new access token from a refresh token (REFRESH_TOKEN_AUTH)."""
    async with _client(pool) as idp:
        answer = await idp.initiate_auth(
            ClientId=pool.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    access: str = answer["AuthenticationResult"]["AccessToken"]
    return access


async def revoke(pool: LocalPool, refresh_token: str) -> None:
    """Sign out as the page does: RevokeToken of the refresh token."""
    async with _client(pool) as idp:
        await idp.revoke_token(Token=refresh_token, ClientId=pool.client_id)


def moto_signing_key() -> tuple[str, Any]:
    """(kid, private key) moto signs every pool's tokens with; its JWKS publishes the pair."""
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz")
    jwk = json.loads(gzip.decompress(raw.read_bytes()))
    return jwk["kid"], jwt.PyJWK(jwk).key
