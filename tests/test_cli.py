"""The command line: configuration errors are one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .support.cli import run


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"TODO_PORT": "eighty"}, "TODO_PORT"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "ftp://x"}, "AWS_ENDPOINT_URL_DYNAMODB"),
    ],
)
def test_bad_configuration_exits_2_with_one_line_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    result = run("serve", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert variable in lines[0]


def test_missing_region_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    result = subprocess.run(
        [sys.executable, "-m", "todo_service", "create-table"],
        env={**env, "AWS_CONFIG_FILE": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AWS_REGION" in result.stderr


def test_bad_port_flag_is_a_usage_error() -> None:
    result = run("serve", "--port", "99999")
    assert result.returncode == 2
    assert "--port" in result.stderr
