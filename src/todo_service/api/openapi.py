"""The OpenAPI 3.1 document of the whole API, served at GET /openapi.json.

It is built here, next to the code, from the same constants the code enforces (text length,
id range, page size, body limit, header names), so the contract cannot drift from the rules.
A test checks that its operations are exactly the routes the app registers, and Schemathesis
fuzzes the live service against it (status codes, headers, bodies, content types).

Every operation lists every status it can answer. Two answers have no operation to hang on:
405 (a method a path does not have; JSON, with `Allow`) and the plain-text 400 that aiohttp's
HTTP parser sends, before any of our code runs, for a request line or header over 8 KiB.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import msgspec

from todo_service import __version__
from todo_service.api.handlers import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_KEY_HEADER,
    MAX_BODY_BYTES,
    REPLAYED_HEADER,
)
from todo_service.api.middlewares import REQUEST_ID_HEADER, SAFE_REQUEST_ID
from todo_service.domain.todo import DEFAULT_PAGE_LIMIT, MAX_ID, MAX_PAGE_LIMIT, MAX_TEXT_CHARS
from todo_service.web_policy import API_SECURITY_HEADERS as SECURITY_HEADERS

OPENAPI_VERSION: Final = "3.1.0"
JSON: Final = "application/json"
_REF: Final = "#/components"
# What todo.clean_text refuses, as a regular expression class: control characters, line and
# paragraph separators. (Lone surrogates cannot be written in JSON text that parses.)
_FORBIDDEN_CHARS: Final = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
_TEXT_CHAR: Final = f"[^{_FORBIDDEN_CHARS}]"
# A todo's text: allowed characters only, at least one of them not white space.
TEXT_PATTERN: Final = f"^{_TEXT_CHAR}*[^\\s{_FORBIDDEN_CHARS}]{_TEXT_CHAR}*$"

# The 4xx/5xx responses, each with the error codes its body can carry.
_ERRORS: Final = {
    "BadRequest": ("400", ["invalid_request", "invalid_cursor"], "The request is malformed."),
    "NotFound": ("404", ["not_found"], "No such todo, or the id is not a whole number 1-2^53-1."),
    "MethodNotAllowed": ("405", ["method_not_allowed"], "The path has no such method."),
    "Conflict": ("409", ["conflict"], "No unique id could be allocated; retry."),
    "PreconditionFailed": ("412", ["precondition_failed"], "If-Match names an older version."),
    "PayloadTooLarge": ("413", ["payload_too_large"], f"The body is over {MAX_BODY_BYTES} bytes."),
    "UnsupportedMediaType": ("415", ["unsupported_media_type"], "The body is not JSON."),
    "IdempotencyKeyReused": (
        "422",
        ["idempotency_key_reused"],
        "The Idempotency-Key was used before with a different body.",
    ),
    "InternalError": ("500", ["internal_error"], "Unexpected; quote the requestId."),
    "BackendUnavailable": (
        "503",
        ["backend_unavailable"],
        "DynamoDB is unreachable, too slow, throttling, or a table is missing. Retry after "
        "Retry-After seconds.",
    ),
}


def _whole(pattern: str) -> str:
    """A Python fullmatch pattern as a JSON Schema pattern (which searches, unanchored)."""
    return f"^(?:{pattern})$"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"{_REF}/{kind}/{name}"}


def _common_headers() -> dict[str, Any]:
    headers: dict[str, Any] = {REQUEST_ID_HEADER: _ref("headers", "RequestId")}
    headers.update({name: _ref("headers", _component_name(name)) for name in SECURITY_HEADERS})
    return headers


def _component_name(header: str) -> str:
    return header.replace("-", "")


def _json_response(description: str, schema: dict[str, Any], **headers: Any) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**_common_headers(), **headers},
        "content": {JSON: {"schema": schema}},
    }


def _error_response(status: str, codes: list[str], description: str) -> dict[str, Any]:
    schema = {
        "allOf": [
            _ref("schemas", "Error"),
            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
        ]
    }
    headers: dict[str, Any] = {}
    if status == "503":
        headers["Retry-After"] = {**_ref("headers", "RetryAfter"), "required": True}
    if status == "405":
        headers["Allow"] = _ref("headers", "Allow")
    return _json_response(description, schema, **headers)


def _responses(ok: dict[str, Any], *errors: str) -> dict[str, Any]:
    """The operation's answers: its successes, the named errors, and always a 500."""
    answers = dict(ok)
    for name in (*errors, "InternalError"):
        answers[_ERRORS[name][0]] = _ref("responses", name)
    return answers


