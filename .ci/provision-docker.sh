#!/usr/bin/env bash
# CI provisioning for the container tests (testcontainers backend, compose smoke test):
# Debian's Docker engine and docker-compose, a running dockerd, and the images that
# scripts/build-images makes because Docker Hub cannot be reached here. Idempotent, and fast
# when already done: installs only what is missing, starts dockerd only if none answers, and
# builds the base image only once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
DOCKERD_LOG=/var/log/dockerd-ci.log
DOCKERD_START_TIMEOUT_S=60

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}" >&2
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: $DOCKERD_LOG)" >&2
  # Detached from this shell, so that it outlives the step; the machine has no init system.
  setsid dockerd >"$DOCKERD_LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 "$DOCKERD_START_TIMEOUT_S"); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || {
    echo "dockerd did not answer in $DOCKERD_START_TIMEOUT_S s:" >&2
    tail -30 "$DOCKERD_LOG" >&2
    exit 1
  }
fi

time ./scripts/build-images
