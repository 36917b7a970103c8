"""The embedded server (DynamoDB and Cognito on one port): moto's, made to behave like AWS.

`python -m todo_service.local.moto_server --port P [--cors-origin O ...]` runs it.

- Every request is serialized. moto's werkzeug server handles requests on threads with no
  locking, so two concurrent conditional writes to one item can both succeed, which DynamoDB
  never allows; one lock around the WSGI app makes conditions mean there what they mean on
  DynamoDB.
- CORS for the web page's origins alone (`--cors-origin`), as Cognito answers the page in the
  cloud. moto's own CORS (flask_cors on every backend) allows any origin, and its preflights
  are answered only by accident: an OPTIONS carries no X-Amz-Target, so moto routes it to S3's
  ListBuckets. Here a preflight never reaches moto, and a page on any other origin (any web
  site the developer visits) cannot call the embedded server from the browser at all.
- RevokeToken, which moto lacks (`local/revoke_token.py`), so signing out revokes locally too.
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
from todo_service.local.revoke_token import WsgiApp, with_revoke_token

PARENT_POLL_S: Final = 1.0
# What the page sends Cognito: its JSON API's two headers (X-Amz-User-Agent is what AWS's own
# browser SDKs add, allowed so that they work here as well).
CORS_ALLOWED_HEADERS: Final = "Content-Type, X-Amz-Target, X-Amz-User-Agent"
CORS_ALLOWED_METHODS: Final = "POST"
CORS_EXPOSED_HEADERS: Final = "x-amzn-RequestId, x-amzn-ErrorType"
CORS_MAX_AGE_S: Final = 600


def moto_argv(port: int, cors_origins: Sequence[str] = ()) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "todo_service.local.moto_server",
        "--port",
        str(port),
        "--parent-pid",
        str(os.getpid()),
    ]
    for origin in cors_origins:
        argv += ["--cors-origin", origin]
    return argv


def moto_server(port: int = 0, cors_origins: Sequence[str] = ()) -> LocalServer:
    """The embedded server on `port` (0 = a free one); browsers on `cors_origins` may call it."""
    return LocalServer(lambda free: moto_argv(free, cors_origins), "moto server", port)


def _with_cors(app: WsgiApp, allowed_origins: Sequence[str]) -> WsgiApp:
    """CORS for `allowed_origins` only: preflights answered here, the origin echoed on answers."""
    origins = frozenset(allowed_origins)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        allowed = origin in origins
        cors = [("Access-Control-Allow-Origin", origin)] if allowed and origin else []
        cors.append(("Vary", "Origin"))
        preflight = environ.get("REQUEST_METHOD") == "OPTIONS" and (
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        )
        if preflight:
            if not allowed:
                start_response("403 Forbidden", [("Content-Length", "0"), *cors])
                return [b""]
            start_response(
                "204 No Content",
                [
                    ("Access-Control-Allow-Methods", CORS_ALLOWED_METHODS),
                    ("Access-Control-Allow-Headers", CORS_ALLOWED_HEADERS),
                    ("Access-Control-Max-Age", str(CORS_MAX_AGE_S)),
                    *cors,
                ],
            )
            return [b""]
        if allowed:
            cors.append(("Access-Control-Expose-Headers", CORS_EXPOSED_HEADERS))

        def start_with_cors(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, *cors], *exc)

        return app(environ, start_with_cors)

    return wsgi


def _serialized(app: WsgiApp) -> Callable[..., list[bytes]]:
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
    parser = argparse.ArgumentParser(description="moto's server, requests serialized")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        help="an origin whose pages may call the server (repeatable; none by default)",
    )
    args = parser.parse_args(argv)
    # Before moto is imported (it reads this once): CORS is ours alone (see _with_cors).
    os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
    # Imported here: moto is a development dependency, absent from the service image.
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    if args.parent_pid:
        threading.Thread(target=_exit_with_parent, args=(args.parent_pid,), daemon=True).start()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    # One access-log line per request would cost more than the request itself.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = DomainDispatcherApplication(create_backend_app)
    served = _with_cors(_serialized(with_revoke_token(app)), args.cors_origin)
    run_simple(args.host, args.port, served, threaded=True)


if __name__ == "__main__":
    main()
