"""Running the apps: the one place that calls web.run_app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from todo_service.api.access_log import JsonAccessLogger
from todo_service.app import create_app
from todo_service.run import parser_refusals
from todo_service.settings import Settings

log = logging.getLogger(__name__)

# On SIGTERM: stop accepting, give in-flight requests this long, then close the client.
SHUTDOWN_GRACE_S: Final = 10.0
# Connections waiting to be accepted. aiohttp's default of 128 overflows when a load balancer
# or a load test opens many connections at once, and each dropped SYN costs its client a 1 s
# retransmission (seen in bench/ at 128 connections). The kernel caps it at somaxconn.
LISTEN_BACKLOG: Final = 1024


def _run(app: web.Application, host: str, port: int, *, reuse_port: bool = False) -> None:
    # Both of the process's servers (the API and, beside it, the page's) answer the HTTP
    # parser's refusals as the API does.
    parser_refusals.install()
    web.run_app(
        app,
        host=host,
        port=port,
        access_log_class=JsonAccessLogger,
        print=None,
        shutdown_timeout=SHUTDOWN_GRACE_S,
        reuse_port=reuse_port or None,
        backlog=LISTEN_BACKLOG,
    )


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
    _run(
        app if app is not None else create_app(settings),
        settings.host,
        settings.port,
        reuse_port=reuse_port,
    )


def run_website(app: web.Application, host: str, port: int) -> None:
    log.info("serving the web page", extra={"fields": {"host": host, "port": port}})
    _run(app, host, port)


def serve_alongside(app: web.Application, other: web.Application, host: str, port: int) -> None:
    """Serve `other` on host:port for as long as `app` runs: one process, one event loop.

    It is started after `app`'s earlier cleanup contexts and stopped before them, so Ctrl-C
    (or SIGTERM) on `app`'s run_app stops both.
    """

    async def other_ctx(_: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(other, access_log_class=JsonAccessLogger)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, shutdown_timeout=SHUTDOWN_GRACE_S).start()
            log.info("serving alongside", extra={"fields": {"host": host, "port": port}})
            yield
        finally:
            await runner.cleanup()

    app.cleanup_ctx.append(other_ctx)
