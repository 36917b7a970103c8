"""The user pool's signing keys (its JWKS), fetched with aiohttp and cached by key id.

Cognito rotates its keys rarely, so the set is kept for the app's life and refetched only for a
key id it does not hold, and then at most once per `min_refetch_s`: forged tokens with random
kids must not turn into one fetch each. A failed fetch answers 503 (the keys are a backend we
depend on, like DynamoDB), and is not retried for `FAILED_FETCH_BACKOFF_S`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Final

import aiohttp
import jwt

from todo_service.api.metrics import Metrics
from todo_service.domain.errors import BackendUnavailable

log = logging.getLogger(__name__)

JWKS_TIMEOUT_S: Final = 5.0
# A JWKS is a few kilobytes; anything far larger is not one.
MAX_JWKS_BYTES: Final = 256 * 1024
FAILED_FETCH_BACKOFF_S: Final = 1.0
SIGNING_ALGORITHM: Final = "RS256"


class JwksCache:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        min_refetch_s: float,
        metrics: Metrics,
    ) -> None:
        self._session = session
        self._url = url
        self._min_refetch_s = min_refetch_s
        self._metrics = metrics
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        # Concurrent requests with a new kid share one fetch instead of starting one each.
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The RS256 key with this id, or None when the pool does not (or no longer) have it."""
        if (found := self._keys.get(kid)) is not None:
            return found
        async with self._lock:
            if kid not in self._keys and self._may_fetch():
                await self._fetch()
        return self._keys.get(kid)

    def _may_fetch(self) -> bool:
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < FAILED_FETCH_BACKOFF_S:
            raise BackendUnavailable("the user pool's signing keys could not be fetched")
        return self._fetched_at is None or now - self._fetched_at >= self._min_refetch_s

    async def _fetch(self) -> None:
        try:
            async with self._session.get(self._url) as response:
                response.raise_for_status()
                body = await response.content.read(MAX_JWKS_BYTES + 1)
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"more than {MAX_JWKS_BYTES} bytes")
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError("a JWKS is a JSON object")
            keys = _signing_keys(jwt.PyJWKSet.from_dict(document).keys)
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKSetError) as error:
            self._failed_at = time.monotonic()
            self._metrics.jwks_fetches.labels("error").inc()
            log.warning("JWKS fetch from %s failed: %r", self._url, error)
            raise BackendUnavailable("the user pool's signing keys could not be fetched") from None
        self._failed_at = None
        self._fetched_at = time.monotonic()
        self._metrics.jwks_fetches.labels("ok").inc()
        self._keys = keys
        log.info("JWKS fetched: %d signing keys", len(keys))


def _signing_keys(keys: list[jwt.PyJWK]) -> dict[str, jwt.PyJWK]:
    """Only RSA keys meant for RS256 signatures count; anything else in the set is ignored."""
    found: dict[str, jwt.PyJWK] = {}
    for key in keys:
        # PyJWK infers RS256 for an RSA key without "alg"; "use" may be absent.
        if key.key_id is None or key.key_type != "RSA" or key.algorithm_name != SIGNING_ALGORITHM:
            continue
        if key.public_key_use not in (None, "sig"):
            continue
        found[key.key_id] = key
    return found
