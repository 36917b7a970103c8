"""The CDK app synthesizes with aws-cdk-lib alone: none of the service's dependencies (issue 9).

The app reads the table definition and the page's policy from `todo_service` modules that
import only the standard library (tests/test_layers.py holds them to it). This runs the real
synthesis in `.tools/cdk-only`, a venv with aws-cdk-lib, constructs and cdk-nag only, with
`todo_service` importable from src/ by PYTHONPATH alone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

import pytest

from .cli import REPO, cdk_synth, offline_environment
from .test_cdk_synth_cli import assert_is_the_todo_stack

CDK_ONLY_PYTHON: Final = REPO / ".tools" / "cdk-only" / "bin" / "python"
SERVICE_ONLY_MODULES: Final = ("aiohttp", "aioboto3", "msgspec")
SOURCE_ONLY: Final = {"PYTHONPATH": str(REPO / "src")}


@pytest.fixture
def cdk_only_python() -> Path:
    if not CDK_ONLY_PYTHON.is_file():
        pytest.skip("no .tools/cdk-only venv: run `bash .ci/provision-tools.sh`")
    return CDK_ONLY_PYTHON


def test_app_synthesizes_with_only_the_cdk_and_src_on_the_path(
    cdk_only_python: Path, tmp_path: Path
) -> None:
    # The venv must be a fair test: the CDK and todo_service (from src/) are importable, the
    # service's own dependencies are not.
    probe = (
        "import importlib.util, sys; "
        "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))"
    )
    found = subprocess.run(
        [str(cdk_only_python), "-c", probe, *SERVICE_ONLY_MODULES, "aws_cdk", "todo_service"],
        env=offline_environment(SOURCE_ONLY),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert found.stdout.split() == ["aws_cdk", "todo_service"]

    outdir = tmp_path / "cdk.out"
    seconds = cdk_synth(cdk_only_python, outdir, SOURCE_ONLY)
    print(f"cdk synth (cdk-only venv) took {seconds:.1f} s")
    assert_is_the_todo_stack(outdir)
