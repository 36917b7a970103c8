"""HTTP handlers: parse and validate the request, call one repository method, shape the reply."""

from __future__ import annotations

import re
from typing import Final, TypeVar

import msgspec
from aiohttp import web

from todo_service.api.metrics import metrics_response
from todo_service.api.responses import JSON_CONTENT_TYPE, json_response
from todo_service.domain.errors import InvalidInput, TodoNotFound
from todo_service.domain.todo import (
    MAX_ID,
    NewTodo,
    Todo,
    TodoBody,
    TodoPatch,
    clean_text,
    parse_completed_filter,
    parse_id,
    parse_limit,
)
from todo_service.keys import CURSORS, METRICS, OPENAPI, REPOSITORY

Body = TypeVar("Body", NewTodo, TodoPatch)
# The largest request body the app reads (aiohttp's client_max_size); past it, 413.
MAX_BODY_BYTES: Final = 64 * 1024
LIST_QUERY_PARAMETERS = frozenset({"limit", "cursor", "completed"})
HEALTH_MESSAGE = "Nothing here, used for health check. Try /todos instead."
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
# Printable ASCII, as the IETF Idempotency-Key draft and Stripe use (e.g. a UUID).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")


async def _read_json(request: web.Request, kind: type[Body]) -> Body:
    if request.content_type != JSON_CONTENT_TYPE:
        raise web.HTTPUnsupportedMediaType(
            text=f"Content-Type must be {JSON_CONTENT_TYPE}, not {request.content_type!r}"
        )
    declared = request.content_length
    if declared is not None and declared > request.client_max_size:
        # Refuse on the declared length, before waiting for a body that may never come.
        raise web.HTTPRequestEntityTooLarge(max_size=request.client_max_size, actual_size=declared)
    raw = await request.read()  # raises 413 past the app's client_max_size
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"invalid body: {error}") from None
    except msgspec.DecodeError as error:
        raise InvalidInput(f"body is not valid JSON: {error}") from None
    except UnicodeDecodeError:
        # msgspec checks UTF-8 only when it builds a str, and raises Python's own error.
        raise InvalidInput("body is not valid JSON: it is not UTF-8") from None


def _todo_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    todo_id = parse_id(raw)
    if todo_id is None:
        raise TodoNotFound(f"{raw!r} (an id is a whole number from 1 to {MAX_ID})")
    return todo_id


def _expected_version(request: web.Request) -> int | None:
    """The version named by If-Match (our ETags are the todo's version), or None."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/")
    if len(tag) >= 3 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit() and len(tag) < 22:
        return int(tag[1:-1])
    raise InvalidInput(f'If-Match must be an ETag from this API such as "3", got {header!r}')


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None or IDEMPOTENCY_KEY.fullmatch(key):
        return key
    raise InvalidInput(
        f"{IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters, such as a UUID"
    )


def _todo_response(
    todo: Todo, status: int = 200, extra_headers: dict[str, str] | None = None
) -> web.Response:
    headers = {"ETag": f'"{todo.version}"', **(extra_headers or {})}
    if status == 201:
        headers["Location"] = f"/todos/{todo.id}"
    return json_response(TodoBody.of(todo), status, headers)


async def index(request: web.Request) -> web.Response:
    return json_response({"message": HEALTH_MESSAGE})


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    await request.app[REPOSITORY].ping()
    return json_response({"status": "ready"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type=JSON_CONTENT_TYPE)


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[METRICS])


async def list_todos(request: web.Request) -> web.Response:
    query = request.query
    unknown = sorted(set(query) - LIST_QUERY_PARAMETERS)
    if unknown:
        raise InvalidInput(f"unknown query parameter(s): {', '.join(unknown)}")
    limit = parse_limit(query.get("limit"))
    completed = parse_completed_filter(query.get("completed"))
    cursors = request.app[CURSORS]
    cursor = query.get("cursor")
    after_id = None if cursor is None else cursors.decode(cursor)
    page = await request.app[REPOSITORY].list(limit, after_id, completed)
    return json_response(
        {
            "todos": [TodoBody.of(todo) for todo in page.todos],
            "next": None if page.last_id is None else cursors.encode(page.last_id),
        }
    )


async def create_todo(request: web.Request) -> web.Response:
    key = _idempotency_key(request)
    body = await _read_json(request, NewTodo)
    text = clean_text(body.text)
    repository = request.app[REPOSITORY]
    if key is None:
        return _todo_response(await repository.create(text), status=201)
    created = await repository.create_once(text, key)
    # A replay answers what the first request answered: the same todo, 201 and Location.
    replayed = {REPLAYED_HEADER: "true"} if created.replayed else None
    return _todo_response(created.todo, status=201, extra_headers=replayed)


async def get_todo(request: web.Request) -> web.Response:
    return _todo_response(await request.app[REPOSITORY].get(_todo_id(request)))


async def update_todo(request: web.Request) -> web.Response:
    todo_id = _todo_id(request)
    body = await _read_json(request, TodoPatch)
    if body.text is msgspec.UNSET and body.completed is msgspec.UNSET:
        raise InvalidInput("give at least one of text and completed")
    todo = await request.app[REPOSITORY].update(
        todo_id,
        text=None if body.text is msgspec.UNSET else clean_text(body.text),
        completed=None if body.completed is msgspec.UNSET else body.completed,
        expected_version=_expected_version(request),
    )
    return _todo_response(todo)


async def toggle_todo(request: web.Request) -> web.Response:
    return _todo_response(await request.app[REPOSITORY].toggle(_todo_id(request)))


async def delete_todo(request: web.Request) -> web.Response:
    todo_id = _todo_id(request)
    await request.app[REPOSITORY].delete(todo_id, expected_version=_expected_version(request))
    return web.Response(status=204)
