"""The real AWS CLI (PyPI's `awscli`, in a virtual environment of its own), driven as a user would.

`.ci/provision-tools.sh` installs it into `.tools/` and CI puts `.tools/bin` on PATH. Without
an `aws` command the tests that need it skip with the reason (CI turns that into a failure).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-1"
AWS_CLI_TIMEOUT_S = 120


def aws_cli() -> str:
    """The `aws` command on PATH, or a skip saying how to get one."""
    found = shutil.which("aws")
    if found is None:
        pytest.skip("no `aws` on PATH: run .ci/provision-tools.sh and add .tools/bin to PATH")
    return found


def run_aws(endpoint_url: str, *args: str) -> Any:
    """`aws <args> --output json` against a local endpoint with dummy credentials; its JSON."""
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "AWS_PAGER": "",
    }
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        [aws_cli(), *args, "--endpoint-url", endpoint_url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=AWS_CLI_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"aws {' '.join(args)} failed: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None


def batch_write_file(endpoint_url: str, path: Path) -> None:
    """The workshop's own load: `aws dynamodb batch-write-item --request-items file://...`.

    Like the workshop, it expects no unprocessed items (a file of at most 25 requests).
    """
    answer = run_aws(
        endpoint_url, "dynamodb", "batch-write-item", "--request-items", f"file://{path}"
    )
    assert answer["UnprocessedItems"] == {}, answer
