"""TODO_AUTH=cognito: the real app against each Cognito implementation (moto's Cognito IdP and
cognito-local; tokens and JWKS from the implementation).

Hostile tokens are forged with PyJWT: with our own RSA key (a key the pool never published),
with the implementation's own signing key (claims the pool "signed" but that are wrong for
us), or by editing a real token it issued. Every refusal is checked for its status, its RFC
6750 challenge, its JSON body, and for the table being exactly as it was.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aioboto3
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from todo_service.api.auth import INVALID_TOKEN_CHALLENGE, LEEWAY_S, REASONS
from todo_service.app import create_app
from todo_service.domain.todo import Todo
from todo_service.local.harness import LOOPBACK
from todo_service.settings import Settings, SettingsError, settings_from_env
from todo_service.store.todos import TodoRepository

from .conftest import REGION
from .support.cognito import (
    LocalPool,
    Tokens,
    bearer,
    cognito,
    create_pool,
    refresh,
    sign_in,
)
from .support.cognito import sign_up as sign_up_user
from .support.cognito_servers import CognitoIdp

pytestmark = pytest.mark.integration

ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclasses.dataclass(frozen=True, slots=True)
class SignedIn:
    pool: LocalPool
    tokens: Tokens
    # A real access token of the same pool, issued to a second app client.
    other_client_access: str


@pytest.fixture(scope="module")
def signed_in(cognito_idp: CognitoIdp) -> SignedIn:
    """One pool, a signed-in user and another app client's token, per implementation: tokens
    are not used up, and signing up afresh for every test made most of this file's time."""

    async def make() -> SignedIn:
        pool = await create_pool(cognito_idp.endpoint_url, REGION, f"todo-{uuid.uuid4().hex[:8]}")
        username = f"user-{uuid.uuid4().hex[:8]}"
        await sign_up_user(pool, username)
        return SignedIn(pool, await sign_in(pool, username), await _other_client_access(pool))

    return asyncio.run(make())


@pytest.fixture
def pool(signed_in: SignedIn) -> LocalPool:
    return signed_in.pool


@pytest.fixture
def tokens(signed_in: SignedIn) -> Tokens:
    return signed_in.tokens


@pytest.fixture
async def secured(settings: Settings, pool: LocalPool, aiohttp_client: Any) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(cognito(settings, pool)))
    return client


async def all_todos(repository: TodoRepository) -> list[Todo]:
    page = await repository.list(1000, None, None)
    assert page.last_id is None
    return page.todos


async def test_valid_access_token_reaches_the_handlers(
    secured: TestClient[Any, Any], tokens: Tokens
) -> None:
    created = await secured.post(
        "/todos", json={"text": "signed in"}, headers=bearer(tokens.access)
    )
    assert created.status == 201, await created.text()
    todo_id = (await created.json())["id"]
    listed = await secured.get("/todos", headers=bearer(tokens.access))
    assert listed.status == 200
    got = await secured.get(f"/todos/{todo_id}", headers=bearer(tokens.access))
    assert (await got.json())["text"] == "signed in"


async def test_refreshed_access_token_is_accepted(
    secured: TestClient[Any, Any], pool: LocalPool, tokens: Tokens
) -> None:
    access = await refresh(pool, tokens.refresh)
    response = await secured.get("/todos", headers=bearer(access))
    assert response.status == 200


async def test_a_remembered_token_is_checked_again_and_refused_once_it_expires(
    secured: TestClient[Any, Any], signed_in: SignedIn, cognito_idp: CognitoIdp
) -> None:
    """Verified tokens are remembered (api/auth.py), but only until `exp` plus the leeway."""
    exp = int(time.time()) - LEEWAY_S + 3  # valid for 2 to 3 more seconds, leeway included
    token = _pool_signed(signed_in.tokens.access, cognito_idp, exp=exp)
    for _ in range(2):  # verified, then remembered
        assert (await secured.get("/todos", headers=bearer(token))).status == 200
    await asyncio.sleep(max(0.0, exp + LEEWAY_S - time.time()) + 0.5)
    refused = await secured.get("/todos", headers=bearer(token))
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"] == INVALID_TOKEN_CHALLENGE
    metrics = await (await secured.get("/metrics")).text()
    assert 'todo_auth_failures_total{reason="expired"} 1.0' in metrics