def _todo_answer(description: str, *, created: bool = False) -> dict[str, Any]:
    headers: dict[str, Any] = {"ETag": {**_ref("headers", "ETag"), "required": True}}
    if created:
        headers["Location"] = {**_ref("headers", "Location"), "required": True}
        headers[REPLAYED_HEADER] = _ref("headers", "IdempotentReplayed")
    return _json_response(description, _ref("schemas", "Todo"), **headers)


def _json_body(schema_name: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref("schemas", schema_name)}}}


def _schemas() -> dict[str, Any]:
    timestamp = {
        "type": "string",
        "format": "date-time",
        "description": "ISO-8601 UTC with milliseconds, e.g. 2026-11-27T03:25:52.123Z",
    }
    text = {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_TEXT_CHARS,
        "pattern": TEXT_PATTERN,
    }
    return {
        "TodoId": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "Todo": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "text", "completed", "createdAt", "updatedAt"],
            "properties": {
                "id": _ref("schemas", "TodoId"),
                "text": text,
                "completed": {"type": "boolean"},
                "createdAt": timestamp,
                "updatedAt": timestamp,
            },
        },
        "TodoPage": {
            "type": "object",
            "additionalProperties": False,
            "required": ["todos", "next"],
            "properties": {
                "todos": {"type": "array", "items": _ref("schemas", "Todo")},
                "next": {
                    "type": ["string", "null"],
                    "description": "The cursor of the next page; null at the end.",
                },
            },
        },
        "NewTodo": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {
                "text": {
                    **text,
                    "description": f"Trimmed; then 1-{MAX_TEXT_CHARS} characters, "
                    "no control characters.",
                }
            },
        },
        "TodoPatch": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {"text": text, "completed": {"type": "boolean"}},
        },
        "Message": {
            "type": "object",
            "additionalProperties": False,
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "Status": {
            "type": "object",
            "additionalProperties": False,
            "required": ["status"],
            "properties": {"status": {"type": "string"}},
        },
        "Error": {
            "type": "object",
            "additionalProperties": False,
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "requestId": {"type": "string"},
                    },
                }
            },
        },
    }


def _headers() -> dict[str, Any]:
    headers: dict[str, Any] = {
        "RequestId": {
            "description": "The client's X-Request-ID if it was safe, else a new one.",
            "required": True,
            "schema": {"type": "string", "pattern": _whole(SAFE_REQUEST_ID.pattern)},
        },
        "ETag": {
            "description": "The todo's version; send it back in If-Match.",
            "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
        },
        "Location": {"schema": {"type": "string", "pattern": "^/todos/[1-9][0-9]*$"}},
        "IdempotentReplayed": {
            "description": "true when an earlier request with this Idempotency-Key "
            "created the todo.",
            "schema": {"type": "string", "enum": ["true"]},
        },
        "RetryAfter": {"schema": {"type": "string", "pattern": "^[0-9]+$"}},
        "Allow": {"schema": {"type": "string"}},
    }
    for name, value in SECURITY_HEADERS.items():
        headers[_component_name(name)] = {
            "required": True,
            "schema": {"type": "string", "const": value},
        }
    return headers


def _parameters() -> dict[str, Any]:
    return {
        "TodoId": {
            "name": "id",
            "in": "path",
            "required": True,
            "description": "Anything but a whole number 1 to 2^53-1 is a 404.",
            "schema": _ref("schemas", "TodoId"),
        },
        "IfMatch": {
            "name": "If-Match",
            "in": "header",
            "required": False,
            "description": 'An ETag from this API, e.g. "3": write only if still that version.',
            "schema": {"type": "string", "pattern": '^(W/)?"[0-9]{1,19}"$'},
        },
        "IdempotencyKey": {
            "name": IDEMPOTENCY_KEY_HEADER,
            "in": "header",
            "required": False,
            "description": "A retried POST with the same key and body answers the same todo "
            "and creates nothing more (for 24 hours).",
            "schema": {"type": "string", "pattern": _whole(IDEMPOTENCY_KEY.pattern)},
        },
        "RequestId": {
            "name": REQUEST_ID_HEADER,
            "in": "header",
            "required": False,
            "description": f"Echoed if it matches {SAFE_REQUEST_ID.pattern}; otherwise replaced.",
            "schema": {"type": "string"},
        },
    }


