"""The app factory: the server, the dev runner, the tests and the benchmarks all start here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from todo_service.api.auth import VERIFIER, TokenVerifier, auth_middleware
from todo_service.api.handlers import CURSORS, OPENAPI, REPOSITORY
from todo_service.api.jwks import JWKS_TIMEOUT_S, JwksCache
from todo_service.api.metrics import METRICS, Metrics, metrics_middleware
from todo_service.api.middlewares import (
    ERROR_CODES,
    cors_middleware,
    error_middleware,
    request_id_middleware,
)
from todo_service.api.openapi import openapi_json
from todo_service.api.ratelimit import Policy, RateLimiter, ratelimit_middleware
from todo_service.api.requests import MAX_BODY_BYTES
from todo_service.api.routes import setup_routes
from todo_service.api.shedding import Admission, shedding_middleware
from todo_service.domain.cursor import CursorCodec
from todo_service.sdk.client import open_client
from todo_service.settings import Settings, check_auth
from todo_service.store.table import idempotency_table_name
from todo_service.store.todos import TodoRepository

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from todo_service.api.tracing import Tracing

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def dynamodb_ctx(settings: Settings, tracing: Tracing | None) -> CleanupContext:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """One DynamoDB client for the app's whole life: opened at start-up, closed at shutdown."""
        async with open_client(settings.client_options()) as client:
            app[METRICS].instrument(client)
            if tracing is not None:
                tracing.instrument(client)
            cognito = settings.auth_mode == "cognito"
            app[REPOSITORY] = TodoRepository(
                client,
                settings.table_name,
                settings.dynamodb_timeout_s,
                owner_index=cognito,
                # Todos have an owner only with sign-in, and only owners have a quota.
                max_todos_per_owner=settings.max_todos_per_user if cognito else 0,
            )
            yield
        # At shutdown this runs after in-flight requests have finished (or the grace ended).
        log.info("DynamoDB client closed")

    return ctx


def auth_ctx(settings: Settings) -> CleanupContext:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """The JWKS HTTP session for the app's whole life (TODO_AUTH=cognito only)."""
        timeout = aiohttp.ClientTimeout(total=JWKS_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            keys = JwksCache(
                session, settings.cognito_jwks, settings.cognito_jwks_min_refetch_s, app[METRICS]
            )
            # check_auth has made sure the client id is set.
            client_id = settings.cognito_client_id or ""
            app[VERIFIER] = TokenVerifier(keys, settings.cognito_issuer, client_id)
            yield

    return ctx


def _policy(name: str, rate_per_s: float, burst: int) -> Policy | None:
    return Policy(name, rate_per_s, burst) if rate_per_s > 0 else None


def tracing_ctx(provider: TracerProvider) -> CleanupContext:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """The tracer provider's exporter thread for the app's life; its last spans are
        flushed at shutdown, after the requests (and the client) are done."""
        yield
        await asyncio.to_thread(provider.shutdown)

    return ctx


def _tracing(settings: Settings) -> tuple[Tracing, TracerProvider]:
    """OpenTelemetry, imported only when it is configured: with it off, it costs nothing."""
    from todo_service.api.tracing import Tracing, tracer_provider

    config = settings.tracing
    provider = tracer_provider(config.exporter, config.endpoint, config.ratio, config.service_name)
    tables = (settings.table_name, idempotency_table_name(settings.table_name))
    return Tracing(provider, tables), provider


def create_app(settings: Settings) -> web.Application:
    """The API. Its defences run cheapest first (docs/limits.md): the in-flight bound, then
    the token, then the user's rate limit, then (in the repository) the user's quota."""
    check_auth(settings)
    metrics = Metrics()
    admission = Admission(settings.max_in_flight, settings.max_queue_wait_ms / 1000)
    metrics.watch(lambda: admission.in_flight, lambda: admission.waiting)
    metrics.declare_error_codes(ERROR_CODES)
    tracing = _tracing(settings) if settings.tracing.enabled else None
    middlewares = [
        # Outermost: the request's span covers everything the service does for it.
        *(() if tracing is None else (tracing[0].middleware(),)),
        request_id_middleware,
        # Outside CORS and the error middleware: it counts the status the client gets.
        metrics_middleware(metrics),
        cors_middleware(settings.cors_origins),
        # Before anything parses a token or calls DynamoDB.
        shedding_middleware(admission),
        error_middleware,
    ]
    if settings.auth_mode == "cognito":
        # Inside the error middleware, which turns a JWKS outage into a 503; the rate limit
        # after it, since it needs the user.
        middlewares.append(auth_middleware(metrics))
        middlewares.append(
            ratelimit_middleware(
                RateLimiter(),
                reads=_policy("reads", settings.rate_limit_reads, settings.rate_limit_read_burst),
                writes=_policy(
                    "writes", settings.rate_limit_writes, settings.rate_limit_write_burst
                ),
            )
        )
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=middlewares)
    app[METRICS] = metrics
    app[OPENAPI] = openapi_json(auth=settings.auth_mode == "cognito")
    app[CURSORS] = CursorCodec(settings.table_name, settings.cursor_secret)
    if tracing is not None:
        # Before the client's: the provider outlives the calls it traces.
        app.cleanup_ctx.append(tracing_ctx(tracing[1]))
    app.cleanup_ctx.append(dynamodb_ctx(settings, None if tracing is None else tracing[0]))
    if settings.auth_mode == "cognito":
        app.cleanup_ctx.append(auth_ctx(settings))
    setup_routes(app)
    return app
