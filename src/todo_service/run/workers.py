"""`serve --workers N`: N server processes on one port, so that the service uses every core.

One Python process runs on one core at a time. Each worker is a whole server (its own event
loop, DynamoDB client and connection pool) listening on the same port with SO_REUSEPORT,
and the kernel spreads new connections across the workers. The parent only starts them,
passes SIGINT/SIGTERM on, and waits: if one worker dies, it stops the others and exits 1,
so the supervisor (systemd, ECS, compose) restarts the whole service.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import secrets
import signal
import socket
from types import FrameType
from typing import Final

from todo_service.logs import configure_logging
from todo_service.run.server import SHUTDOWN_GRACE_S, run_server
from todo_service.settings import Settings, log_level_number

log = logging.getLogger(__name__)

# After the workers' own grace period, the parent waits this much more, then kills.
STOP_MARGIN_S: Final = 5.0


def _worker(settings: Settings) -> None:
    # A spawned process starts fresh: set up logging again, as `main` did in the parent.
    configure_logging(log_level_number(settings))
    run_server(settings, reuse_port=True)


def _reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) to fix the port, and to fail here if it is taken.

    The bound socket keeps port 0's pick for the workers; as it never listens, the kernel
    gives it no connections.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_workers(settings: Settings, workers: int) -> int:
    """Serve with `workers` processes until SIGINT/SIGTERM; return the exit code."""
    if workers == 1:
        run_server(settings)
        return 0
    with _reserve_port(settings.host, settings.port) as reserved:
        settings = settings.replace(
            port=reserved.getsockname()[1],
            # List cursors are signed: every worker must sign with the same key, or a cursor
            # from one worker is refused by the next. A random one still dies with the service.
            cursor_secret=settings.cursor_secret or secrets.token_urlsafe(32),
        )
        # spawn, not fork: each worker builds its event loop, client and pool from scratch.
        context = multiprocessing.get_context("spawn")
        processes = [
            context.Process(target=_worker, args=(settings,), name=f"worker-{n}")
            for n in range(workers)
        ]
        asked_to_stop = False

        def stop_workers() -> None:
            for process in processes:
                if process.is_alive():
                    process.terminate()  # SIGTERM: each worker drains, then exits

        def on_signal(signum: int, frame: FrameType | None) -> None:
            nonlocal asked_to_stop
            asked_to_stop = True
            stop_workers()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            for process in processes:
                process.start()
            if asked_to_stop:  # a signal came while the workers were starting
                stop_workers()
            log.info("started %d workers on port %d", workers, settings.port)
            # Returns when a worker exits: after our SIGTERM, or on its own (a failure).
            multiprocessing.connection.wait([p.sentinel for p in processes])
            if not asked_to_stop:
                failed = [p.name for p in processes if p.exitcode is not None]
                log.error("worker(s) %s exited; stopping the others", ", ".join(failed))
                stop_workers()
            for process in processes:
                process.join(SHUTDOWN_GRACE_S + STOP_MARGIN_S)
                if process.is_alive():
                    process.kill()
                    process.join()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 0 if asked_to_stop else 1
