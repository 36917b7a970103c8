#!/usr/bin/env bash
# CI provisioning for the browser tests: Debian's Chromium, which Playwright drives (it cannot
# download its own browser builds here). Idempotent: does nothing once chromium is installed.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive

# Other provisioning scripts may be running apt at the same time: wait for its locks
# (bounded) instead of failing on the first "Could not get lock".
apt_retry() {
  local attempt
  for attempt in $(seq 1 60); do
    if apt-get -o DPkg::Lock::Timeout=60 "$@"; then
      return 0
    fi
    echo "apt-get $1 failed (attempt $attempt); retrying in 5 s" >&2
    sleep 5
  done
  return 1
}

apt_retry update -qq
# fonts-dejavu-core: readable text in the screenshots the browser tests save.
apt_retry install -y -qq --no-install-recommends chromium fonts-dejavu-core
chromium --version
