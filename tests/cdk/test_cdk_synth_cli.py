"""`cdk synth` with the real AWS CDK CLI from npm, offline, exactly as a deployer runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .cli import REGION, cdk_synth, run_cdk_synth


def assert_is_the_todo_stack(outdir: Path) -> dict[str, Any]:
    """The synthesized template, checked for the stack's tables, outputs and manifest."""
    template: dict[str, Any] = json.loads((outdir / "TodoService.template.json").read_text())
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert sorted(t["Properties"]["KeySchema"][0]["AttributeName"] for t in tables) == [
        "id",
        "idempotencyKey",
    ]
    # The default deployment signs users in: the pool's ids are among the outputs.
    assert set(template["Outputs"]) >= {
        "WebsiteUrl",
        "ApiUrl",
        "TableName",
        "Region",
        "UserPoolId",
        "UserPoolClientId",
    }
    # cdk.json turns version reporting off: no AWS::CDK::Metadata resource reports home.
    assert all(r["Type"] != "AWS::CDK::Metadata" for r in template["Resources"].values())
    manifest = json.loads((outdir / "manifest.json").read_text())
    stack = manifest["artifacts"]["TodoService"]
    assert stack["environment"] == f"aws://unknown-account/{REGION}"
    # No context lookups were needed (they would have needed AWS credentials).
    assert "missing" not in manifest
    return template


def test_cdk_cli_synthesizes_the_app_offline(tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    seconds = cdk_synth(sys.executable, outdir)
    print(f"cdk synth took {seconds:.1f} s")
    assert_is_the_todo_stack(outdir)


def test_cdk_cli_refuses_an_unknown_auth_mode_in_one_line(tmp_path: Path) -> None:
    result = run_cdk_synth(sys.executable, tmp_path / "cdk.out", context={"todo:auth": "open"})
    assert result.returncode != 0
    assert "cdk context: todo:auth='open' must be one of cognito, none" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cdk.out" / "TodoService.template.json").exists()
