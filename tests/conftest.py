"""Fixtures: a real DynamoDB-protocol server per backend, a fresh table per test, the real app,
and a real Cognito implementation per `TODO_TEST_COGNITO` entry for the auth tests.

Set TODO_TEST_NO_SKIP=1 (CI does) to turn every skip into a failure, so that a missing
tool cannot quietly shrink the suite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from todo_service.app import create_app
from todo_service.local.moto_server import moto_server
from todo_service.sdk.client import open_client
from todo_service.settings import Settings, settings_from_env
from todo_service.store.provisioning import delete_tables, ensure_table
from todo_service.store.todos import TodoRepository

from .support.backends import running_backend, selected_backends
from .support.browser import fresh_page, launched_chromium
from .support.cognito_servers import (
    CognitoIdp,
    needed_combination,
    running_cognito,
    selected_cognito,
)

# botocore signs every request, emulators included; these never leave loopback.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
REGION = "us-east-1"
NO_SKIP = os.environ.get("TODO_TEST_NO_SKIP") == "1"
# The DynamoDB deadline of the suite's apps. The emulators stall now and then for seconds on a
# loaded 2-core machine (dynalite, a single Node.js process, deletes the tables of earlier
# tests in the background), which is not what these tests are about; the deadline itself, at
# its real values, is tested by test_faults.py.
EMULATOR_DEADLINE_S = 30.0
# The suite's apps take the switch as a deployment would (CI runs the suite a second time with
# TODO_SDK_SPEEDUPS=off); the services it starts as processes read it from the environment.
SDK_SPEEDUPS = settings_from_env(
    {"TODO_SDK_SPEEDUPS": os.environ.get("TODO_SDK_SPEEDUPS", "")}
).sdk_speedups


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if NO_SKIP and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and TODO_TEST_NO_SKIP=1 forbids skips: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the (Cognito, DynamoDB) pairs a test does not need (cognito_servers.py says which)."""
    cognitos, backends = selected_cognito(), selected_backends()
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        chosen = {} if params is None else params.params
        if "cognito_idp" in chosen and "dynamodb_endpoint" in chosen:
            pair = (chosen["cognito_idp"], chosen["dynamodb_endpoint"])
            if not needed_combination(*pair, cognitos, backends):
                drop.append(item)
                continue
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", params=selected_backends())
def dynamodb_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    """The endpoint URL of a running DynamoDB-protocol server, once per selected backend."""
    with running_backend(request.param) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session, for its Cognito user pools (and moto-only tables)."""
    with moto_server() as server:
        yield server.endpoint_url


@pytest.fixture(
    scope="session",
    params=selected_cognito(),
    ids=lambda name: "moto-cognito" if name == "moto" else name,
)
def cognito_idp(request: pytest.FixtureRequest) -> Iterator[CognitoIdp]:
    """A running Cognito implementation, once per selected one (TODO_TEST_COGNITO)."""
    with running_cognito(request.param, lambda: request.getfixturevalue("moto_endpoint")) as idp:
        yield idp


@pytest.fixture
def base_settings(dynamodb_endpoint: str) -> Settings:
    return Settings(
        table_name=f"TodoTable-{uuid.uuid4().hex[:12]}",
        endpoint_url=dynamodb_endpoint,
        region=REGION,
        host="127.0.0.1",
        dynamodb_timeout_s=EMULATOR_DEADLINE_S,
        sdk_speedups=SDK_SPEEDUPS,
    )


@pytest.fixture
async def settings(base_settings: Settings) -> AsyncIterator[Settings]:
    """Settings naming fresh, empty tables, deleted again after the test."""
    async with open_client(base_settings.client_options()) as client:
        await ensure_table(client, base_settings.table_name)
        yield base_settings
        await delete_tables(client, base_settings.table_name)


@pytest.fixture
async def repository(settings: Settings) -> AsyncIterator[TodoRepository]:
    async with open_client(settings.client_options()) as client:
        yield TodoRepository(client, settings.table_name, settings.dynamodb_timeout_s)


@pytest.fixture
async def api(settings: Settings, aiohttp_client: Any) -> TestClient[Any, Any]:
    """A test client for the real app against the fresh table."""
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    return client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium for a module's page tests (a skip without it)."""
    with launched_chromium() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; the test fails on any uncaught error in it."""
    with fresh_page(browser) as page:
        yield page
