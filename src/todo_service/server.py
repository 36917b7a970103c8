"""Running the app: the one place that calls web.run_app."""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web

from .app import create_app
from .logs import JsonAccessLogger
from .settings import Settings

log = logging.getLogger(__name__)

# On SIGTERM: stop accepting, give in-flight requests this long, then close the client.
SHUTDOWN_GRACE_S: Final = 10.0


def run_server(settings: Settings, app: web.Application | None = None) -> None:
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
    )
