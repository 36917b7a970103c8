"""The benchmark's signed-in user: a moto user pool, one user, their access token and `sub`.

The cognito contenders (`service-*-cognito`) run `todo-service serve` with TODO_AUTH=cognito
against this pool, and every wrk request carries `Authorization: Bearer <access token>`. moto
runs for Cognito only (DynamoDB stays dynalite): the service fetches the pool's JWKS from it
once per worker, then verifies every token in-process, so moto is off the request path.

The pool and its app client come from the package's `local.cognito`, the sign-up and the
password sign-in from `tests/support/cognito.py`: the same calls `dev` and the tests make.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import Iterator
from typing import Final

import jwt
from tests.support.cognito import sign_in, sign_up

from todo_service.local.cognito import LocalPool, create_pool
from todo_service.local.moto_server import moto_server

REGION: Final = "us-east-1"
USERNAME: Final = "bench"
LOCAL_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}


@dataclasses.dataclass(frozen=True, slots=True)
class BenchUser:
    pool: LocalPool
    sub: str  # the owner of every todo the cognito contenders read

    def service_env(self) -> dict[str, str]:
        """What `todo-service serve` needs for TODO_AUTH=cognito against this pool."""
        return {
            "TODO_AUTH": "cognito",
            "TODO_COGNITO_USER_POOL_ID": self.pool.user_pool_id,
            "TODO_COGNITO_CLIENT_ID": self.pool.client_id,
            # The issuer names AWS's host; the keys are on the local server.
            "TODO_COGNITO_JWKS_URL": self.pool.jwks_url,
        }

    def authorization(self) -> str:
        """A fresh access token's header value: signed in again for each contender, so that
        no run outlives its token (moto's last an hour)."""
        tokens = asyncio.run(sign_in(self.pool, USERNAME))
        return f"Bearer {tokens.access}"


@contextlib.contextmanager
def _local_credentials() -> Iterator[None]:
    """The benchmark's own credentials while it calls moto: the administrator's calls
    (CreateUserPool, AdminConfirmSignUp) are signed, and no real ones should be sent."""
    names = (*LOCAL_CREDENTIALS, "AWS_SESSION_TOKEN", "AWS_PROFILE")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ.update(LOCAL_CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def bench_user() -> Iterator[BenchUser]:
    """moto's server with a pool and a confirmed user; stopped on exit."""
    with moto_server() as server:
        with _local_credentials():
            pool = asyncio.run(create_pool(server.endpoint_url, REGION, "bench"))
            asyncio.run(sign_up(pool, USERNAME))
        # InitiateAuth is unsigned: signing in needs no credentials.
        access = asyncio.run(sign_in(pool, USERNAME)).access
        # Only the sub is read here; the service verifies the same token's signature.
        sub = jwt.decode(access, options={"verify_signature": False})["sub"]
        yield BenchUser(pool, sub)
