"""`cdk synth` with the real AWS CDK CLI from npm, offline, as a deployer runs it."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pytest

REPO: Final = Path(__file__).resolve().parents[2]
CDK_DIR: Final = REPO / "cdk"
CDK_CLI: Final = REPO / "node_modules" / ".bin" / "cdk"
# Any region will do: synthesis looks nothing up; the region only selects the ALB's
# log-delivery principal.
REGION: Final = "us-east-1"
SYNTH_TIMEOUT_S: Final = 240
# A loopback port nothing listens on: any request the CLI or the app tried to send would fail.
DEAD_PROXY: Final = "http://127.0.0.1:9"


def offline_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without AWS credentials or proxies, every request dead."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_")) and key.lower() not in ("http_proxy", "https_proxy")
    }
    return (
        environment
        | {
            "CDK_DEFAULT_ACCOUNT": "123456789012",
            "CDK_DEFAULT_REGION": REGION,
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "HTTP_PROXY": DEAD_PROXY,
            "HTTPS_PROXY": DEAD_PROXY,
            "NO_PROXY": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        | dict(extra or {})
    )


def run_cdk_synth(
    python: Path | str,
    outdir: Path,
    extra_env: Mapping[str, str] | None = None,
    context: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cdk synth` of cdk/app.py with `python` into `outdir`, `-c` for each of `context`."""
    if not CDK_CLI.is_file():
        pytest.skip("the aws-cdk CLI is missing: run `npm ci` at the repository root")
    command = [
        str(CDK_CLI),
        "synth",
        "--app",
        f"{python} app.py",
        "--output",
        str(outdir),
        "--no-notices",
        "--quiet",
    ]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    return subprocess.run(
        command,
        cwd=CDK_DIR,
        env=offline_environment(extra_env),
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_S,
        check=False,
    )


def cdk_synth(
    python: Path | str, outdir: Path, extra_env: Mapping[str, str] | None = None
) -> float:
    """Run `cdk synth` of cdk/app.py with `python` into `outdir`; the seconds it took."""
    started = time.monotonic()
    result = run_cdk_synth(python, outdir, extra_env)
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    return time.monotonic() - started
