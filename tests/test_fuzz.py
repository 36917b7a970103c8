"""Schemathesis fuzzes the live service against its own OpenAPI document.

The service runs as `todo-service serve` (a child process) on the embedded moto backend,
as `todo-service dev` would run it, on free ports. Schemathesis (pinned in pyproject.toml)
runs every operation through its coverage, fuzzing and stateful phases (the stateful one
follows the links it infers, e.g. from POST's Location to GET/PATCH/DELETE of that todo),
with positive and negative data, a fixed seed, at most MAX_EXAMPLES cases per operation and
a hard time bound. Every response must be: no 5xx, a status the document declares, the
declared content type, the declared headers (X-Request-ID, security headers, ETag, ...) and
a body matching the declared schema. Zero failures.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from todo_service.local.moto_server import moto_server

from .support.contract import documented_operations
from .support.service import create_tables, fresh_table_name, service_env, service_process

MAX_EXAMPLES = 50
SEED = 20261127
RUN_TIMEOUT_S = 240
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def schemathesis_command() -> str:
    found = Path(sys.executable).parent / "schemathesis"
    if found.exists():
        return str(found)
    command = shutil.which("schemathesis")
    if command is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    return command


def test_schemathesis_finds_no_failure_in_any_operation(tmp_path: Path) -> None:
    command = schemathesis_command()
    table = fresh_table_name()
    with moto_server() as backend:
        asyncio.run(create_tables(backend.endpoint_url, table))
        with service_process(service_env(backend.endpoint_url, table)) as api:
            result = subprocess.run(
                [
                    command,
                    "run",
                    f"{api.endpoint_url}/openapi.json",
                    "--checks",
                    ",".join(CHECKS),
                    "--max-examples",
                    str(MAX_EXAMPLES),
                    "--seed",
                    str(SEED),
                    "--workers",
                    "1",
                    "--request-timeout",
                    "10",
                    "--generation-database",
                    "none",
                    "--no-color",
                ],
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
                cwd=tmp_path,  # Schemathesis keeps a cache in ./.schemathesis
                check=False,
            )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20_000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert counts is not None, output[-5000:]
    generated, passed = int(counts.group(1)), int(counts.group(2))
    assert generated == passed
    operations = re.search(r"Tested: (\d+)", output)
    assert operations is not None
    # Schemathesis leaves out the URL it loaded the document from (test_contract covers it).
    fuzzed = len(documented_operations() - {("GET", "/openapi.json")})
    assert int(operations.group(1)) == fuzzed, "an operation was not fuzzed"
    assert generated > 200, f"only {generated} cases: the fuzzer barely ran"
    print(f"schemathesis: {generated} cases over {operations.group(1)} operations, 0 failures")
