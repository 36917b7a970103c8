"""The embedded server as the page's Cognito: CORS for the page's origin only, RevokeToken,
and what sign-up codes are locally (local/moto_server.py, local/revoke_token.py,
local/cognito.py), through real HTTP and the real cognito-idp client.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from email.message import Message
from typing import Any, Final

import aioboto3
import pytest
from botocore.exceptions import ClientError

from todo_service.local.cognito import CONFIRMATION_CODE_HINT, password_rule
from todo_service.local.moto_server import moto_server

from .conftest import REGION
from .support.cognito import PASSWORD, LocalPool, create_pool, refresh, revoke, sign_in
from .support.cognito import sign_up as sign_up_user

pytestmark = pytest.mark.integration

PAGE_ORIGIN: Final = "http://127.0.0.1:8081"
OTHER_ORIGIN: Final = "http://evil.example"
TARGET: Final = "AWSCognitoIdentityProviderService"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server(cors_origins=[PAGE_ORIGIN]) as server:
        yield server.endpoint_url


@pytest.fixture
async def pool(endpoint: str) -> LocalPool:
    return await create_pool(endpoint, REGION, f"todo-{uuid.uuid4().hex[:8]}")


def http(
    url: str, method: str, headers: dict[str, str], body: object | None = None
) -> tuple[int, Message, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def preflight(endpoint: str, origin: str) -> tuple[int, Message, bytes]:
    """What Chromium sends before the page's first Cognito call."""
    return http(
        endpoint + "/",
        "OPTIONS",
        {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target",
        },
    )


def cognito_call(
    endpoint: str, origin: str, action: str, body: dict[str, Any]
) -> tuple[int, Message, dict[str, Any]]:
    """One call of Cognito's JSON API as the page makes it (fetch, unsigned)."""
    status, headers, raw = http(
        endpoint + "/",
        "POST",
        {
            "Origin": origin,
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"{TARGET}.{action}",
        },
        body,
    )
    return status, headers, json.loads(raw)


def test_preflight_from_the_page_origin_allows_cognitos_json_api(endpoint: str) -> None:
    status, headers, body = preflight(endpoint, PAGE_ORIGIN)
    # 204 from the CORS layer itself: moto would route an OPTIONS to S3's ListBuckets (200, XML).
    assert (status, body) == (204, b"")
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    assert "POST" in headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-amz-target"} <= allowed
    assert "Origin" in headers.get_all("Vary", [])


def test_preflight_from_any_other_origin_is_refused(endpoint: str) -> None:
    status, headers, _ = preflight(endpoint, OTHER_ORIGIN)
    assert status == 403
    assert headers["Access-Control-Allow-Origin"] is None
    assert headers["Access-Control-Allow-Headers"] is None


async def test_answers_and_refusals_carry_cors_for_the_page_origin_only(
    endpoint: str, pool: LocalPool
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    sign_up = {
        "ClientId": pool.client_id,
        "Username": email,
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": email}],
    }
    status, headers, answer = cognito_call(endpoint, PAGE_ORIGIN, "SignUp", sign_up)
    assert status == 200, answer
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    assert "x-amzn-ErrorType" in headers["Access-Control-Expose-Headers"]

    # A refusal is readable by the page too, with Cognito's exception name and message.
    status, headers, answer = cognito_call(endpoint, PAGE_ORIGIN, "SignUp", sign_up)
    assert status == 400
    assert answer["__type"] == "UsernameExistsException"
    assert headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN

    status, headers, answer = cognito_call(endpoint, OTHER_ORIGIN, "SignUp", sign_up)
    assert answer["__type"] == "UsernameExistsException"  # served, but no browser may read it
    assert headers["Access-Control-Allow-Origin"] is None


async def test_revoke_token_ends_the_refresh_token(pool: LocalPool) -> None:
    username = f"user-{uuid.uuid4().hex[:8]}"
    await sign_up_user(pool, username)
    tokens = await sign_in(pool, username)
    assert await refresh(pool, tokens.refresh)  # live before

    await revoke(pool, tokens.refresh)
    with pytest.raises(ClientError) as refused:
        await refresh(pool, tokens.refresh)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    # Revoking again (or any token the pool does not know) is not an error (RFC 7009 §2.2).
    await revoke(pool, tokens.refresh)
    await revoke(pool, "no-such-token")
    # Other sessions of the same user live on: only this sign-in ended.
    other = await sign_in(pool, username)
    assert await refresh(pool, other.refresh)


async def test_revoke_token_from_another_app_client_is_refused_and_revokes_nothing(
    pool: LocalPool,
) -> None:
    username = f"user-{uuid.uuid4().hex[:8]}"
    await sign_up_user(pool, username)
    tokens = await sign_in(pool, username)
    async with aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    ) as idp:
        created = await idp.create_user_pool_client(UserPoolId=pool.user_pool_id, ClientName="x")
        with pytest.raises(ClientError) as refused:
            await idp.revoke_token(
                Token=tokens.refresh, ClientId=created["UserPoolClient"]["ClientId"]
            )
    assert refused.value.response["Error"]["Code"] == "UnauthorizedException"
    assert await refresh(pool, tokens.refresh)


async def test_sign_up_codes_go_by_email_and_any_code_confirms(pool: LocalPool) -> None:
    """What dev prints (CONFIRMATION_CODE_HINT) is what moto does."""
    email = f"someone-{uuid.uuid4().hex[:6]}@example.com"
    async with aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    ) as idp:
        answer = await idp.sign_up(
            ClientId=pool.client_id,
            Username=email,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": email}],
        )
        assert answer["UserConfirmed"] is False
        details = answer["CodeDeliveryDetails"]
        assert details["DeliveryMedium"] == "EMAIL"
        assert details["Destination"] == "s***@e***"
        with pytest.raises(ClientError) as unconfirmed:
            await sign_in(pool, email)
        assert unconfirmed.value.response["Error"]["Code"] == "UserNotConfirmedException"
        await idp.confirm_sign_up(
            ClientId=pool.client_id, Username=email, ConfirmationCode="123456"
        )
    assert "123456" in CONFIRMATION_CODE_HINT
    assert (await sign_in(pool, email)).access


@pytest.mark.parametrize(
    "password",
    ["Sh0rt-pass", "no-upper-case-9", "NO-LOWER-CASE-9", "No-digits-here", "NoSymbols9999"],
)
async def test_the_pool_enforces_the_password_rule_dev_prints(
    pool: LocalPool, password: str
) -> None:
    assert password_rule() == (
        "at least 12 characters, with an upper-case letter, a lower-case letter, a digit "
        "and a symbol"
    )
    async with aioboto3.Session().client(
        "cognito-idp", endpoint_url=pool.endpoint_url, region_name=pool.region
    ) as idp:
        with pytest.raises(ClientError) as refused:
            await idp.sign_up(
                ClientId=pool.client_id, Username=f"u-{uuid.uuid4().hex[:6]}", Password=password
            )
    assert refused.value.response["Error"]["Code"] == "InvalidPasswordException"
