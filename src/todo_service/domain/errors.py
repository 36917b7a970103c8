"""Domain errors. Every layer below HTTP raises these; one middleware turns them into JSON.

Each carries the HTTP status and a stable machine-readable code, so the mapping to the API
lives with the error and not in a table somewhere else; the first line of its docstring is how
the API's contract (api/openapi.py) describes it.
"""

from __future__ import annotations


class TodoError(Exception):
    """Unexpected; the body carries a requestId that is also in the log."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(TodoError):
    """The request is malformed: its body, a query parameter or a header."""

    status = 400
    code = "invalid_request"


class InvalidCursor(InvalidInput):
    """The cursor is malformed, altered, or was issued for another table."""

    code = "invalid_cursor"


class TodoNotFound(TodoError):
    """No such todo, or the id is not a whole number from 1 to 2^53-1."""

    status = 404
    code = "not_found"

    def __init__(self, todo_id: object) -> None:
        super().__init__(f"no todo with id {todo_id}")


class PreconditionFailed(TodoError):
    """The client's If-Match version is stale: someone else wrote the todo in between."""

    status = 412
    code = "precondition_failed"


class IdempotencyKeyReused(TodoError):
    """An Idempotency-Key came back with a different body: it names another request."""

    status = 422
    code = "idempotency_key_reused"


class Conflict(TodoError):
    """The write could not be completed against concurrent ones (ids, toggles); retry."""

    status = 409
    code = "conflict"


class BackendUnavailable(TodoError):
    """DynamoDB is unreachable, too slow, throttling, or a table is missing; see Retry-After."""

    status = 503
    code = "backend_unavailable"
    # Seconds a client should wait before retrying; sent as Retry-After.
    retry_after_s = 1
