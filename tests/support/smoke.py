"""scripts/smoke run as a deployer runs it: its own process, from the page's URL alone."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Final

SMOKE: Final = Path(__file__).resolve().parents[2] / "scripts" / "smoke"
SMOKE_TIMEOUT_S: Final = 120
CREDENTIAL_VARIABLES: Final = ("TODO_SMOKE_USERNAME", "TODO_SMOKE_PASSWORD")


def run_smoke(
    url: str, env: Mapping[str, str] | None = None, *args: str
) -> subprocess.CompletedProcess[str]:
    """`scripts/smoke URL *args` (through its shebang), with only `env`'s smoke-test user."""
    environment = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    return subprocess.run(
        [str(SMOKE), url, *args],
        env=environment | dict(env or {}),
        capture_output=True,
        text=True,
        timeout=SMOKE_TIMEOUT_S,
        check=False,
    )
