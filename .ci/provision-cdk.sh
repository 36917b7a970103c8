#!/usr/bin/env bash
# CI provisioning for the CDK tests (tests/cdk): aws-cdk-lib runs in Node.js through jsii and
# needs Node.js 20 or newer; the aws-cdk CLI comes from package.json (npm ci, in scripts/test).
# Idempotent: does nothing when a new enough node is on PATH.
set -euo pipefail

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 20 ]; then
  apt-get update -qq
  apt-get install -y -qq nodejs
fi
if [ "$(node_major)" -lt 20 ]; then
  echo "the CDK tests need Node.js 20 or newer; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi
