"""Per-user rate limits (TODO_AUTH=cognito): a token bucket for each user's reads and writes.

Two real users of a real pool call one real app. One floods; the other is not refused, and
the flood never reaches DynamoDB. Every limited answer carries the IETF RateLimit fields
(draft-ietf-httpapi-ratelimit-headers-12), and a refusal is 429 `rate_limited` with Retry-After.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from todo_service.api.ratelimit import Policy, RateLimiter
from todo_service.app import create_app
from todo_service.settings import Settings

from .conftest import REGION
from .support.api import Client, create
from .support.cognito import LocalPool, User, bearer, cognito, signed_in_users
from .support.cognito_servers import CognitoIdp
from .test_contract import metric

pytestmark = pytest.mark.integration

READ_BURST = 5
WRITE_BURST = 3
RATE_PER_S = 0.5  # slow enough that no token comes back while a test floods
FLOOD = 40
ORIGIN = "https://todo.example.com"
STATE = re.compile(r'^"(reads|writes)";r=(\d+);t=(\d+)$')


@pytest.fixture(scope="module")
def users(cognito_idp: CognitoIdp) -> tuple[LocalPool, User, User]:
    pool, (ada, bob) = asyncio.run(signed_in_users(cognito_idp.endpoint_url, REGION, "ada", "bob"))
    return pool, ada, bob


@pytest.fixture
async def clients(
    settings: Settings, users: tuple[LocalPool, User, User]
) -> AsyncIterator[tuple[Client, Client]]:
    """Ada's and Bob's clients of one app with the limits on, and low."""
    pool, ada, bob = users
    limited = cognito(settings, pool).replace(
        rate_limit_reads=RATE_PER_S,
        rate_limit_read_burst=READ_BURST,
        rate_limit_writes=RATE_PER_S,
        rate_limit_write_burst=WRITE_BURST,
        cors_origins=(ORIGIN,),
    )
    server = TestServer(create_app(limited))
    ada_client: Client = TestClient(server, headers=bearer(ada.token))
    bob_client: Client = TestClient(server, headers=bearer(bob.token))
    await ada_client.start_server()
    await bob_client.start_server()
    yield ada_client, bob_client
    await bob_client.close()
    await ada_client.close()


async def answer(call: Any) -> tuple[int, dict[str, str], Any, float]:
    started = time.monotonic()
    response = await call
    body = await response.json()
    return response.status, dict(response.headers), body, time.monotonic() - started


async def test_a_flood_is_429_with_the_ratelimit_fields_and_never_reaches_dynamodb(
    clients: tuple[Client, Client],
) -> None:
    ada, bob = clients
    unloaded = statistics.median([(await answer(bob.get("/todos")))[3] for _ in range(3)])
    calls_before = metric(
        await (await bob.get("/metrics")).text(), "todo_dynamodb_calls_total", operation="Query"
    )

    flood = [asyncio.ensure_future(answer(ada.get("/todos"))) for _ in range(FLOOD)]
    during = [await answer(bob.get("/todos")) for _ in range(READ_BURST - 3)]
    answers = await asyncio.gather(*flood)

    admitted = [a for a in answers if a[0] == 200]
    refused = [a for a in answers if a[0] == 429]
    assert len(admitted) == READ_BURST
    assert len(refused) == FLOOD - READ_BURST
    for _, headers, body, _ in refused:
        assert body["error"]["code"] == "rate_limited"
        assert int(headers["Retry-After"]) >= 1
        assert headers["RateLimit-Policy"] == f'"reads";q={READ_BURST};w=10'
        state = STATE.fullmatch(headers["RateLimit"])
        assert state is not None
        assert state.group(2) == "0"
        assert int(headers["Retry-After"]) >= int(state.group(3))  # not before the reset
    # Bob has his own bucket: every one of his requests is answered, and not more slowly
    # than a few times his unloaded latency (the flood is refused before any DynamoDB call).
    assert [status for status, *_ in during] == [200] * len(during)
    assert max(seconds for *_, seconds in during) <= 3 * unloaded + 0.25
    calls_after = metric(
        await (await bob.get("/metrics")).text(), "todo_dynamodb_calls_total", operation="Query"
    )
    assert calls_after - calls_before == READ_BURST + len(during)
    assert metric(
        await (await bob.get("/metrics")).text(), "todo_http_errors_total", code="rate_limited"
    ) == len(refused)


async def test_reads_and_writes_have_buckets_of_their_own(clients: tuple[Client, Client]) -> None:
    ada, _ = clients
    reads = [await answer(ada.get("/todos")) for _ in range(READ_BURST + 1)]
    assert [status for status, *_ in reads] == [200] * READ_BURST + [429]
    writes = [
        await answer(ada.post("/todos", json={"text": f"w{n}"})) for n in range(WRITE_BURST + 1)
    ]
    assert [status for status, *_ in writes] == [201] * WRITE_BURST + [429]
    assert writes[-1][1]["RateLimit-Policy"] == f'"writes";q={WRITE_BURST};w=6'


async def test_successes_carry_the_fields_counting_down_and_cors_exposes_them(
    clients: tuple[Client, Client],
) -> None:
    _, bob = clients
    left = []
    for _ in range(3):
        status, headers, _, _ = await answer(bob.get("/todos", headers={"Origin": ORIGIN}))
        assert status == 200
        state = STATE.fullmatch(headers["RateLimit"])
        assert state is not None
        left.append(int(state.group(2)))
        exposed = {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")}
        assert {"RateLimit", "RateLimit-Policy", "Retry-After"} <= exposed
    assert left == [READ_BURST - 1, READ_BURST - 2, READ_BURST - 3]
    # The probes and the contract are public and unlimited.
    status, headers, _, _ = await answer(bob.get("/healthz"))
    assert status == 200
    assert "RateLimit" not in headers


async def test_without_a_limit_nothing_is_refused_or_announced(
    settings: Settings, users: tuple[LocalPool, User, User]
) -> None:
    pool, ada, _ = users
    open_settings = cognito(settings, pool).replace(rate_limit_reads=0.0, rate_limit_writes=0.0)
    async with TestClient(TestServer(create_app(open_settings)), headers=bearer(ada.token)) as api:
        statuses = [(await api.get("/todos")).status for _ in range(READ_BURST * 3)]
        assert statuses == [200] * READ_BURST * 3
        assert "RateLimit" not in (await api.get("/todos")).headers
        await create(api, "no write limit")


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    limiter = RateLimiter()
    policy = Policy("writes", rate_per_s=2.0, burst=3)
    taken = [limiter.take("u", policy, now=100.0).allowed for _ in range(4)]
    assert taken == [True, True, True, False]
    refused = limiter.take("u", policy, now=100.0)
    assert (refused.remaining, refused.next_token_s) == (0, 1)
    assert limiter.take("u", policy, now=100.5).allowed  # one token back after 1/rate
    assert not limiter.take("u", policy, now=100.5).allowed
    full = limiter.take("u", policy, now=200.0)  # long idle: the burst, not more
    assert (full.allowed, full.remaining) == (True, 2)


def test_buckets_stay_bounded_whatever_the_number_of_users() -> None:
    limiter = RateLimiter(capacity=3)
    policy = Policy("reads", rate_per_s=1.0, burst=1)
    for n in range(10):
        limiter.take(f"user-{n}", policy, now=0.0)
        limiter.take("regular", policy, now=float(n))  # used all along: never evicted
    assert len(limiter) == 3
    # The regular user's bucket survived every eviction: it is still (nearly) empty.
    assert not limiter.take("regular", policy, now=9.0).allowed
    # An evicted user starts with a full bucket again.
    assert limiter.take("user-0", policy, now=0.0).allowed
