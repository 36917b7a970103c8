"""The JSON bodies the API sends besides todos: errors and the health answers.

Like the todo's bodies (domain/todo.py) they are msgspec Structs, encoded by the handlers and
the error middleware and turned into the contract's schemas by api/openapi.py.
"""

from __future__ import annotations

import msgspec


class ErrorDetail(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    code: str
    message: str
    # Only on 500s: the id under which the log has the details.
    requestId: str | None = None


class ErrorBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Every error the API answers: a stable machine-readable code and a message for people."""

    error: ErrorDetail


class Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The workshop's health message."""

    message: str


class Status(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A health answer: ok (alive) or ready (the tables answer)."""

    status: str
