"""Domain errors. Every layer below HTTP raises these; one middleware turns them into JSON.

Each carries the HTTP status and a stable machine-readable code, so the mapping to the API
lives with the error and not in a table somewhere else; the first line of its docstring is how
the API's contract (api/openapi.py) describes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class TodoError(Exception):
    """Unexpected; the body carries a requestId that is also in the log."""

    status = 500
    code = "internal_error"
    # Seconds a client should wait before retrying, sent as Retry-After; None: no header.
    retry_after_s: int | None = None

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Headers the answer carries besides the error body (RateLimit on a 429, say).
        self.headers: Mapping[str, str] = MappingProxyType(dict(headers or {}))


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


class QuotaExceeded(TodoError):
    """The user has as many todos as one user may keep; delete some to make room."""

    status = 409
    code = "quota_exceeded"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"you have {limit} todos, the most one user may keep: delete some to make room"
        )
        self.limit = limit


class RateLimited(TodoError):
    """Too many requests from this user; see Retry-After and the RateLimit headers."""

    status = 429
    code = "rate_limited"
    retry_after_s = 1  # the class's; each refusal says its own

    def __init__(self, message: str, retry_after_s: int, headers: Mapping[str, str]) -> None:
        super().__init__(message, headers)
        self.retry_after_s = retry_after_s


class BackendUnavailable(TodoError):
    """DynamoDB is unreachable, too slow, throttling, or a table is missing; see Retry-After."""

    status = 503
    code = "backend_unavailable"
    retry_after_s = 1


class Overloaded(TodoError):
    """The service is already working on as many requests as it can; see Retry-After."""

    status = 503
    code = "overloaded"
    retry_after_s = 1


def error_classes() -> list[type[TodoError]]:
    """TodoError and every error below it, parents first."""
    found, pending = [], [TodoError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
