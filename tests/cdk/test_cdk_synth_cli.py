"""`cdk synth` with the real AWS CDK CLI from npm, offline, exactly as a deployer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CDK_DIR, REGION, REPO, asset_context

CDK_CLI = REPO / "node_modules" / ".bin" / "cdk"
SYNTH_TIMEOUT_S = 240
# A loopback port nothing listens on: any request the CLI or the app tried to send would fail.
DEAD_PROXY = "http://127.0.0.1:9"


def test_cdk_cli_synthesizes_the_app_offline(tmp_path: Path) -> None:
    if not CDK_CLI.is_file():
        pytest.skip("the aws-cdk CLI is missing: run `npm ci` at the repository root")
    outdir = tmp_path / "cdk.out"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_")) and key.lower() not in ("http_proxy", "https_proxy")
    } | {
        "CDK_DEFAULT_ACCOUNT": "123456789012",
        "CDK_DEFAULT_REGION": REGION,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "NO_PROXY": "",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    command = [
        str(CDK_CLI),
        "synth",
        "--app",
        f"{sys.executable} app.py",
        "--output",
        str(outdir),
        "--no-notices",
        "--quiet",
    ]
    for key, value in asset_context().items():
        command += ["--context", f"{key}={value}"]
    started = time.monotonic()
    result = subprocess.run(
        command,
        cwd=CDK_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_S,
        check=False,
    )
    seconds = time.monotonic() - started
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    print(f"cdk synth took {seconds:.1f} s")

    template = json.loads((outdir / "TodoService.template.json").read_text())
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert sorted(t["Properties"]["KeySchema"][0]["AttributeName"] for t in tables) == [
        "id",
        "idempotencyKey",
    ]
    assert set(template["Outputs"]) >= {"WebsiteUrl", "ApiUrl", "TableName"}
    # cdk.json turns version reporting off: no AWS::CDK::Metadata resource reports home.
    assert all(r["Type"] != "AWS::CDK::Metadata" for r in template["Resources"].values())
    manifest = json.loads((outdir / "manifest.json").read_text())
    stack = manifest["artifacts"]["TodoService"]
    assert stack["environment"] == f"aws://unknown-account/{REGION}"
    # No context lookups were needed (they would have needed AWS credentials).
    assert "missing" not in manifest
