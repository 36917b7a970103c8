"""The compose stack for real: `up` on free host ports, a smoke test through the API and the web
origin as a browser would see them, and `down -v` at the end, even on failure.

The compose files come from TODO_TEST_COMPOSE_FILES (comma-separated). Unset, they are
docker-compose.yml alone, or with docker-compose.ci.yml on a machine where scripts/build-images
has built the stand-in image: that script exists for machines that cannot pull from Docker Hub
(CI here), and there the stock images cannot be had.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest

from todo_service.local.harness import LOOPBACK, free_port

from .support.smoke import run_smoke

pytestmark = pytest.mark.docker

ROOT: Final = Path(__file__).resolve().parents[1]
SEED_FILE: Final = ROOT / "data" / "populate-dynamodb.json"
# Building on a cold layer cache runs pip for several images on two busy cores.
UP_TIMEOUT_S: Final = 600.0
READY_TIMEOUT_S: Final = 120.0
# The image's HEALTHCHECK runs every 10 s; three periods leave room for a slow first check.
HEALTHY_TIMEOUT_S: Final = 45.0
DOWN_TIMEOUT_S: Final = 120.0
HTTP_TIMEOUT_S: Final = 10.0
OTHER_ORIGIN: Final = "http://evil.example"
# Built by scripts/build-images and named in docker-compose.ci.yml.
STANDIN_IMAGE: Final = "local/dynamodb-standin:latest"


@dataclass(frozen=True)
class Stack:
    command: list[str]
    env: dict[str, str]
    api_url: str
    web_url: str
    # The origin the browser sees the page on, which the API must allow (CORS).
    web_origin: str

    def compose(self, *args: str, timeout_s: float = 60.0) -> str:
        result = subprocess.run(
            [*self.command, *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def container_id(self, service: str) -> str:
        return self.compose("ps", "-q", service).strip()


@dataclass(frozen=True)
class Response:
    status: int
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str, url: str, body: object = None, headers: dict[str, str] | None = None
) -> Response:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def compose_command() -> list[str]:
    if shutil.which("docker") is None:
        pytest.skip("the compose smoke test needs Docker (the docker command)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        pytest.skip("the compose smoke test needs a running Docker engine (docker info fails)")
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose") is not None:
        return ["docker-compose"]
    pytest.skip("the compose smoke test needs `docker compose` or docker-compose")


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


def wait_until_healthy(container: str) -> None:
    """Wait for the container's HEALTHCHECK to report healthy; fail if it reports otherwise."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while (status := docker("inspect", "-f", "{{.State.Health.Status}}", container)) != "healthy":
        assert status == "starting", f"container {container}: HEALTHCHECK says {status}"
        assert time.monotonic() < deadline, f"container {container}: not healthy in time"
        time.sleep(1)


def default_compose_files() -> str:
    standin = subprocess.run(
        ["docker", "image", "inspect", STANDIN_IMAGE], capture_output=True, check=False
    )
    if standin.returncode == 0:
        return "docker-compose.yml,docker-compose.ci.yml"
    return "docker-compose.yml"


def wait_until_ready(api_url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            if http("GET", f"{api_url}/readyz").status == 200:
                return
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError(f"the API at {api_url} was not ready in {READY_TIMEOUT_S} s")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    command = compose_command()
    files = os.environ.get("TODO_TEST_COMPOSE_FILES") or default_compose_files()
    api_port, web_port, dynamodb_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "TODO_API_PORT": str(api_port),
        "TODO_WEB_PORT": str(web_port),
        "TODO_DYNAMODB_PORT": str(dynamodb_port),
    }
    project = f"todo-smoke-{uuid.uuid4().hex[:8]}"
    file_args = [arg for name in files.split(",") for arg in ("-f", name.strip())]
    running = Stack(
        command=[*command, *file_args, "-p", project],
        env=env,
        api_url=f"http://{LOOPBACK}:{api_port}",
        web_url=f"http://{LOOPBACK}:{web_port}",
        web_origin=f"http://localhost:{web_port}",
    )
    try:
        # --build: test this checkout, not an image left over from an older one (with a warm
        # layer cache this costs seconds).
        running.compose("up", "-d", "--build", timeout_s=UP_TIMEOUT_S)
        wait_until_ready(running.api_url)
        yield running
    except BaseException:
        # Shown with the failure: what the services said, often the only clue.
        print(
            subprocess.run(
                [*running.command, "logs", "--no-color", "--tail", "60"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            ).stdout
        )
        raise
    finally:
        running.compose("down", "-v", "--remove-orphans", timeout_s=DOWN_TIMEOUT_S)


def seeded_texts() -> set[str]:
    requests = json.loads(SEED_FILE.read_text())["TodoTable"]
    return {request["PutRequest"]["Item"]["text"]["S"] for request in requests}


def test_seeded_todos_are_listed_through_the_api(stack: Stack) -> None:
    response = http("GET", f"{stack.api_url}/todos?limit=100")
    assert response.status == 200
    assert {todo["text"] for todo in response.json()} >= seeded_texts()


def test_create_toggle_delete_round_trip_through_the_api(stack: Stack) -> None:
    created = http("POST", f"{stack.api_url}/todos", {"text": "Smoke-test the compose stack"})
    assert created.status == 201
    todo = created.json()
    assert todo["completed"] is False
    url = f"{stack.api_url}/todos/{todo['id']}"

    toggled = http("POST", f"{url}/toggle")
    assert toggled.status == 200
    assert toggled.json()["completed"] is True
    assert http("GET", url).json()["completed"] is True

    assert http("DELETE", url).status == 204
    assert http("GET", url).status == 404


def test_cors_preflight_is_allowed_from_the_web_origin_only(stack: Stack) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = http(
        "OPTIONS", f"{stack.api_url}/todos", headers={"Origin": stack.web_origin, **preflight}
    )
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == stack.web_origin

    refused = http(
        "OPTIONS", f"{stack.api_url}/todos", headers={"Origin": OTHER_ORIGIN, **preflight}
    )
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_api_container_is_healthy_and_runs_as_non_root(stack: Stack) -> None:
    container = stack.container_id("api")
    wait_until_healthy(container)
    assert docker("exec", container, "id", "-u") != "0"


def test_web_origin_serves_the_page_with_config_pointing_at_the_api(stack: Stack) -> None:
    page = http("GET", f"{stack.web_url}/app/")
    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/html")

    config = http("GET", f"{stack.web_url}/app/config.js")
    assert config.status == 200
    # window.TODO_CONFIG = {...}; the browser calls the API on its published host port.
    match = re.search(r"window\.TODO_CONFIG\s*=\s*(\{.*\})\s*;", config.body.decode(), re.S)
    assert match is not None, config.body
    api_port = stack.env["TODO_API_PORT"]
    assert json.loads(match.group(1))["apiBaseUrl"] == f"http://localhost:{api_port}"

    wait_until_healthy(stack.container_id("web"))


def test_smoke_script_passes_against_the_compose_stack(stack: Stack) -> None:
    # scripts/smoke as a user runs it after `docker compose up`: from the page's URL, finding
    # the API on its own origin through config.js (tests/test_smoke.py: ./scripts/dev).
    result = run_smoke(f"{stack.web_url}/app/")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    api = f"http://localhost:{stack.env['TODO_API_PORT']}"
    assert f"smoke: API      {api}, sign-in: none" in lines
    assert lines[-1] == "smoke: passed   8 checks, 0 skipped"
