"""TODO_SDK_SPEEDUPS: the speed-ups where they were verified, the plain aioboto3 client elsewhere.

The client is opened for real and makes a real call to a DynamoDB-protocol server; what is
checked is what the client is made of (its signer, its parser, its endpoint resolver) and that,
switched off, nothing of the speed-ups is even imported.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import aiohttp
import botocore.auth
import pytest
from aiobotocore.parsers import AioResponseParserFactory

from todo_service.local.harness import LOOPBACK, LocalServer
from todo_service.sdk import switch
from todo_service.sdk.client import ClientOptions, open_client
from todo_service.sdk.endpoints import CachedEndpoints
from todo_service.sdk.response_parser import ItemParserFactory
from todo_service.sdk.signer import SIGNATURE_VERSION
from todo_service.settings import SettingsError, settings_from_env

from .support.cli import run
from .support.service import create_tables, fresh_table_name, running, service_env

REGION = "us-east-1"
SPEEDUP_MODULES = ("signer", "endpoints", "response_parser", "speedups")


def make_up(client: Any) -> dict[str, Any]:
    """What the client is made of, as far as the speed-ups go."""
    return {
        "signer": client.meta.config.signature_version,
        # The endpoint makes each answer's parser with its session's factory.
        "parsers": type(client._endpoint._response_parser_factory),
        "endpoints": type(client._ruleset_resolver),
    }


@pytest.fixture
def unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed SDK as if the guard tests had never passed on it."""
    monkeypatch.setattr(switch, "VERIFIED_VERSIONS", frozenset())
    switch._warn_unverified.cache_clear()


async def answers(client: Any) -> None:
    """A real call to the server: it answers that the table does not exist."""
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        await client.describe_table(TableName="NoSuchTable")


@pytest.mark.speedups
async def test_on_gives_the_client_every_speedup(dynamodb_endpoint: str) -> None:
    options = ClientOptions(region=REGION, endpoint_url=dynamodb_endpoint, speedups="on")
    async with open_client(options) as client:
        await answers(client)
        assert make_up(client) == {
            "signer": SIGNATURE_VERSION,
            "parsers": ItemParserFactory,
            "endpoints": CachedEndpoints,
        }


@pytest.mark.speedups
async def test_auto_on_the_verified_sdk_is_on(dynamodb_endpoint: str) -> None:
    assert switch.verified(switch.installed_versions()), "this SDK is not in VERIFIED_VERSIONS"
    async with open_client(ClientOptions(region=REGION, endpoint_url=dynamodb_endpoint)) as client:
        assert make_up(client)["parsers"] is ItemParserFactory


