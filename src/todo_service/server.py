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
# Connections waiting to be accepted. aiohttp's default of 128 overflows when a load balancer
# or a load test opens many connections at once, and each dropped SYN costs its client a 1 s
# retransmission (seen in bench/ at 128 connections). The kernel caps it at somaxconn.
LISTEN_BACKLOG: Final = 1024


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
        backlog=LISTEN_BACKLOG,
    )
