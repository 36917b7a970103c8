"""The embedded DynamoDB-compatible server: moto's server with every request serialized.

`python -m todo_service.local.moto_server --port P` runs it. moto's werkzeug server handles
requests on threads with no locking, so two concurrent conditional writes to one item can both
succeed, which DynamoDB never allows; one lock around the WSGI app makes conditions mean there
what they mean on DynamoDB.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final

from todo_service.local.harness import LOOPBACK, LocalServer

PARENT_POLL_S: Final = 1.0


def moto_argv(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "todo_service.local.moto_server",
        "--port",
        str(port),
        "--parent-pid",
        str(os.getpid()),
    ]


def moto_server(port: int = 0) -> LocalServer:
    return LocalServer(moto_argv, "moto server", port)


def _serialized(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    lock = threading.Lock()

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                # Drain the body inside the lock: moto may compute it lazily.
                return [b"".join(result)]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return wsgi


def _exit_with_parent(parent_pid: int) -> None:
    """Stop when the process that started us is gone, even if it was killed with SIGKILL."""
    while True:
        time.sleep(PARENT_POLL_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto's DynamoDB server, requests serialized")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    # Imported here: moto is a development dependency, absent from the service image.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    if args.parent_pid:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # One access-log line per request would cost more than the request itself.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, _serialized(app), threaded=True)


if __name__ == "__main__":
    main()
