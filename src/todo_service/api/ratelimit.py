"""Per-user rate limits: a token bucket per signed-in user, one for reads and one for writes.

In sign-in mode anyone may sign up, and every write is billed by the table; a bucket bounds
what one user can make the service do. It runs after authentication (it needs the user) and
before any DynamoDB call, so a refused request has cost the HTTP parse, the shedding check,
the token check (usually a cache hit: api/auth.py) and this. One user's flood is refused here
and never reaches DynamoDB, so below the shedding bound it does not slow anyone else down.

A bucket holds up to `burst` tokens and refills at `rate_per_s`; each request takes one. Past
it the answer is 429 `rate_limited` with Retry-After. Every answer to a limited route carries
the IETF RateLimit fields of draft-ietf-httpapi-ratelimit-headers-12 (November 2026):
`RateLimit-Policy: "writes";q=<burst>;w=<seconds to refill the burst>` and
`RateLimit: "writes";r=<tokens left>;t=<seconds until the next token>`.

Each worker process keeps its own buckets, at most `MAX_USERS_TRACKED` of them, least recently
used evicted first: memory stays bounded however many users there are, and a user evicted was
idle longer than every other tracked one (docs/limits.md: what N workers and N tasks mean).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from todo_service.api.auth import PRINCIPAL
from todo_service.domain.errors import RateLimited

# About 100 bytes a bucket: 10 MB at most per worker.
MAX_USERS_TRACKED: Final = 100_000
WRITE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
POLICY_HEADER: Final = "RateLimit-Policy"
STATE_HEADER: Final = "RateLimit"


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    name: str
    rate_per_s: float
    burst: int

    @property
    def header(self) -> str:
        # w: the window in which the whole quota (the burst) comes back, whole seconds.
        window_s = max(1, math.ceil(self.burst / self.rate_per_s))
        return f'"{self.name}";q={self.burst};w={window_s}'


@dataclasses.dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    # Seconds until the next token comes (0 when the bucket is full).
    next_token_s: int


class RateLimiter:
    def __init__(self, capacity: int = MAX_USERS_TRACKED) -> None:
        self._capacity = capacity
        self._buckets: collections.OrderedDict[tuple[str, str], _Bucket] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, user: str, policy: Policy, now: float | None = None) -> Decision:
        """Take one of `user`'s tokens under `policy`, if there is one."""
        now = time.monotonic() if now is None else now
        key = (user, policy.name)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(policy.burst), now)
            if len(self._buckets) > self._capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(policy.burst, bucket.tokens + (now - bucket.at) * policy.rate_per_s)
            bucket.at = now
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        missing = 0.0 if bucket.tokens >= policy.burst else 1 - (bucket.tokens % 1)
        return Decision(allowed, int(bucket.tokens), math.ceil(missing / policy.rate_per_s))


def ratelimit_middleware(
    limiter: RateLimiter, reads: Policy | None, writes: Policy | None
) -> Middleware:
    """Inside the auth middleware: it limits requests that carry a verified user."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        principal = request.get(PRINCIPAL)
        policy = writes if request.method in WRITE_METHODS else reads
        if principal is None or policy is None:
            return await handler(request)
        decision = limiter.take(principal.sub, policy)
        headers = {
            POLICY_HEADER: policy.header,
            STATE_HEADER: f'"{policy.name}";r={decision.remaining};t={decision.next_token_s}',
        }
        if not decision.allowed:
            raise RateLimited(
                f"more than {policy.burst} {policy.name} at once, or more than "
                f"{policy.rate_per_s:g} a second: retry after Retry-After",
                retry_after_s=max(1, decision.next_token_s),
                headers=headers,
            )
        response = await handler(request)
        response.headers.update(headers)
        return response

    return middleware
