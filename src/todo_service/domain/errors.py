"""Domain errors. Every layer below HTTP raises these; one middleware turns them into JSON.

Each carries the HTTP status and a stable machine-readable code, so the mapping to the API
lives with the error and not in a table somewhere else.
"""

from __future__ import annotations


class TodoError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(TodoError):
    status = 400
    code = "invalid_request"


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"


class TodoNotFound(TodoError):
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
    status = 409
    code = "conflict"


class BackendUnavailable(TodoError):
    """DynamoDB did not answer in time, refused the connection, or throttled us."""

    status = 503
    code = "backend_unavailable"
    # Seconds a client should wait before retrying; sent as Retry-After.
    retry_after_s = 1
