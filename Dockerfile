# The todo-service image: `docker build -t todo-service .`, then `docker run -p 8080:8080 ...`
# (see the README's "Containers" section). Two stages: the builder makes a virtual environment
# holding the service and its run-time dependencies only, then drops pip from it; the runtime
# stage copies that venv onto a clean base, so no installer, build cache or dev tool ships.
#
# Both stages start from BASE_IMAGE, so the venv's interpreter path is the same in both. By
# default that is the python-base stage, whose FROM line names the image itself: Dependabot
# updates an image named in a FROM line, not one in a build argument (dependabot-core#2057).
# `--build-arg BASE_IMAGE=<image>` names another: any image with python3 (3.11+) and its venv
# module. CI here, which cannot pull from Docker Hub, passes a Debian bookworm base it builds
# itself (scripts/build-images; docs/containers.md).
ARG BASE_IMAGE=python-base

FROM python:3.12-slim AS python-base

FROM ${BASE_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/venv
WORKDIR /build
# Dependencies first, from pyproject.toml alone, so that a change under src/ reuses this layer:
# a stub package and README satisfy setuptools, and the stub is uninstalled again.
COPY pyproject.toml ./
RUN mkdir -p src/todo_service && touch src/todo_service/__init__.py README.md \
    && /opt/venv/bin/pip install --quiet . \
    && /opt/venv/bin/pip uninstall --quiet --yes todo-service \
    && rm -rf src build README.md
COPY README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install --quiet --no-deps . \
    && /opt/venv/bin/python -m pip uninstall --quiet --yes pip setuptools

FROM ${BASE_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    TODO_HOST=0.0.0.0 TODO_PORT=8080
# A fixed uid, so that `docker exec ... id -u` and volume ownership are predictable.
RUN groupadd --system --gid 10001 todo \
    && useradd --system --uid 10001 --gid todo --no-create-home --home-dir /app todo
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Relative paths that the commands default to: data/populate-dynamodb.json for `seed`, web/
# for `todo-service web`. Owned by root and read-only to the service user.
COPY data ./data
COPY web ./web
USER todo
EXPOSE 8080
# The API's liveness route, with the interpreter the image already has (no curl in it).
# `todo-service web` listens elsewhere; docker-compose.yml gives that service its own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TODO_PORT', '8080') + '/healthz', timeout=2)"]
ENTRYPOINT ["todo-service"]
CMD ["serve"]
