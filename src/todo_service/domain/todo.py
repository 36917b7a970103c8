"""The todo itself: its JSON shape, the bodies clients send, and the rules for its text."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Final

import msgspec

from todo_service.domain.errors import InvalidInput
from todo_service.domain.limits import DEFAULT_PAGE_LIMIT, MAX_ID, MAX_PAGE_LIMIT, MAX_TEXT_CHARS

__all__ = ["DEFAULT_PAGE_LIMIT", "MAX_ID", "MAX_PAGE_LIMIT", "MAX_TEXT_CHARS"]

# What clean_text refuses, as a regular expression class: control characters, line and
# paragraph separators. (Lone surrogates cannot be written in JSON text that parses.)
_FORBIDDEN_CHARS: Final = "\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029"
_TEXT_CHAR: Final = f"[^{_FORBIDDEN_CHARS}]"
# A todo's text as the contract states it: allowed characters only, one of them not space.
TEXT_PATTERN: Final = f"^{_TEXT_CHAR}*[^\\s{_FORBIDDEN_CHARS}]{_TEXT_CHAR}*$"

# The JSON Schema of these types is the API's contract (api/openapi.py). Text limits are
# stated in the schema only (`extra_json_schema`), not enforced by msgspec: clean_text trims
# first and then checks, so a padded text longer than the limit is still valid.
Text = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"minLength": 1, "maxLength": MAX_TEXT_CHARS, "pattern": TEXT_PATTERN}
    ),
]
TodoId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID, description="Whole number 1 to 2^53-1.")]
Timestamp = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"format": "date-time"},
        description="ISO-8601 UTC with milliseconds, e.g. 2026-11-27T03:25:52.123Z",
    ),
]


class Todo(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    text: str
    completed: bool
    created_at: str
    updated_at: str
    # Bumped by every write; it is the ETag, and the guard for conditional writes.
    version: int


class TodoBody(msgspec.Struct, rename="camel", frozen=True, forbid_unknown_fields=True):
    """A todo as the API sends it: the workshop's id, text and completed, and timestamps."""

    id: TodoId
    text: Text
    completed: bool
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, todo: Todo) -> TodoBody:
        return cls(todo.id, todo.text, todo.completed, todo.created_at, todo.updated_at)


class NewTodo(msgspec.Struct, forbid_unknown_fields=True):
    """A todo to create. Its text is trimmed, then must be 1 to MAX_TEXT_CHARS characters."""

    text: Text


class TodoPatch(msgspec.Struct, forbid_unknown_fields=True):
    """The fields to change, at least one of them."""

    text: Text | msgspec.UnsetType = msgspec.UNSET
    completed: bool | msgspec.UnsetType = msgspec.UNSET


# Cc: control characters, and Zl/Zp: line and paragraph separators (a todo is one line of
# text); Cs: a lone UTF-16 surrogate from a "\ud800" escape, which is not valid Unicode and
# which DynamoDB would refuse.
_FORBIDDEN_CATEGORIES: Final = {
    "Cc": "control character",
    "Zl": "line separator",
    "Zp": "paragraph separator",
    "Cs": "unpaired surrogate",
}


def now_iso() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. 2026-11-27T03:25:52.123Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean_text(raw: str) -> str:
    """Trim a todo's text and enforce its rules; raise InvalidInput naming what is wrong."""
    text = raw.strip()
    if not text:
        raise InvalidInput("text must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"text must be at most {MAX_TEXT_CHARS} characters after trimming (got {len(text)})"
        )
    for position, char in enumerate(text):
        kind = _FORBIDDEN_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            raise InvalidInput(f"text must not contain a {kind} (U+{ord(char):04X} at {position})")
    return text


def parse_id(raw: str) -> int | None:
    """A todo id from a URL: a positive decimal integer up to MAX_ID, with no sign or padding.

    Returns None for anything else, which the API answers as an unknown todo (404).
    """
    if not raw.isascii() or not raw.isdigit() or raw.startswith("0") or len(raw) > 16:
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE_LIMIT}, got {raw!r}")
    return int(raw)


def parse_completed_filter(raw: str | None) -> bool | None:
    if raw is None:
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise InvalidInput(f"completed must be true or false, got {raw!r}")
