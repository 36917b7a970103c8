"""The app factory: the server, the dev runner, the tests and the benchmarks all start here."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from todo_service.api.auth import VERIFIER, TokenVerifier, auth_middleware
from todo_service.api.handlers import CURSORS, OPENAPI, REPOSITORY
from todo_service.api.jwks import JWKS_TIMEOUT_S, JwksCache
from todo_service.api.metrics import METRICS, Metrics, metrics_middleware
from todo_service.api.middlewares import cors_middleware, error_middleware, request_id_middleware
from todo_service.api.openapi import openapi_json
from todo_service.api.requests import MAX_BODY_BYTES
from todo_service.api.routes import setup_routes
from todo_service.domain.cursor import CursorCodec
from todo_service.sdk.client import open_client
from todo_service.settings import Settings, check_auth
from todo_service.store.todos import TodoRepository

log = logging.getLogger(__name__)

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def dynamodb_ctx(settings: Settings) -> CleanupContext:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        """One DynamoDB client for the app's whole life: opened at start-up, closed at shutdown."""
        async with open_client(settings.client_options()) as client:
            app[METRICS].instrument(client)
            app[REPOSITORY] = TodoRepository(
                client,
                settings.table_name,
                settings.dynamodb_timeout_s,
                owner_index=settings.auth_mode == "cognito",
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


def create_app(settings: Settings) -> web.Application:
    check_auth(settings)
    metrics = Metrics()
    middlewares = [
        request_id_middleware,
        # Outside CORS and the error middleware: it counts the status the client gets.
        metrics_middleware(metrics),
        cors_middleware(settings.cors_origins),
        error_middleware,
    ]
    if settings.auth_mode == "cognito":
        # Inside the error middleware, which turns a JWKS outage into a 503.
        middlewares.append(auth_middleware(metrics))
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=middlewares)
    app[METRICS] = metrics
    app[OPENAPI] = openapi_json(auth=settings.auth_mode == "cognito")
    app[CURSORS] = CursorCodec(settings.table_name, settings.cursor_secret)
    app.cleanup_ctx.append(dynamodb_ctx(settings))
    if settings.auth_mode == "cognito":
        app.cleanup_ctx.append(auth_ctx(settings))
    setup_routes(app)
    return app