def _paths() -> dict[str, Any]:
    todo_id = _ref("parameters", "TodoId")
    if_match = _ref("parameters", "IfMatch")
    request_id = _ref("parameters", "RequestId")
    return {
        "/": {
            "get": {
                "operationId": "index",
                "summary": "The workshop's health message",
                "parameters": [request_id],
                "responses": _responses(
                    {"200": _json_response("The message", _ref("schemas", "Message"))}
                ),
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers",
                "responses": _responses(
                    {"200": _json_response("Alive", _ref("schemas", "Status"))}
                ),
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness: the tables answer and are ACTIVE",
                "responses": _responses(
                    {"200": _json_response("Ready", _ref("schemas", "Status"))},
                    "BackendUnavailable",
                ),
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "responses": _responses(
                    {
                        "200": {
                            "description": "Prometheus text exposition format 0.0.4",
                            "headers": _common_headers(),
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    }
                ),
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": _responses({"200": _json_response("OpenAPI 3.1", {"type": "object"})}),
            }
        },
        "/todos": {
            "get": {
                "operationId": "listTodos",
                "summary": "A page of todos",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_PAGE_LIMIT,
                            "default": DEFAULT_PAGE_LIMIT,
                        },
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "description": "The `next` of the previous page, unchanged.",
                        "schema": {"type": "string", "minLength": 1},
                    },
                    {"name": "completed", "in": "query", "schema": {"type": "boolean"}},
                    request_id,
                ],
                "responses": _responses(
                    {"200": _json_response("A page", _ref("schemas", "TodoPage"))},
                    "BadRequest",
                    "BackendUnavailable",
                ),
            },
            "post": {
                "operationId": "createTodo",
                "summary": "Create a todo",
                "parameters": [_ref("parameters", "IdempotencyKey"), request_id],
                "requestBody": _json_body("NewTodo"),
                "responses": _responses(
                    {"201": _todo_answer("Created (or replayed)", created=True)},
                    "BadRequest",
                    "Conflict",
                    "PayloadTooLarge",
                    "UnsupportedMediaType",
                    "IdempotencyKeyReused",
                    "BackendUnavailable",
                ),
            },
        },
        "/todos/{id}": {
            "parameters": [todo_id],
            "get": {
                "operationId": "getTodo",
                "summary": "One todo",
                "responses": _responses(
                    {"200": _todo_answer("The todo")}, "NotFound", "BackendUnavailable"
                ),
            },
            "patch": {
                "operationId": "updateTodo",
                "summary": "Change text and/or completed",
                "parameters": [if_match],
                "requestBody": _json_body("TodoPatch"),
                "responses": _responses(
                    {"200": _todo_answer("The changed todo")},
                    "BadRequest",
                    "NotFound",
                    "PreconditionFailed",
                    "PayloadTooLarge",
                    "UnsupportedMediaType",
                    "BackendUnavailable",
                ),
            },
            "delete": {
                "operationId": "deleteTodo",
                "summary": "Delete a todo",
                "parameters": [if_match],
                "responses": _responses(
                    {"204": {"description": "Deleted", "headers": _common_headers()}},
                    "BadRequest",
                    "NotFound",
                    "PreconditionFailed",
                    "BackendUnavailable",
                ),
            },
        },
        "/todos/{id}/toggle": {
            "parameters": [todo_id],
            "post": {
                "operationId": "toggleTodo",
                "summary": "Flip completed (atomic)",
                "responses": _responses(
                    {"200": _todo_answer("The toggled todo")}, "NotFound", "BackendUnavailable"
                ),
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "todo-service",
            "version": __version__,
            "description": "A todo-list API on Amazon DynamoDB. Every error is JSON "
            '{"error": {"code", "message"}}. Any path answers 405 with Allow for a method '
            "it does not have.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": {name: _error_response(*spec) for name, spec in _ERRORS.items()},
            "headers": _headers(),
            "parameters": _parameters(),
        },
    }


@functools.cache
def openapi_json() -> bytes:
    return msgspec.json.encode(openapi_document())
