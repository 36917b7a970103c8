"""`python -m bench.tokens`: the CPU of verifying one Cognito access token, and its parts.

In-process, no load: the service's own `TokenVerifier` (api/auth.py) with its `JwksCache`
(api/jwks.py), which fetches moto's published key once from a local aiohttp server, on a token
signed with moto's key and shaped like Cognito's; then the library calls it makes, each alone,
to show where a verification's time goes. Numbers from one run; compare them with each other.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import timeit
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from tests.support.cognito import moto_signing_key

from todo_service.api.auth import LEEWAY_S, TokenVerifier
from todo_service.api.jwks import SIGNING_ALGORITHM, JwksCache
from todo_service.api.metrics import Metrics

POOL = "us-east-1_Bench0001"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
CLIENT_ID = "benchclient0123456789abcdef"
ROUNDS = 2_000


def access_token() -> str:
    """A token with the claims Cognito puts in an access token, signed with moto's key."""
    kid, key = moto_signing_key()
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "username": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm=SIGNING_ALGORITHM, headers={"kid": kid})


def moto_public_jwks() -> dict[str, Any]:
    raw = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz")
    document: dict[str, Any] = json.loads(gzip.decompress(raw.read_bytes()))
    return document


async def per_verify_us(verifier: TokenVerifier, token: str) -> float:
    await verifier.verify(token)
    started = time.process_time()
    for _ in range(ROUNDS):
        await verifier.verify(token)
    return (time.process_time() - started) / ROUNDS * 1e6


def per_call_us(call: Callable[[], object]) -> float:
    return min(timeit.repeat(call, number=ROUNDS, repeat=5)) / ROUNDS * 1e6


async def measure() -> dict[str, float]:
    jwks = moto_public_jwks()

    async def keys(_: web.Request) -> web.Response:
        return web.json_response(jwks)

    app = web.Application()
    app.router.add_get("/jwks.json", keys)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    token = access_token()
    try:
        async with aiohttp.ClientSession() as session:
            cache = JwksCache(session, f"http://127.0.0.1:{port}/jwks.json", 60.0, Metrics())
            # capacity=0 remembers nothing: every call makes every check, as for a new token.
            checking = TokenVerifier(cache, ISSUER, CLIENT_ID, capacity=0)
            remembering = TokenVerifier(cache, ISSUER, CLIENT_ID)
            await checking.verify(token)  # the one JWKS fetch; every later call hits the cache
            whole = await per_verify_us(checking, token)
            remembered = await per_verify_us(remembering, token)
            key = await cache.key(jwt.get_unverified_header(token)["kid"])
            assert key is not None
    finally:
        await runner.cleanup()
    signing_input, _, signature = token.rpartition(".")
    raw_signature = jwt.utils.base64url_decode(signature)
    public = key.key
    return {
        "token bytes": len(token),
        "TokenVerifier.verify, a token first seen (every check)": whole,
        "TokenVerifier.verify, a token verified before (remembered)": remembered,
        "jwt.get_unverified_header": per_call_us(lambda: jwt.get_unverified_header(token)),
        "jwt.decode (as api/auth.py calls it)": per_call_us(
            lambda: jwt.decode(
                token,
                key,
                algorithms=[SIGNING_ALGORITHM],
                issuer=ISSUER,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        ),
        "RSA-SHA256 signature check alone (cryptography)": per_call_us(
            lambda: public.verify(
                raw_signature, signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        ),
        "base64url decode of the three segments (stdlib)": per_call_us(
            lambda: [jwt.utils.base64url_decode(part) for part in token.split(".")]
        ),
    }


def main() -> None:
    for name, value in asyncio.run(measure()).items():
        unit = "" if name == "token bytes" else " us"
        print(f"{name}: {value:.1f}{unit}")


if __name__ == "__main__":
    main()
