"""Running the app: the one place that calls web.run_app."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from aiohttp import web

from .app import create_app
from .logs import JsonAccessLogger
from .settings import Settings

log = logging.getLogger(__name__)

# On SIGTERM: stop accepting, give in-flight requests this long, then close the client.
SHUTDOWN_GRACE_S: Final = 10.0


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (a runtime dependency off Windows), else asyncio's loop.

    uvloop's event loop and transports are written in C: about 7% fewer instructions per
    request for the whole service under load, more on the HTTP side (see bench/README.md).
    """
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency wherever it builds
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_server(
    settings: Settings, app: web.Application | None = None, *, reuse_port: bool = False
) -> None:
    """Serve until SIGINT/SIGTERM. `reuse_port` lets several worker processes share the port."""
    log.info(
        "serving",
        extra={
            "fields": {
                "host": settings.host,
                "port": settings.port,
                "table": settings.table_name,
                "endpoint": settings.endpoint_url,
            }
        },
    )
    web.run_app(
        app if app is not None else create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log_class=JsonAccessLogger,
        print=None,
        shutdown_timeout=SHUTDOWN_GRACE_S,
        reuse_port=reuse_port or None,
        loop=new_event_loop(),
    )