# --- hostile tokens -------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(real_access: str, **changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(real_access, options={"verify_signature": False})
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _pool_signed(real_access: str, idp: CognitoIdp, **changes: Any) -> str:
    """Claims signed with the pool's own key: only the claims can be what is wrong."""
    claims = _claims(real_access, **changes)
    return jwt.encode(claims, idp.signing_key, "RS256", headers={"kid": idp.kid})


def _key_confusion(real_access: str, idp: CognitoIdp) -> str:
    """HS256 with the pool's public key as the HMAC secret (PyJWT refuses to make this)."""
    secret = idp.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": idp.kid}).encode())
    signing_input = f"{header}.{_b64(json.dumps(_claims(real_access)).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tampered(real_access: str) -> str:
    header, _, signature = real_access.split(".")
    payload = _b64(json.dumps(_claims(real_access, sub="someone-else")).encode())
    return f"{header}.{payload}.{signature}"


def _bad_base64(real_access: str) -> str:
    header, payload, signature = real_access.split(".")
    return f"{header}.{payload[:10]}!*%{payload[10:]}.{signature}"


def _now() -> int:
    return int(time.time())


# (id, the Authorization header from (real tokens, another client's access token, the
# implementation that issued them), reason)
Forgery = Callable[[Tokens, str, CognitoIdp], str | None]
HOSTILE: list[tuple[str, Forgery, str]] = [
    ("missing-header", lambda t, o, i: None, "missing"),
    ("basic-scheme", lambda t, o, i: "Basic dXNlcjpwYXNz", "wrong_scheme"),
    ("empty-bearer", lambda t, o, i: "Bearer ", "malformed"),
    ("garbage", lambda t, o, i: "Bearer not-a-jwt-at-all", "malformed"),
    ("bad-base64", lambda t, o, i: f"Bearer {_bad_base64(t.access)}", "malformed"),
    ("oversized-token", lambda t, o, i: f"Bearer {'A' * 7000}", "malformed"),
    (
        "alg-none",
        lambda t, o, i: "Bearer " + jwt.encode(_claims(t.access), None, "none", {"kid": i.kid}),
        "bad_algorithm",
    ),
    (
        "hs256-key-confusion",
        lambda t, o, i: f"Bearer {_key_confusion(t.access, i)}",
        "bad_algorithm",
    ),
    (
        "unknown-kid",
        lambda t, o, i: (
            "Bearer "
            + jwt.encode(_claims(t.access), ATTACKER_KEY, "RS256", headers={"kid": "attacker"})
        ),
        "unknown_key",
    ),
    (
        "pool-kid-signed-by-attacker",
        lambda t, o, i: (
            "Bearer " + jwt.encode(_claims(t.access), ATTACKER_KEY, "RS256", headers={"kid": i.kid})
        ),
        "bad_signature",
    ),
    ("tampered-payload", lambda t, o, i: f"Bearer {_tampered(t.access)}", "bad_signature"),
    (
        "expired",
        lambda t, o, i: f"Bearer {_pool_signed(t.access, i, exp=_now() - LEEWAY_S - 60)}",
        "expired",
    ),
    (
        "nbf-in-future",
        lambda t, o, i: f"Bearer {_pool_signed(t.access, i, nbf=_now() + LEEWAY_S + 600)}",
        "not_yet_valid",
    ),
    (
        "wrong-issuer",
        lambda t, o, i: (
            "Bearer "
            + _pool_signed(
                t.access, i, iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"
            )
        ),
        "wrong_issuer",
    ),
    ("id-token", lambda t, o, i: f"Bearer {t.id}", "wrong_token_use"),
    ("another-app-client", lambda t, o, i: f"Bearer {o}", "wrong_client"),
    (
        "no-client-id",
        lambda t, o, i: f"Bearer {_pool_signed(t.access, i, client_id=None)}",
        "wrong_client",
    ),
]


