"""The `todo-service` command run as a user runs it: a child process, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys

CLI_TIMEOUT_S = 60


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "todo_service", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
