"""Load shedding: a bound on the requests one worker works on at once, and a short wait for a slot.

Past saturation, admitting every request only queues them: each waits longer than the last,
DynamoDB's deadline expires under them, and the work spent on them is wasted (congestion
collapse). So a worker admits at most `limit` requests at a time. A request that finds every
slot taken waits at most `max_wait_s` for one, in arrival order, with at most `limit` others;
past that, or past the wait, it is refused at once with 503 `overloaded` and Retry-After,
before any token is checked or any DynamoDB call is made. What a refusal costs by then is the
HTTP parse, this check and a small answer.

The operator's probes are never queued behind API work: `/healthz` (the load balancer's and
the container's health checks, which must not fail a task that is only busy) and `/metrics`.
This is the cheapest of the defences and runs first; then authentication, the per-user rate
limit (api/ratelimit.py) and the per-user quota (store/quotas.py).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from todo_service.api.responses import domain_error_response
from todo_service.domain.errors import Overloaded

# Paths answered outside the bound: cheap, never a DynamoDB call, and needed most under load.
UNBOUNDED_PATHS: Final = frozenset({"/healthz", "/metrics"})


class Admission:
    """At most `limit` holders at once; others wait, in order, up to `max_wait_s`."""

    def __init__(self, limit: int, max_wait_s: float) -> None:
        self.limit = limit
        self.max_wait_s = max_wait_s
        self.in_flight = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def enter(self) -> bool:
        """Take a slot, waiting a little if need be; False if none came in time."""
        if self.in_flight < self.limit and not self._waiting:
            self.in_flight += 1
            return True
        if len(self._waiting) >= self.limit or self.max_wait_s <= 0:
            return False
        slot = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        try:
            async with asyncio.timeout(self.max_wait_s):
                await slot
        except TimeoutError:
            return self._granted(slot)
        except asyncio.CancelledError:
            if self._granted(slot):
                self.leave()  # the client left just as a slot came: pass it on
            raise
        return True  # `leave` handed its slot over: in_flight already counts this one

    def _granted(self, slot: asyncio.Future[None]) -> bool:
        """Whether `leave` handed `slot` a place before its wait ended; else it stops waiting."""
        if slot.done() and not slot.cancelled():
            return True
        # Still queued, unless `leave` already dropped it as cancelled.
        with contextlib.suppress(ValueError):
            self._waiting.remove(slot)
        return False

    def leave(self) -> None:
        """Give the slot back, or straight to the next waiter."""
        while self._waiting:
            slot = self._waiting.popleft()
            if not slot.done():
                slot.set_result(None)
                return
        self.in_flight -= 1


def overloaded() -> Overloaded:
    return Overloaded(
        "the service is working on as many requests as it can: retry after Retry-After"
    )


def shedding_middleware(admission: Admission) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in UNBOUNDED_PATHS:
            return await handler(request)
        if not await admission.enter():
            return domain_error_response(request, overloaded())
        try:
            return await handler(request)
        finally:
            admission.leave()

    return middleware