async def _other_client_access(pool: LocalPool) -> str:
    """A real access token of the same pool, issued to a second app client."""
    async with aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    ) as idp:
        client = await idp.create_user_pool_client(
            UserPoolId=pool.user_pool_id,
            ClientName="other",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        )
    second = LocalPool(
        pool.endpoint_url, pool.region, pool.user_pool_id, client["UserPoolClient"]["ClientId"]
    )
    username = f"other-{uuid.uuid4().hex[:8]}"
    await sign_up_user(second, username)
    return (await sign_in(second, username)).access


@pytest.mark.parametrize(
    ("forge", "reason"), [(f, r) for _, f, r in HOSTILE], ids=[i for i, _, _ in HOSTILE]
)
async def test_hostile_credentials_are_401_and_change_nothing(
    secured: TestClient[Any, Any],
    repository: TodoRepository,
    signed_in: SignedIn,
    cognito_idp: CognitoIdp,
    forge: Forgery,
    reason: str,
) -> None:
    existing = await repository.create("must survive")
    before = await all_todos(repository)
    authorization = forge(signed_in.tokens, signed_in.other_client_access, cognito_idp)
    headers = {} if authorization is None else {"Authorization": authorization}
    attempts = [
        secured.post("/todos", json={"text": "intruder"}, headers=headers),
        secured.delete(f"/todos/{existing.id}", headers=headers),
        secured.post(f"/todos/{existing.id}/toggle", headers=headers),
        secured.get("/todos", headers=headers),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status == 401
        body = await response.json()
        challenge = response.headers["WWW-Authenticate"]
        if reason in ("missing", "wrong_scheme"):
            assert challenge == "Bearer"
            assert body["error"]["code"] == "unauthorized"
        else:
            assert challenge == INVALID_TOKEN_CHALLENGE
            assert body["error"]["code"] == "invalid_token"
        assert body["error"]["message"]
    assert await all_todos(repository) == before
    metrics = await (await secured.get("/metrics")).text()
    assert f'todo_auth_failures_total{{reason="{reason}"}} 4.0' in metrics


async def test_header_over_aiohttps_field_limit_is_refused_before_the_app(
    secured: TestClient[Any, Any], repository: TodoRepository
) -> None:
    before = await all_todos(repository)
    response = await secured.post(
        "/todos", json={"text": "intruder"}, headers=bearer("A" * 10 * 1024)
    )
    # aiohttp's parser refuses any header field over 8190 bytes; no handler runs.
    assert response.status == 400
    assert await all_todos(repository) == before


async def test_public_routes_stay_public(secured: TestClient[Any, Any]) -> None:
    for path in ("/", "/healthz", "/readyz", "/openapi.json", "/metrics"):
        response = await secured.get(path)
        assert response.status == 200, path
    unknown = await secured.get("/no-such-route")
    assert unknown.status == 404


async def test_every_reason_is_exported_at_zero(secured: TestClient[Any, Any]) -> None:
    metrics = await (await secured.get("/metrics")).text()
    for reason in REASONS:
        assert f'todo_auth_failures_total{{reason="{reason}"}} 0.0' in metrics


async def test_none_mode_needs_no_token(api: TestClient[Any, Any]) -> None:
    created = await api.post("/todos", json={"text": "shared list"})
    assert created.status == 201
    assert "WWW-Authenticate" not in created.headers


async def test_cors_preflight_allows_the_authorization_header(
    settings: Settings, pool: LocalPool, aiohttp_client: Any
) -> None:
    origin = "http://127.0.0.1:9999"
    app = create_app(cognito(settings, pool).replace(cors_origins=(origin,)))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    response = await client.options(
        "/todos",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status == 204
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed


# --- the JWKS: cached, refetched rarely, its outage a 503 -----------------------------------


class CountingJwks:
    """A real HTTP server publishing a JWKS and counting how often it is fetched."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response(self.document)


@pytest.fixture
async def counting_jwks(
    pool: LocalPool, aiohttp_client: Any
) -> AsyncIterator[tuple[CountingJwks, str]]:
    probe: TestClient[Any, Any] = await aiohttp_client(web.Application())
    async with probe.session.get(pool.jwks_url) as response:
        document = await response.json()
    jwks = CountingJwks(document)
    app = web.Application()
    app.router.add_get("/jwks.json", jwks.handle)
    server = TestServer(app, host=LOOPBACK)
    await server.start_server()
    yield jwks, str(server.make_url("/jwks.json"))
    await server.close()


async def test_one_jwks_fetch_serves_many_requests(
    settings: Settings,
    pool: LocalPool,
    tokens: Tokens,
    counting_jwks: tuple[CountingJwks, str],
    aiohttp_client: Any,
) -> None:
    jwks, url = counting_jwks
    client: TestClient[Any, Any] = await aiohttp_client(create_app(cognito(settings, pool, url)))
    answers = await asyncio.gather(
        *(client.get("/todos", headers=bearer(tokens.access)) for _ in range(20))
    )
    assert [a.status for a in answers] == [200] * 20
    assert jwks.fetches == 1


async def test_unknown_kids_refetch_at_most_once_per_interval(
    settings: Settings,
    pool: LocalPool,
    tokens: Tokens,
    counting_jwks: tuple[CountingJwks, str],
    aiohttp_client: Any,
) -> None:
    jwks, url = counting_jwks
    interval_s = 1.0
    app = create_app(cognito(settings, pool, url).replace(cognito_jwks_min_refetch_s=interval_s))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert (await client.get("/todos", headers=bearer(tokens.access))).status == 200
    rotated = jwt.encode(_claims(tokens.access), ATTACKER_KEY, "RS256", headers={"kid": "rotated"})
    for _ in range(10):
        assert (await client.get("/todos", headers=bearer(rotated))).status == 401
    # Right after the first fetch, the interval forbids another.
    assert jwks.fetches == 1
    # The pool rotates to a new key; past the interval one request picks it up.
    public = json.loads(RSAAlgorithm.to_jwk(ATTACKER_KEY.public_key()))
    new_key = {**public, "kid": "rotated", "alg": "RS256", "use": "sig"}
    jwks.document = {"keys": [*jwks.document["keys"], new_key]}
    await asyncio.sleep(interval_s + 0.1)
    for _ in range(10):
        assert (await client.get("/todos", headers=bearer(rotated))).status == 200
    assert (await client.get("/todos", headers=bearer(tokens.access))).status == 200
    assert jwks.fetches == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_jwks_is_503_with_retry_after(
    settings: Settings,
    pool: LocalPool,
    tokens: Tokens,
    repository: TodoRepository,
    aiohttp_client: Any,
) -> None:
    url = f"http://{LOOPBACK}:{_closed_port()}/jwks.json"
    client: TestClient[Any, Any] = await aiohttp_client(create_app(cognito(settings, pool, url)))
    for _ in range(2):
        response = await client.post("/todos", json={"text": "x"}, headers=bearer(tokens.access))
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "backend_unavailable"
    assert await all_todos(repository) == []
    metrics = await (await client.get("/metrics")).text()
    # The second request came within the back-off: it did not fetch again.
    assert 'todo_auth_jwks_fetches_total{outcome="error"} 1.0' in metrics


# --- settings -------------------------------------------------------------------------------

POOL = "us-east-1_AbC123"


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"TODO_AUTH": "sometimes"}, "TODO_AUTH"),
        ({"TODO_AUTH": "cognito"}, "TODO_COGNITO_USER_POOL_ID"),
        ({"TODO_AUTH": "cognito", "TODO_COGNITO_USER_POOL_ID": POOL}, "TODO_COGNITO_CLIENT_ID"),
        (
            {
                "TODO_AUTH": "cognito",
                "TODO_COGNITO_USER_POOL_ID": "no-region",
                "TODO_COGNITO_CLIENT_ID": "c1",
            },
            "TODO_COGNITO_USER_POOL_ID",
        ),
        (
            {
                "TODO_AUTH": "cognito",
                "TODO_COGNITO_USER_POOL_ID": POOL,
                "TODO_COGNITO_CLIENT_ID": "a b",
            },
            "TODO_COGNITO_CLIENT_ID",
        ),
        ({"TODO_COGNITO_JWKS_URL": "ftp://x"}, "TODO_COGNITO_JWKS_URL"),
        ({"TODO_COGNITO_JWKS_MIN_REFETCH_S": "-1"}, "TODO_COGNITO_JWKS_MIN_REFETCH_S"),
    ],
    ids=[
        "bad-mode",
        "no-pool",
        "no-client",
        "bad-pool",
        "bad-client",
        "bad-jwks-url",
        "bad-refetch",
    ],
)
def test_bad_auth_settings_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        settings_from_env(env)


def test_cognito_settings_derive_issuer_and_jwks_from_the_pool() -> None:
    settings = settings_from_env(
        {
            "TODO_AUTH": "Cognito",
            "TODO_COGNITO_USER_POOL_ID": "eu-west-2_XyZ9",
            "TODO_COGNITO_CLIENT_ID": "abc123",
        }
    )
    assert settings.auth_mode == "cognito"
    assert settings.cognito_issuer == "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_XyZ9"
    assert settings.cognito_jwks == f"{settings.cognito_issuer}/.well-known/jwks.json"
    assert settings_from_env({}).auth_mode == "none"


def test_create_app_refuses_cognito_mode_without_a_pool() -> None:
    with pytest.raises(SettingsError, match="TODO_COGNITO_USER_POOL_ID"):
        create_app(Settings(auth_mode="cognito"))


LOCAL_POOL = "local_AbC123"
LOCAL_JWKS = f"http://127.0.0.1:9229/{LOCAL_POOL}/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("pool", "jwks_url", "message"),
    [
        (LOCAL_POOL, None, "is a cognito-local pool, accepted only with TODO_COGNITO_JWKS_URL"),
        ("local_", LOCAL_JWKS, "is not a user pool id"),
        ("local_Ab-C", LOCAL_JWKS, "is not a user pool id"),
        ("Local_AbC123", LOCAL_JWKS, "is not a user pool id"),
        ("local-1_AbC123", LOCAL_JWKS, "is not a user pool id"),
    ],
    ids=["without-jwks-url", "empty-id", "bad-id", "capital-prefix", "local-as-region"],
)
def test_a_cognito_local_pool_is_accepted_only_with_the_local_jwks_override(
    pool: str, jwks_url: str | None, message: str
) -> None:
    env = {"TODO_AUTH": "cognito", "TODO_COGNITO_USER_POOL_ID": pool}
    env["TODO_COGNITO_CLIENT_ID"] = "c1"
    if jwks_url is not None:
        env["TODO_COGNITO_JWKS_URL"] = jwks_url
    with pytest.raises(SettingsError, match=f"TODO_COGNITO_USER_POOL_ID='{pool}' {message}"):
        settings_from_env(env)


def test_a_cognito_local_pool_with_the_override_has_the_issuer_derived_as_any_pools() -> None:
    settings = settings_from_env(
        {
            "TODO_AUTH": "cognito",
            "TODO_COGNITO_USER_POOL_ID": LOCAL_POOL,
            "TODO_COGNITO_CLIENT_ID": "c1",
            "TODO_COGNITO_JWKS_URL": LOCAL_JWKS,
        }
    )
    # cognito-local issues exactly this once configured (tests/support/cognito_servers.py).
    assert settings.cognito_issuer == f"https://cognito-idp.local.amazonaws.com/{LOCAL_POOL}"
    assert settings.cognito_jwks == LOCAL_JWKS
