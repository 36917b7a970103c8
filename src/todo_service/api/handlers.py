"""HTTP handlers: parse and validate the request, call one repository method, shape the reply."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web
from yarl import URL

from todo_service.api.auth import request_owner
from todo_service.api.bodies import Message, Status
from todo_service.api.metrics import METRICS, metrics_response
from todo_service.api.operations import operation
from todo_service.api.requests import (
    expected_version,
    idempotency_key,
    read_json,
    todo_id_of,
)
from todo_service.api.responses import JSON_CONTENT_TYPE, json_response
from todo_service.domain.cursor import CursorCodec
from todo_service.domain.errors import (
    BackendUnavailable,
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    PreconditionFailed,
    TodoNotFound,
)
from todo_service.domain.todo import (
    NewTodo,
    Todo,
    TodoBody,
    TodoPatch,
    clean_text,
    parse_completed_filter,
    parse_limit,
)
from todo_service.store.todos import TodoRepository

LIST_QUERY_PARAMETERS = frozenset({"limit", "cursor", "completed"})
HEALTH_MESSAGE = "Nothing here, used for health check. Try /todos instead."
REPLAYED_HEADER: Final = "Idempotent-Replayed"

# What the handlers read of the app, set up by app.create_app: the repository (for the
# client's life, app.dynamodb_ctx), the cursor codec and the contract, encoded once.
REPOSITORY: Final = web.AppKey("repository", TodoRepository)
CURSORS: Final = web.AppKey("cursors", CursorCodec)
OPENAPI: Final = web.AppKey("openapi", bytes)


def _todo_response(
    todo: Todo, status: int = 200, extra_headers: dict[str, str] | None = None
) -> web.Response:
    headers = {"ETag": f'"{todo.version}"', **(extra_headers or {})}
    if status == 201:
        headers["Location"] = f"/todos/{todo.id}"
    return json_response(TodoBody.of(todo), status, headers)


@operation(
    operation_id="index",
    summary="The workshop's health message",
    answer=Message,
    parameters=("RequestId",),
)
async def index(request: web.Request) -> web.Response:
    return json_response(Message(HEALTH_MESSAGE))


@operation(operation_id="healthz", summary="Liveness: the process answers", answer=Status)
async def healthz(request: web.Request) -> web.Response:
    return json_response(Status("ok"))


@operation(
    operation_id="readyz",
    summary="Readiness: both tables answer and are ACTIVE",
    answer=Status,
    errors=(BackendUnavailable,),
)
async def readyz(request: web.Request) -> web.Response:
    await request.app[REPOSITORY].ping()
    return json_response(Status("ready"))


@operation(operation_id="openapi", summary="This document", answer=dict[str, Any])
async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type=JSON_CONTENT_TYPE)


@operation(
    operation_id="metrics",
    summary="Prometheus metrics",
    answer=str,
    content_type="text/plain",
    description="Prometheus text exposition format 0.0.4",
)
async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[METRICS])


@operation(
    operation_id="listTodos",
    summary="A page of todos",
    answer=list[TodoBody],
    parameters=("Limit", "Cursor", "Completed", "RequestId"),
    headers=("Link",),
    errors=(InvalidInput, BackendUnavailable),
)
async def list_todos(request: web.Request) -> web.Response:
    query = request.query
    unknown = sorted(set(query) - LIST_QUERY_PARAMETERS)
    if unknown:
        raise InvalidInput(f"unknown query parameter(s): {', '.join(unknown)}")
    limit = parse_limit(query.get("limit"))
    completed = parse_completed_filter(query.get("completed"))
    owner = request_owner(request)
    cursors = request.app[CURSORS]
    cursor = query.get("cursor")
    # A cursor is bound to its list: another user's cursor is refused (400).
    scope = owner or ""
    after_id = None if cursor is None else cursors.decode(cursor, scope)
    page = await request.app[REPOSITORY].list(limit, after_id, completed, owner)
    # The workshop's page reads a bare array; paging goes in the Link header (RFC 8288).
    headers = None
    if page.last_id is not None:
        headers = {"Link": next_link(limit, completed, cursors.encode(page.last_id, scope))}
    return json_response([TodoBody.of(todo) for todo in page.todos], headers=headers)


def next_link(limit: int, completed: bool | None, cursor: str) -> str:
    """The RFC 8288 link to the next page, keeping the request's filter and limit.

    Relative to the API's origin: behind a load balancer or CloudFront the service cannot know
    the origin its clients used, and a relative reference resolves against the URL the client
    fetched (RFC 8288 section 3.2), e.g. `new URL(link, response.url)` in a page.
    """
    query = {"limit": str(limit)}
    if completed is not None:
        query["completed"] = "true" if completed else "false"
    query["cursor"] = cursor
    return f'<{URL.build(path="/todos", query=query)}>; rel="next"'


@operation(
    operation_id="createTodo",
    summary="Create a todo",
    status=201,
    answer=TodoBody,
    description="Created (or replayed)",
    request=NewTodo,
    parameters=("IdempotencyKey", "RequestId"),
    headers=("ETag", "Location", "IdempotentReplayed"),
    required_headers=("ETag", "Location"),
    errors=(InvalidInput, Conflict, 413, 415, IdempotencyKeyReused, BackendUnavailable),
)
async def create_todo(request: web.Request) -> web.Response:
    key = idempotency_key(request)
    body = await read_json(request, NewTodo)
    text = clean_text(body.text)
    repository = request.app[REPOSITORY]
    owner = request_owner(request)
    if key is None:
        return _todo_response(await repository.create(text, owner), status=201)
    created = await repository.create_once(text, key, owner)
    # A replay answers what the first request answered: the same todo, 201 and Location.
    replayed = {REPLAYED_HEADER: "true"} if created.replayed else None
    return _todo_response(created.todo, status=201, extra_headers=replayed)


@operation(
    operation_id="getTodo",
    summary="One todo",
    answer=TodoBody,
    headers=("ETag",),
    required_headers=("ETag",),
    errors=(TodoNotFound, BackendUnavailable),
)
async def get_todo(request: web.Request) -> web.Response:
    todo = await request.app[REPOSITORY].get(todo_id_of(request), request_owner(request))
    return _todo_response(todo)


@operation(
    operation_id="updateTodo",
    summary="Change text and/or completed",
    answer=TodoBody,
    request=TodoPatch,
    parameters=("IfMatch",),
    headers=("ETag",),
    required_headers=("ETag",),
    errors=(InvalidInput, TodoNotFound, PreconditionFailed, 413, 415, BackendUnavailable),
)
async def update_todo(request: web.Request) -> web.Response:
    todo_id = todo_id_of(request)
    body = await read_json(request, TodoPatch)
    if body.text is msgspec.UNSET and body.completed is msgspec.UNSET:
        raise InvalidInput("give at least one of text and completed")
    todo = await request.app[REPOSITORY].update(
        todo_id,
        text=None if body.text is msgspec.UNSET else clean_text(body.text),
        completed=None if body.completed is msgspec.UNSET else body.completed,
        expected_version=expected_version(request),
        owner=request_owner(request),
    )
    return _todo_response(todo)


@operation(
    operation_id="toggleTodo",
    summary="Flip completed (atomic)",
    answer=TodoBody,
    headers=("ETag",),
    required_headers=("ETag",),
    errors=(TodoNotFound, Conflict, BackendUnavailable),
)
async def toggle_todo(request: web.Request) -> web.Response:
    todo = await request.app[REPOSITORY].toggle(todo_id_of(request), request_owner(request))
    return _todo_response(todo)


@operation(
    operation_id="deleteTodo",
    summary="Delete a todo",
    status=204,
    description="Deleted",
    parameters=("IfMatch",),
    errors=(InvalidInput, TodoNotFound, PreconditionFailed, BackendUnavailable),
)
async def delete_todo(request: web.Request) -> web.Response:
    todo_id = todo_id_of(request)
    await request.app[REPOSITORY].delete(
        todo_id, expected_version=expected_version(request), owner=request_owner(request)
    )
    return web.Response(status=204)
