"""Validators nobody here wrote, on the synthesized template (issue 11).

cfn-lint, checkov and cfn-guard with AWS Control Tower's proactive rules each run once on the
session's templates: the main stack's and the edge stack's, and the web ACL's stack of
`-c todo:waf=on`. Their accepted findings, each with its reason, are in cdk/validators.toml;
a finding not listed there fails, and so does a listed one that no longer occurs, so the list
never goes stale.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from typing import Any, Final

import pytest

from .cli import CDK_DIR, REPO, offline_environment
from .templates import Synthesized

ACCEPTED: Final[dict[str, dict[str, str]]] = tomllib.loads(
    (CDK_DIR / "validators.toml").read_text()
)
CFN_GUARD: Final = REPO / "node_modules" / "@cdklabs" / "cdk-validator-cfnguard"
CFN_GUARD_BINARY: Final = CFN_GUARD / "bin" / "ubuntu" / "x86_64" / "cfn-guard"
CONTROL_TOWER_RULES: Final = CFN_GUARD / "rules" / "control-tower" / "cfn-guard"
VALIDATOR_TIMEOUT_S: Final = 300


@pytest.fixture(scope="module")
def template_files(synthesized: Synthesized, synthesized_with_options: Synthesized) -> list[str]:
    """Every stack's template: the default app's two, and the web ACL's of the options."""
    assert synthesized_with_options.waf_stack is not None
    files = [
        synthesized.outdir / f"{synthesized.stack.stack_name}.template.json",
        synthesized.outdir / f"{synthesized.edge_stack.stack_name}.template.json",
        synthesized_with_options.outdir
        / f"{synthesized_with_options.waf_stack.stack_name}.template.json",
    ]
    assert all(f.is_file() for f in files)
    return [str(f) for f in files]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not on PATH: run `bash .ci/provision-tools.sh`, add .tools/bin")
    return found


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=VALIDATOR_TIMEOUT_S,
        check=False,
    )


def _assert_exactly_the_accepted(tool: str, found: dict[str, set[str]]) -> None:
    """`found` maps finding id -> where; every one must be accepted, every acceptance found."""
    accepted = ACCEPTED[tool]
    assert all(reason.strip() for reason in accepted.values()), f"{tool}: a skip without reason"
    unexpected = {rule: sorted(where) for rule, where in found.items() if rule not in accepted}
    assert not unexpected, f"{tool}: fix, or accept in cdk/validators.toml: {unexpected}"
    stale = sorted(set(accepted) - set(found))
    assert not stale, f"{tool}: cdk/validators.toml accepts findings no longer made: {stale}"


def test_cfn_lint_finds_nothing_but_the_accepted(template_files: list[str]) -> None:
    result = _run([_tool("cfn-lint"), "--format", "json", *template_files])
    # Exit codes are bit flags: 2 errors, 4 warnings, 8 informational; 1 is a crash.
    assert result.returncode & 1 == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert not errors, f"cfn-lint errors: {errors}"
    found: dict[str, set[str]] = {}
    for finding in findings:
        found.setdefault(finding["Rule"]["Id"], set()).add(finding["Message"][:80])
    _assert_exactly_the_accepted("cfn-lint", found)


def test_checkov_finds_nothing_but_the_accepted(template_files: list[str]) -> None:
    command = [
        _tool("checkov"),
        "--framework",
        "cloudformation",
        *(argument for file in template_files for argument in ("--file", file)),
        "--output",
        "json",
        "--quiet",
        "--compact",
        # Offline: no download of external checks or of the platform's guideline mappings.
        "--skip-download",
    ]
    result = _run(command)
    assert result.returncode in (0, 1), result.stderr
    parsed: dict[str, Any] | list[dict[str, Any]] = json.loads(result.stdout)
    # One report for all the files; a list of them, should a version split it by file.
    reports = parsed if isinstance(parsed, list) else [parsed]
    found: dict[str, set[str]] = {}
    for check in (c for report in reports for c in report["results"]["failed_checks"]):
        found.setdefault(check["check_id"], set()).add(check["resource"])
    _assert_exactly_the_accepted("checkov", found)


def _json_documents(text: str) -> list[dict[str, Any]]:
    """cfn-guard writes one JSON document per rule file, one after the other."""
    decoder = json.JSONDecoder()
    documents: list[dict[str, Any]] = []
    text = text.strip()
    position = 0
    while position < len(text):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


def test_cfn_guard_control_tower_rules_find_nothing_but_the_accepted(
    template_files: list[str],
) -> None:
    if not CFN_GUARD_BINARY.is_file():
        pytest.skip("no cfn-guard: run `npm ci` (@cdklabs/cdk-validator-cfnguard bundles it)")
    command = [
        str(CFN_GUARD_BINARY),
        "validate",
        *(argument for file in template_files for argument in ("--data", file)),
        "--rules",
        str(CONTROL_TOWER_RULES),
        "--output-format",
        "json",
        "--show-summary",
        "none",
    ]
    result = _run(command)
    # 0 all compliant, 19 some not compliant; anything else is the tool failing.
    assert result.returncode in (0, 19), result.stderr
    documents = _json_documents(result.stdout)
    assert documents, "cfn-guard evaluated no rule file"
    found: dict[str, set[str]] = {}
    for document in documents:
        for failure in document["not_compliant"]:
            where = set(re.findall(r"/Resources/([A-Za-z0-9]+)", json.dumps(failure)))
            found.setdefault(failure["Rule"]["name"], set()).update(where)
    _assert_exactly_the_accepted("cfn-guard", found)
