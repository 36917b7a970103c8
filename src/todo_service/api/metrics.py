"""Prometheus metrics: HTTP requests by route and status, DynamoDB calls by operation.

Each app owns its own registry (not prometheus-client's global one), so that the tests, which
build many apps in one process, never see another app's numbers or a duplicate-metric error.

DynamoDB calls are timed with botocore's event hooks on the one client (see `instrument`),
not in the repository: the hooks see each API call with its operation name and its retry
count, which the repository, wrapping several calls in one deadline, does not.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

if TYPE_CHECKING:
    from types_aiobotocore_dynamodb import DynamoDBClient

# Requests that matched no route share one label value, so that scanners probing random
# paths cannot grow the number of time series without bound.
UNMATCHED_ROUTE: Final = "unmatched"
HTTP_BUCKETS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DYNAMODB_BUCKETS_S: Final = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Where the before-call hook leaves the start time, in botocore's per-call context dict.
_STARTED_AT: Final = "todo_service_started_at"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "todo_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "todo_http_request_duration_seconds",
            "Time from the request reaching the app to the response being ready.",
            ("method", "route", "status"),
            buckets=HTTP_BUCKETS_S,
            registry=self.registry,
        )
        self.dynamodb_calls = Counter(
            "todo_dynamodb_calls_total",
            "DynamoDB API calls made, by operation (one call may be several attempts).",
            ("operation",),
            registry=self.registry,
        )
        self.dynamodb_errors = Counter(
            "todo_dynamodb_errors_total",
            "DynamoDB API calls that failed, by operation and error code.",
            ("operation", "code"),
            registry=self.registry,
        )
        self.dynamodb_retries = Counter(
            "todo_dynamodb_retries_total",
            "Attempts botocore retried (throttling, transient errors), by operation.",
            ("operation",),
            registry=self.registry,
        )
        self.dynamodb_duration = Histogram(
            "todo_dynamodb_call_duration_seconds",
            "Time of one DynamoDB API call, retries included, by operation.",
            ("operation",),
            buckets=DYNAMODB_BUCKETS_S,
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "todo_auth_failures_total",
            "Requests refused for their credentials (401), by reason.",
            ("reason",),
            registry=self.registry,
        )
        self.jwks_fetches = Counter(
            "todo_auth_jwks_fetches_total",
            "Fetches of the user pool's signing keys, by outcome (ok or error).",
            ("outcome",),
            registry=self.registry,
        )

        # Each label set's series, looked up once: prometheus-client's `labels()` checks and
        # converts its arguments and takes a lock on every call, which cost more than the
        # update itself (three lookups per request). Bounded as the registry's own children
        # are: one entry per series it holds.
        self._http_series = functools.cache(self._new_http_series)
        self._dynamodb_series = functools.cache(self._new_dynamodb_series)

    def _new_http_series(self, *labels: str) -> tuple[Counter, Histogram]:
        return self.http_requests.labels(*labels), self.http_duration.labels(*labels)

    def _new_dynamodb_series(self, operation: str) -> tuple[Counter, Histogram]:
        return self.dynamodb_calls.labels(operation), self.dynamodb_duration.labels(operation)

    def declare_auth_reasons(self, reasons: tuple[str, ...]) -> None:
        """Every reason appears at 0 from the start, so alerts can rate() it from the first."""
        for reason in reasons:
            self.auth_failures.labels(reason)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def observe_request(self, request: web.Request, status: int, seconds: float) -> None:
        route = request.match_info.route.resource
        template = UNMATCHED_ROUTE if route is None else route.canonical
        requests, duration = self._http_series(request.method, template, str(status))
        requests.inc()
        duration.observe(seconds)

    def instrument(self, client: DynamoDBClient) -> None:
        """Count and time every DynamoDB call the client makes, through botocore's events."""
        events = client.meta.events
        events.register("before-call.dynamodb", self._before_call)
        events.register("after-call.dynamodb", self._after_call)
        events.register("after-call-error.dynamodb", self._after_call_error)

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED_AT] = time.perf_counter()
        self._dynamodb_series(model.name)[0].inc()

    def _after_call(
        self,
        http_response: Any,
        parsed: dict[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        operation = model.name
        self._observe_duration(operation, context)
        retries = parsed.get("ResponseMetadata", {}).get("RetryAttempts", 0)
        if retries:
            self.dynamodb_retries.labels(operation).inc(retries)
        if http_response.status_code >= 300:
            code = parsed.get("Error", {}).get("Code") or str(http_response.status_code)
            self.dynamodb_errors.labels(operation, code).inc()

    def _after_call_error(
        self, exception: BaseException, context: dict[str, Any], event_name: str, **_: Any
    ) -> None:
        # This event carries no model: the operation is the last part of the event's name.
        operation = event_name.rsplit(".", 1)[-1]
        self._observe_duration(operation, context)
        attempts = context.get("retries", {}).get("attempt", 1)
        if attempts > 1:
            self.dynamodb_retries.labels(operation).inc(attempts - 1)
        self.dynamodb_errors.labels(operation, type(exception).__name__).inc()

    def _observe_duration(self, operation: str, context: dict[str, Any]) -> None:
        started_at = context.pop(_STARTED_AT, None)
        if started_at is not None:
            self._dynamodb_series(operation)[1].observe(time.perf_counter() - started_at)


METRICS: Final = web.AppKey("metrics", Metrics)


def metrics_middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started_at = time.perf_counter()
        response = await handler(request)
        metrics.observe_request(request, response.status, time.perf_counter() - started_at)
        return response

    return middleware


def metrics_response(metrics: Metrics) -> web.Response:
    return web.Response(
        body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4}
    )
