"""Traces over OTLP, received by a real OTLP/HTTP receiver and decoded with opentelemetry-proto.

The service runs as a process configured by OpenTelemetry's standard variables alone. A request
with a W3C `traceparent` gets a server span in that trace, a child of the caller's span, named
by its route; each DynamoDB call gets a client span below it, with its operation and table.
Whether a request is traced is the service's own draw: a caller's sampled flag neither forces
nor forbids it. With no OTEL_* variable, nothing of OpenTelemetry is even loaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest

from todo_service.local.harness import LocalServer

from .support.cli import run
from .support.otlp import OtlpReceiver, otlp_receiver
from .support.service import create_tables, fresh_table_name, running, service_env, service_process

SERVER, CLIENT = 2, 3  # OTLP's SpanKind numbers
# Export as soon as a span ends, so that the test need not wait for the 5 s default.
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "50"}


def traceparent(sampled: bool) -> tuple[str, str, str]:
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}", trace_id, span_id


@asynccontextmanager
async def traced_service(
    dynamodb_endpoint: str, ratio: str
) -> AsyncIterator[tuple[aiohttp.ClientSession, OtlpReceiver, LocalServer, str]]:
    table = fresh_table_name()
    await create_tables(dynamodb_endpoint, table)
    async with otlp_receiver() as receiver:
        env = service_env(
            dynamodb_endpoint,
            table,
            OTEL_TRACES_EXPORTER="otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint_url,
            OTEL_TRACES_SAMPLER="traceidratio",
            OTEL_TRACES_SAMPLER_ARG=ratio,
            OTEL_SERVICE_NAME="todo-service-under-test",
            **FAST_EXPORT,
        )
        async with (
            running(service_process(env)) as service,
            aiohttp.ClientSession(service.endpoint_url) as http,
        ):
            yield http, receiver, service, table


async def test_a_request_continues_the_callers_trace_with_its_dynamodb_calls_below(
    dynamodb_endpoint: str,
) -> None:
    async with traced_service(dynamodb_endpoint, "1") as (http, receiver, service, table):
        async with http.post("/todos", json={"text": "traced"}) as created:
            todo = await created.json()
        header, trace_id, caller_span = traceparent(sampled=True)
        async with http.get(f"/todos/{todo['id']}", headers={"traceparent": header}) as got:
            assert got.status == 200
        (server,) = [
            span
            for span in await receiver.spans_named("GET /todos/{id}")
            if span.trace_id == trace_id
        ]
        (client,) = [
            span
            for span in await receiver.spans_named("DynamoDB.GetItem")
            if span.trace_id == trace_id
        ]
        log = service.output()
    assert server.kind == SERVER
    assert server.parent_span_id == caller_span  # the caller's span is its parent
    assert server.attributes["http.route"] == "/todos/{id}"
    assert server.attributes["http.request.method"] == "GET"
    assert server.attributes["http.response.status_code"] == 200
    assert server.resource["service.name"] == "todo-service-under-test"
    assert client.kind == CLIENT
    assert client.parent_span_id == server.span_id
    assert client.attributes["rpc.system"] == "aws-api"
    assert client.attributes["rpc.service"] == "DynamoDB"
    assert client.attributes["rpc.method"] == "GetItem"
    assert client.attributes["db.system"] == "dynamodb"
    assert client.attributes["aws.dynamodb.table_names"] == [table]
    # The access-log line of that request carries its trace id and route.
    lines = [json.loads(line) for line in log.splitlines() if '"message":"request"' in line]
    ours = [line for line in lines if line.get("traceId") == trace_id]
    assert len(ours) == 1, lines[-3:]
    assert ours[0]["route"] == "/todos/{id}"


async def test_a_callers_sampled_flag_cannot_force_a_trace(dynamodb_endpoint: str) -> None:
    async with traced_service(dynamodb_endpoint, "0") as (http, receiver, service, _):
        for _ in range(5):
            header, _, _ = traceparent(sampled=True)
            async with http.get("/todos", headers={"traceparent": header}) as listed:
                assert listed.status == 200
        await running_stop(service)  # shutdown flushes whatever was kept
    assert receiver.spans == []


async def test_a_callers_unsampled_flag_cannot_forbid_one(dynamodb_endpoint: str) -> None:
    async with traced_service(dynamodb_endpoint, "1") as (http, receiver, _, _):
        header, trace_id, _ = traceparent(sampled=False)
        async with http.get("/todos", headers={"traceparent": header}) as listed:
            assert listed.status == 200
        spans = await receiver.spans_named("GET /todos")
    assert [span.trace_id for span in spans] == [trace_id]


async def running_stop(service: LocalServer) -> None:
    await asyncio.to_thread(service.stop)


def test_without_otel_variables_opentelemetry_is_not_even_loaded() -> None:
    probe = textwrap.dedent(
        """
        import json, os, sys
        from todo_service.app import create_app
        from todo_service.settings import settings_from_env
        create_app(settings_from_env(os.environ))
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("opentelemetry"))))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        (
            {"OTEL_TRACES_SAMPLER_ARG": "1.5", "OTEL_TRACES_SAMPLER": "traceidratio"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ],
)
def test_a_bad_otel_variable_is_one_line_naming_it(env: dict[str, str], variable: str) -> None:
    result = run("serve", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert variable in lines[0]
