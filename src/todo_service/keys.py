"""Typed keys for the state the app shares between its parts."""

from __future__ import annotations

from aiohttp import web

from .cursor import CursorCodec
from .metrics import Metrics
from .repository import TodoRepository
from .settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REPOSITORY = web.AppKey("repository", TodoRepository)
CURSORS = web.AppKey("cursors", CursorCodec)
METRICS = web.AppKey("metrics", Metrics)
# The OpenAPI document, encoded once at start-up.
OPENAPI = web.AppKey("openapi", bytes)
