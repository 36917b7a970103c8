"""The OpenAPI document and /metrics: the contract matches the routes, the numbers are there."""

from __future__ import annotations

import re
import sys
from typing import Any

from aiohttp.test_utils import TestClient

from todo_service.api.auth import PUBLIC_PATHS
from todo_service.api.openapi import openapi_document
from todo_service.app import create_app
from todo_service.domain.errors import InvalidInput
from todo_service.domain.todo import TEXT_PATTERN, clean_text
from todo_service.settings import Settings
from todo_service.store.table import TABLE_OPERATIONS

from .support.contract import HTTP_METHODS, documented_operations

Client = TestClient[Any, Any]


def registered_routes() -> set[tuple[str, str]]:
    app = create_app(Settings())
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        # aiohttp adds HEAD beside every GET; HTTP defines it as GET without the body.
        if route.method != "HEAD" and route.resource is not None
    }


def test_every_registered_route_is_documented_and_every_documented_operation_exists() -> None:
    assert registered_routes() == documented_operations()


def test_every_operation_documents_500_and_its_errors_as_json_with_a_request_id() -> None:
    document = openapi_document()
    responses = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            statuses = set(operation["responses"])
            assert "500" in statuses, (method, path)
            assert "default" not in statuses, "a default answer would make any status valid"
            for status, answer in operation["responses"].items():
                if status >= "400":
                    # A component, or (errors of one status together) the answer itself.
                    if "$ref" in answer:
                        answer = responses[answer["$ref"].rsplit("/", 1)[-1]]
                    assert "application/json" in answer["content"]
                    assert "X-Request-ID" in answer["headers"]
    assert "Retry-After" in responses["BackendUnavailable"]["headers"]
    assert "Allow" in responses["MethodNotAllowed"]["headers"]


async def test_openapi_json_is_served_and_is_the_document(api: Client) -> None:
    response = await api.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    served = await response.json()
    assert served == openapi_document()
    assert served["openapi"].startswith("3.1")


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format, or 0 if absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return 0.0


async def test_metrics_count_requests_by_route_template_and_dynamodb_calls_by_operation(
    api: Client,
) -> None:
    todo = await (await api.post("/todos", json={"text": "measure me"})).json()
    await api.get(f"/todos/{todo['id']}")
    await api.get("/todos/424242")
    await api.get("/no/such/path")
    response = await api.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert (
        metric(text, "todo_http_requests_total", method="GET", route="/todos/{id}", status="200")
        == 1
    )
    assert (
        metric(text, "todo_http_requests_total", method="GET", route="/todos/{id}", status="404")
        == 1
    )
    assert (
        metric(text, "todo_http_requests_total", method="GET", route="unmatched", status="404") == 1
    )
    assert (
        metric(
            text,
            "todo_http_request_duration_seconds_count",
            method="POST",
            route="/todos",
            status="201",
        )
        == 1
    )
    assert metric(text, "todo_dynamodb_calls_total", operation="PutItem") == 1
    assert metric(text, "todo_dynamodb_calls_total", operation="GetItem") == 2
    assert metric(text, "todo_dynamodb_call_duration_seconds_count", operation="GetItem") == 2
    assert "todo_dynamodb_errors_total" in text
    assert f"/todos/{todo['id']}" not in text, "raw paths would make unbounded label values"


async def test_dynamodb_errors_are_counted_by_operation_and_code(
    settings: Settings, aiohttp_client: Any
) -> None:
    api = await aiohttp_client(create_app(settings))
    await api.delete("/todos/424242")  # a failed condition: ConditionalCheckFailedException
    text = await (await api.get("/metrics")).text()
    assert (
        metric(
            text,
            "todo_dynamodb_errors_total",
            operation="DeleteItem",
            code="ConditionalCheckFailedException",
        )
        == 1
    )


async def test_the_service_calls_only_the_dynamodb_operations_it_declares(api: Client) -> None:
    """SERVICE_OPERATIONS is what the deployed task role grants: nothing else may be called.

    With TODO_AUTH=none the owner index is never queried (test_ownership covers cognito)."""
    todo = await (await api.post("/todos", json={"text": "a"})).json()
    await api.post("/todos", json={"text": "b"}, headers={"Idempotency-Key": "k"})
    await api.post("/todos", json={"text": "b"}, headers={"Idempotency-Key": "k"})
    path = f"/todos/{todo['id']}"
    for method, url, kwargs in [
        ("GET", "/readyz", {}),
        ("GET", "/todos", {"params": {"limit": "1"}}),
        ("GET", "/todos", {"params": {"completed": "true"}}),
        ("GET", path, {}),
        ("PATCH", path, {"json": {"text": "c"}, "headers": {"If-Match": '"9"'}}),
        ("PATCH", path, {"json": {"completed": True}}),
        ("POST", f"{path}/toggle", {}),
        ("DELETE", path, {"headers": {"If-Match": '"9"'}}),
        ("DELETE", path, {}),
    ]:
        assert (await api.request(method, url, **kwargs)).status < 500
    text = await (await api.get("/metrics")).text()
    called = set(re.findall(r'todo_dynamodb_calls_total\{operation="(\w+)"\}', text))
    assert called == TABLE_OPERATIONS


def test_the_documented_text_pattern_accepts_exactly_what_the_code_accepts() -> None:
    """Every code point, in the middle of a text: the contract and clean_text agree."""
    pattern = re.compile(TEXT_PATTERN)
    disagreements = []
    for code_point in range(sys.maxunicode + 1):
        if 0xD800 <= code_point <= 0xDFFF:
            continue  # lone surrogates never reach clean_text: the JSON decoder refuses them
        text = f"a{chr(code_point)}b"
        try:
            clean_text(text)
            accepted = True
        except InvalidInput:
            accepted = False
        if accepted != bool(pattern.search(text)):
            disagreements.append(f"U+{code_point:04X}")
    assert not disagreements, disagreements[:20]
    assert not pattern.search(" \u3000\t ")
    assert pattern.search(" x ")


def test_cognito_mode_documents_the_bearer_scheme_and_a_401_on_every_private_route() -> None:
    document = openapi_document(auth=True)
    unauthorized = {"$ref": "#/components/responses/Unauthorized"}
    private = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            if path in PUBLIC_PATHS:
                assert "security" not in operation, (method, path)
                assert "401" not in operation["responses"], (method, path)
            else:
                private += 1
                assert operation["security"] == [{"cognito": []}], (method, path)
                assert operation["responses"]["401"] == unauthorized, (method, path)
    assert private == 6  # list, create, get, update, toggle, delete
    components = document["components"]
    assert components["securitySchemes"]["cognito"]["scheme"] == "bearer"
    answer = components["responses"]["Unauthorized"]
    assert answer["headers"]["WWW-Authenticate"]["required"] is True
    # TODO_AUTH=none documents no scheme at all.
    plain = openapi_document()
    assert "securitySchemes" not in plain["components"]
    assert "Unauthorized" not in plain["components"]["responses"]