@pytest.mark.usefixtures("unverified")
async def test_auto_on_an_unverified_sdk_is_the_plain_client_and_says_so_once(
    dynamodb_endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    options = ClientOptions(region=REGION, endpoint_url=dynamodb_endpoint, speedups="auto")
    with caplog.at_level(logging.WARNING, logger=switch.__name__):
        for _ in range(2):
            async with open_client(options) as client:
                await answers(client)
                assert make_up(client)["parsers"] is AioResponseParserFactory
                assert make_up(client)["signer"] == "v4"
    warnings = [r.getMessage() for r in caplog.records if r.name == switch.__name__]
    aiobotocore, botocore_version = switch.installed_versions()
    assert len(warnings) == 1, warnings
    assert f"botocore {botocore_version}" in warnings[0]
    assert f"aiobotocore {aiobotocore}" in warnings[0]


@pytest.mark.usefixtures("unverified")
async def test_on_on_an_unverified_sdk_refuses_to_open_a_client() -> None:
    with pytest.raises(switch.UnverifiedSdk, match="not verified on aiobotocore"):
        async with open_client(ClientOptions(region=REGION, speedups="on")):
            pass


@pytest.mark.usefixtures("unverified")
def test_on_on_an_unverified_sdk_is_a_start_up_error_in_one_line() -> None:
    with pytest.raises(SettingsError) as refused:
        settings_from_env({"TODO_SDK_SPEEDUPS": "on"})
    assert "TODO_SDK_SPEEDUPS=on" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_bad_switch_value_is_one_line_naming_it_and_exit_2() -> None:
    result = run("serve", TODO_SDK_SPEEDUPS="fast")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "TODO_SDK_SPEEDUPS='fast'" in lines[0]
    assert "auto, on, off" in lines[0]


def test_switch_values_are_read_in_any_case() -> None:
    assert settings_from_env({"TODO_SDK_SPEEDUPS": "OFF"}).sdk_speedups == "off"
    assert settings_from_env({}).sdk_speedups == "auto"


def test_off_never_imports_or_registers_the_speedups(dynamodb_endpoint: str) -> None:
    """In a fresh interpreter, so that nothing another test imported can count."""
    probe = textwrap.dedent(
        f"""
        import asyncio, json, sys
        import botocore.auth
        from todo_service.sdk.client import ClientOptions, open_client

        async def main():
            options = ClientOptions(region="{REGION}", endpoint_url="{dynamodb_endpoint}",
                                    speedups="off")
            async with open_client(options) as client:
                try:
                    await client.describe_table(TableName="NoSuchTable")
                except client.exceptions.ResourceNotFoundException:
                    pass
                return {{
                    "modules": sorted(m for m in sys.modules if m.startswith("todo_service.sdk")),
                    "signers": sorted(botocore.auth.AUTH_TYPE_MAPS),
                    "signer": client.meta.config.signature_version,
                    "parsers": type(client._endpoint._response_parser_factory).__name__,
                    "endpoints": type(client._ruleset_resolver).__name__,
                }}

        print(json.dumps(asyncio.run(main())))
        """
    )
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    seen = json.loads(result.stdout)
    assert not {f"todo_service.sdk.{name}" for name in SPEEDUP_MODULES} & set(seen["modules"])
    assert SIGNATURE_VERSION not in seen["signers"]
    assert seen["signer"] == "v4"
    assert seen["parsers"] == "AioResponseParserFactory"
    assert seen["endpoints"] == "AioEndpointRulesetResolver"


def test_verified_versions_name_released_versions() -> None:
    for aiobotocore, botocore_version in switch.VERIFIED_VERSIONS:
        for version in (aiobotocore, botocore_version):
            assert all(part.isdigit() for part in version.split(".")), version
    assert botocore.auth.AUTH_TYPE_MAPS  # botocore's table of signers is where sdk/ expects it


UNVERIFIED_PYTHON_VARIABLE = "TODO_TEST_SDK_UNVERIFIED_PYTHON"


def unverified_python() -> Path:
    """An interpreter with the service on a botocore the guard tests did not pass on
    (.ci/provision-tools.sh makes one: .tools/sdk-unverified)."""
    raw = os.environ.get(UNVERIFIED_PYTHON_VARIABLE)
    default = Path(__file__).resolve().parents[1] / ".tools" / "sdk-unverified" / "bin" / "python"
    python = Path(raw) if raw else default
    if not python.is_file():
        pytest.skip(
            f"no interpreter with an unverified botocore at {python}: run "
            f".ci/provision-tools.sh, or set {UNVERIFIED_PYTHON_VARIABLE}"
        )
    return python


def sdk_versions(python: Path) -> list[str]:
    """The (aiobotocore, botocore) versions `python` has."""
    probe = "from todo_service.sdk import switch; print(*switch.installed_versions())"
    found = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=True)
    return found.stdout.split()


async def test_auto_on_a_real_unverified_botocore_serves_plain_and_says_so(
    dynamodb_endpoint: str,
) -> None:
    python = unverified_python()
    versions = await asyncio.to_thread(sdk_versions, python)
    assert not switch.verified((versions[0], versions[1])), versions
    table = fresh_table_name()
    await create_tables(dynamodb_endpoint, table)
    env = service_env(dynamodb_endpoint, table)
    env.pop("TODO_SDK_SPEEDUPS", None)  # the default: auto
    server = LocalServer(
        lambda port: [str(python), "-m", "todo_service", "serve", "--host", LOOPBACK,
                      "--port", str(port)],
        "todo-service on an unverified botocore",
        env=env,
    )  # fmt: skip
    async with running(server), aiohttp.ClientSession(server.endpoint_url) as http:
        async with http.post("/todos", json={"text": "plain client"}) as created:
            assert created.status == 201, await created.text()
            todo = await created.json()
        async with http.get(f"/todos/{todo['id']}") as got:
            assert got.status == 200
            assert (await got.json())["text"] == "plain client"
        log = server.output()
    warnings = [json.loads(line) for line in log.splitlines() if "SDK speed-ups off" in line]
    assert len(warnings) == 1, log[-2000:]
    assert warnings[0]["level"] == "WARNING"
    assert f"botocore {versions[1]}" in warnings[0]["message"]
