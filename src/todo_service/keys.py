"""Typed keys for the state the app shares between its parts."""

from __future__ import annotations

from aiohttp import web

from todo_service.api.auth import TokenVerifier
from todo_service.api.metrics import Metrics
from todo_service.domain.cursor import CursorCodec
from todo_service.settings import Settings
from todo_service.store.todos import TodoRepository

SETTINGS = web.AppKey("settings", Settings)
REPOSITORY = web.AppKey("repository", TodoRepository)
CURSORS = web.AppKey("cursors", CursorCodec)
METRICS = web.AppKey("metrics", Metrics)
# The OpenAPI document, encoded once at start-up.
OPENAPI = web.AppKey("openapi", bytes)
# Set only with TODO_AUTH=cognito, for the app's life (see app.auth_ctx).
VERIFIER = web.AppKey("verifier", TokenVerifier)
