"""scripts/smoke against ./scripts/dev in both auth modes (issue 23); against the compose stack
in tests/test_compose.py, and against the deployed site by deploy.yml.

Each run starts from the page's URL alone, as a deployer's does: the script finds the API in
the page's config.js, and these tests read only what it prints and how it exits.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Final

import pytest

from todo_service.local.harness import free_port

from .support.cognito import LocalPool, sign_up
from .support.devstack import DevStack, page_server, running_dev
from .support.smoke import run_smoke

PASSWORD: Final = "Smoke-test-pass-1"


@pytest.fixture(scope="module")
def open_dev() -> Iterator[DevStack]:
    """`./scripts/dev --no-seed`: no sign-in, an empty table."""
    with running_dev("--no-seed") as dev:
        yield dev


@pytest.fixture(scope="module")
def sign_in_dev() -> Iterator[DevStack]:
    """`TODO_AUTH=cognito ./scripts/dev`: a user pool on the embedded server."""
    with running_dev(env={"TODO_AUTH": "cognito"}) as dev:
        yield dev


def _pool(dev: DevStack) -> LocalPool:
    assert dev.pool is not None, dev.startup_output
    return dev.pool


def _user(dev: DevStack, name: str) -> dict[str, str]:
    """A confirmed user of dev's pool, as the smoke test's environment names it."""
    asyncio.run(sign_up(_pool(dev), name, PASSWORD))
    return {"TODO_SMOKE_USERNAME": name, "TODO_SMOKE_PASSWORD": PASSWORD}


def _todos(api_url: str) -> list[object]:
    with urllib.request.urlopen(f"{api_url}/todos", timeout=10) as response:
        todos: list[object] = json.loads(response.read())
    return todos


def test_smoke_passes_against_dev_without_sign_in_and_leaves_no_todo(open_dev: DevStack) -> None:
    result = run_smoke(open_dev.page_url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"smoke: API      {open_dev.api_url}, sign-in: none" in lines
    for check in ("GET /healthz", "GET /openapi.json", "POST /todos creates a todo"):
        assert f"smoke: ok       {check}" in lines
    assert "smoke: ok       and it is gone (404)" in lines
    assert lines[-1] == "smoke: passed   8 checks, 0 skipped"
    assert _todos(open_dev.api_url) == []


def test_smoke_with_sign_in_checks_the_401_and_says_it_skips_without_credentials(
    sign_in_dev: DevStack,
) -> None:
    result = run_smoke(sign_in_dev.page_url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "smoke: ok       GET /todos without a token is 401" in lines
    assert (
        "smoke: SKIPPED  sign in, create, get and delete: set TODO_SMOKE_USERNAME and "
        "TODO_SMOKE_PASSWORD to a user of the pool"
    ) in lines
    assert lines[-1] == "smoke: passed   5 checks, 1 skipped"


def test_smoke_signs_in_and_round_trips_the_users_own_todo(sign_in_dev: DevStack) -> None:
    user = _user(sign_in_dev, "smoke-ada")
    result = run_smoke(sign_in_dev.page_url, user)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert (
        f"smoke: API      {sign_in_dev.api_url}, sign-in: {_pool(sign_in_dev).endpoint_url}"
        in lines
    )
    assert "smoke: ok       sign in as smoke-ada" in lines
    assert "smoke: ok       and it is gone (404)" in lines
    assert lines[-1] == "smoke: passed   10 checks, 0 skipped"
    assert PASSWORD not in result.stdout + result.stderr


def test_smoke_fails_naming_the_sign_in_on_a_wrong_password(sign_in_dev: DevStack) -> None:
    user = _user(sign_in_dev, "smoke-bob") | {"TODO_SMOKE_PASSWORD": "Not-the-password-1"}
    result = run_smoke(sign_in_dev.page_url, user)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "smoke: FAILED   sign in as smoke-bob: "
        "Cognito refused smoke-bob: 400 NotAuthorizedException"
    ), result.stderr
    assert "POST /todos" not in result.stdout


def test_smoke_fails_naming_healthz_when_the_page_points_at_no_api() -> None:
    dead_api = f"http://127.0.0.1:{free_port()}"
    page = page_server(dead_api)
    with page:
        result = run_smoke(f"{page.endpoint_url}/app/")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"smoke: FAILED   GET /healthz: GET {dead_api}/healthz: no answer"
    )
    assert "smoke: ok       config.js names the API" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "error"),
    [
        (["ftp://example.com/"], {}, "URL must be http(s)://host/..., not 'ftp://example.com/'"),
        (["http://127.0.0.1:9/", "--wait", "-1"], {}, "--wait must be 0 to 3600 seconds, not -1.0"),
        (
            ["http://127.0.0.1:9/"],
            {"TODO_SMOKE_USERNAME": "ada"},
            "TODO_SMOKE_PASSWORD is not set: set both of TODO_SMOKE_USERNAME, "
            "TODO_SMOKE_PASSWORD or neither",
        ),
    ],
)
def test_smoke_refuses_a_bad_argument_or_setting_in_one_line(
    args: list[str], env: dict[str, str], error: str
) -> None:
    result = run_smoke(args[0], env, *args[1:])
    assert result.returncode == 2
    assert result.stderr == f"scripts/smoke: {error}\n"
