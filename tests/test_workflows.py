"""The GitHub Actions workflows, checked by linters nobody here wrote (issue 23).

actionlint (with ShellCheck on every `run:` script) and zizmor (offline, on the repository root:
the workflows and .github/dependabot.yml) run from their own venvs in .tools/ (made by
.ci/provision-tools.sh). Their accepted findings, each with its reason, are in
.github/accepted-findings.toml; any other finding fails, and so does an entry no finding
matches. Each linter is also shown a workflow with known faults, so a linter that stopped
looking would fail here too. And every action is pinned to a full commit SHA with its version in
a comment, listed in docs/deploy.md with where the SHA came from.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any, Final

from .support.accepted import accepted_findings, assert_only_accepted, tool_on_path

REPO: Final = Path(__file__).resolve().parents[1]
GITHUB: Final = REPO / ".github"
WORKFLOWS: Final = sorted((GITHUB / "workflows").glob("*.yml"))
ACCEPTED_FILE: Final = GITHUB / "accepted-findings.toml"
ACCEPTED: Final = accepted_findings(ACCEPTED_FILE)
DEPLOY_DOC: Final = REPO / "docs" / "deploy.md"
LINT_TIMEOUT_S: Final = 120
# `uses: owner/repo@ref # comment`, or a path in this repository (./... or $/...).
USES: Final = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<target>\S+?)(?:@(?P<ref>\S+))?(?:\s+#\s*(?P<comment>.*))?$"
)
# A workflow with faults each linter must report (the test of the test).
FAULTY_WORKFLOW: Final = """\
name: faulty
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}" $UNQUOTED
"""


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=LINT_TIMEOUT_S, check=False
    )


def actionlint_findings(repo: Path, workflows: list[Path]) -> dict[str, set[str]]:
    """actionlint's findings in `workflows` by rule kind, each with its file, line and message."""
    command = [
        tool_on_path("actionlint"),
        "-shellcheck",
        tool_on_path("shellcheck"),
        # No Python scripts in the workflows; pyflakes is not provisioned.
        "-pyflakes",
        "",
        "-format",
        "{{json .}}",
        *map(str, workflows),
    ]
    result = _run(command, repo)
    # 0: nothing found, 1: findings; anything else is actionlint failing.
    assert result.returncode in (0, 1), result.stderr
    found: dict[str, set[str]] = {}
    for finding in json.loads(result.stdout or "[]"):
        where = f"{Path(finding['filepath']).name}:{finding['line']}: {finding['message']}"
        found.setdefault(finding["kind"], set()).add(where)
    return found


def zizmor_findings(repo: Path) -> tuple[dict[str, set[str]], set[str]]:
    """zizmor's findings under `repo` by audit id, each with where; and the inputs it audited."""
    command = [
        tool_on_path("zizmor"),
        "--offline",
        # Only .github/accepted-findings.toml may accept a finding: no zizmor.yml, no
        # `# zizmor: ignore[...]` comment in a workflow.
        "--no-config",
        "--no-ignores",
        "--no-exit-codes",
        "--format",
        "json",
        ".",
    ]
    result = _run(command, repo)
    assert result.returncode == 0, result.stderr
    found: dict[str, set[str]] = {}
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    for finding in findings:
        for location in finding["locations"]:
            if location["symbolic"]["kind"] == "Primary":
                path = location["symbolic"]["key"]["Local"]["verbatim_path"]
                row = location["concrete"]["location"]["start_point"]["row"] + 1
                found.setdefault(finding["ident"], set()).add(f"{Path(path).name}:{row}")
    audited = set(re.findall(r"completed (\S+)", result.stderr))
    return found, {str(Path(name)) for name in audited}


def test_actionlint_finds_nothing_but_the_accepted() -> None:
    # A config file could silence rules outside the accepted list.
    assert not list(GITHUB.glob("actionlint.y*ml"))
    found = actionlint_findings(REPO, WORKFLOWS)
    assert_only_accepted("actionlint", found, ACCEPTED_FILE, ACCEPTED["actionlint"])


def test_zizmor_finds_nothing_but_the_accepted_in_the_workflows_and_dependabot() -> None:
    found, audited = zizmor_findings(REPO)
    expected = {".github/dependabot.yml"} | {str(w.relative_to(REPO)) for w in WORKFLOWS}
    assert expected <= audited, f"zizmor audited {sorted(audited)}"
    assert_only_accepted("zizmor", found, ACCEPTED_FILE, ACCEPTED["zizmor"])


def test_both_linters_report_a_workflow_with_known_faults(tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "faulty.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(FAULTY_WORKFLOW)
    # zizmor honours .gitignore files only inside a git repository; this one has none.
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True, timeout=30)
    # ShellCheck: the unquoted variable; actionlint itself: the untrusted title in a script.
    assert {"shellcheck", "expression"} <= set(actionlint_findings(tmp_path, [workflow]))
    found, _ = zizmor_findings(tmp_path)
    assert {"dangerous-triggers", "template-injection", "artipacked"} <= set(found)


def _pinned_actions() -> list[tuple[str, str, str]]:
    """(action, SHA, version comment) of every third-party `uses:` in the workflows."""
    pins = []
    for workflow in WORKFLOWS:
        for number, line in enumerate(workflow.read_text().splitlines(), start=1):
            match = USES.match(line)
            if match is None or match["target"].startswith(("./", "$/")):
                continue
            where = f"{workflow.name}:{number}"
            ref = match["ref"] or ""
            assert re.fullmatch(r"[0-9a-f]{40}", ref), (
                f"{where}: pin {match['target']} to a full commit SHA, not {ref!r}"
            )
            comment = match["comment"] or ""
            assert re.fullmatch(r"v\d+\.\d+\.\d+", comment), (
                f"{where}: give the SHA its release as a comment (# vX.Y.Z), not {comment!r}"
            )
            pins.append((match["target"], ref, comment))
    return pins


def test_every_action_is_pinned_to_a_commit_with_its_version_and_listed_in_the_docs() -> None:
    pins = _pinned_actions()
    assert len({action for action, _, _ in pins}) >= 5
    doc = DEPLOY_DOC.read_text()
    for action, sha, version in sorted(set(pins)):
        row = f"| `{action}` | {version} | `{sha}` |"
        assert row in doc, f"docs/deploy.md lists no {row} (and where that SHA came from)"
    # One SHA per action across the workflows, so that an update cannot miss a copy.
    shas = {action: {sha for a, sha, _ in pins if a == action} for action, _, _ in pins}
    assert all(len(found) == 1 for found in shas.values()), shas
