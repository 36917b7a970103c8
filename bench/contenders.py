"""The contenders: their names and the commands that start their servers.

Apart from the harness so that the tests can check the commands without the bench extra
(psutil, matplotlib) installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from todo_service.local.harness import LOOPBACK

ROOT: Final = Path(__file__).resolve().parents[1]
BIN: Final = Path(sys.executable).parent
BASELINES: Final = ROOT / "bench" / "baselines"

# name -> description; the floor has no server (see service_argv for the commands).
CONTENDERS: Final = {
    "service-1w": "todo-service serve (1 worker)",
    "service-2w": "todo-service serve --workers 2",
    "service-1w-cognito": "todo-service serve, TODO_AUTH=cognito, a bearer token on every request",
    "service-2w-cognito": "todo-service serve --workers 2, TODO_AUTH=cognito, a bearer token",
    "fastapi-1w": "FastAPI + uvicorn (uvloop, httptools), 1 worker",
    "fastapi-2w": "FastAPI + uvicorn (uvloop, httptools), --workers 2",
    "flask": "workshop: Flask dev server (A)",
    "gunicorn": "workshop: gunicorn, 2 sync workers (B)",
    "floor": "floor: direct aioboto3, no HTTP",
}
COGNITO_SUFFIX: Final = "-cognito"


def is_cognito(contender: str) -> bool:
    """Whether the contender runs with TODO_AUTH=cognito (and its requests carry a token)."""
    return contender.endswith(COGNITO_SUFFIX)


def service_argv(contender: str, port: int) -> list[str]:
    host = ["--host", LOOPBACK, "--port", str(port)]
    # The same server either way: cognito mode is a setting (service_env), not a command.
    contender = contender.removesuffix(COGNITO_SUFFIX)
    if contender == "service-1w":
        return [str(BIN / "todo-service"), "serve", *host]
    if contender == "service-2w":
        return [str(BIN / "todo-service"), "serve", *host, "--workers", "2"]
    if contender == "flask":
        return [sys.executable, str(BASELINES / "workshop_app.py"), *host]
    if contender == "gunicorn":
        return [
            str(BIN / "gunicorn"),
            "--workers=2",
            "--worker-class=sync",
            f"--bind={LOOPBACK}:{port}",
            f"--chdir={BASELINES}",
            "workshop_app:app",
        ]
    if contender in ("fastapi-1w", "fastapi-2w"):
        # As FastAPI's documentation deploys it ("Server Workers"): uvicorn's own workers,
        # with the uvloop loop and the httptools parser of uvicorn[standard], access log on.
        return [
            str(BIN / "uvicorn"),
            "fastapi_app:app",
            f"--app-dir={BASELINES}",
            *host,
            f"--workers={contender.removeprefix('fastapi-').removesuffix('w')}",
            "--loop=uvloop",
            "--http=httptools",
        ]
    raise ValueError(contender)
