"""Reading a request: its JSON body, the todo id in its path, its If-Match and Idempotency-Key.

Each either returns a valid value or raises the specific error the API answers (400, 404,
413, 415), so that handlers only ever see good input.
"""

from __future__ import annotations

import json
import re
from typing import Final, TypeVar

import msgspec
from aiohttp import web

from todo_service.api.responses import JSON_CONTENT_TYPE
from todo_service.domain.errors import InvalidInput, TodoNotFound
from todo_service.domain.todo import MAX_ID, NewTodo, TodoPatch, parse_id

Body = TypeVar("Body", NewTodo, TodoPatch)
# The largest request body the app reads (aiohttp's client_max_size); past it, 413.
MAX_BODY_BYTES: Final = 64 * 1024
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
# Printable ASCII, as the IETF Idempotency-Key draft and Stripe use (e.g. a UUID).
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")
# Where a JSON member name ends: a closing quote, optional white space, a colon.
_MEMBER_NAME_END = re.compile(rb'"[ \t\r\n]*:')


async def read_json(request: web.Request, kind: type[Body]) -> Body:
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
        body = msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"invalid body: {error}") from None
    except msgspec.DecodeError as error:
        raise InvalidInput(f"body is not valid JSON: {error}") from None
    except UnicodeDecodeError:
        # msgspec checks UTF-8 only when it builds a str, and raises Python's own error.
        raise InvalidInput("body is not valid JSON: it is not UTF-8") from None
    refuse_duplicate_members(raw)
    return body


class _DuplicateMember(Exception):
    pass


def _unique_members(pairs: list[tuple[str, object]]) -> dict[str, object]:
    members: dict[str, object] = {}
    for name, value in pairs:
        if name in members:
            raise _DuplicateMember(name)
        members[name] = value
    return members


def refuse_duplicate_members(raw: bytes) -> None:
    """Refuse an object with two members of one name (RFC 7493, I-JSON).

    Parsers disagree on which one wins (msgspec keeps the last), so a proxy and this service
    could read two different requests. msgspec cannot tell; the standard library's parser
    can, and it runs only when two members are possible: every member name is a string
    followed by a colon, so a body with fewer than two `"` + colon places (the usual create,
    `{"text": "Buy milk"}`, has one) has fewer than two members. The body has already decoded
    into its Struct, so its values are scalars: no deep nesting for the second parser.
    """
    if raw.count(b":") < 2:  # the cheapest test first: no second colon, no second member
        return
    first = _MEMBER_NAME_END.search(raw)
    if first is None or _MEMBER_NAME_END.search(raw, first.end()) is None:
        return
    try:
        json.loads(raw, object_pairs_hook=_unique_members)
    except _DuplicateMember as duplicate:
        raise InvalidInput(
            f"invalid body: the member {duplicate.args[0]!r} appears twice (RFC 7493)"
        ) from None


def todo_id_of(request: web.Request) -> int:
    raw = request.match_info["id"]
    todo_id = parse_id(raw)
    if todo_id is None:
        raise TodoNotFound(f"{raw!r} (an id is a whole number from 1 to {MAX_ID})")
    return todo_id


def expected_version(request: web.Request) -> int | None:
    """The version named by If-Match (our ETags are the todo's version), or None."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/")
    if len(tag) >= 3 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit() and len(tag) < 22:
        return int(tag[1:-1])
    raise InvalidInput(f'If-Match must be an ETag from this API such as "3", got {header!r}')


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is None or IDEMPOTENCY_KEY.fullmatch(key):
        return key
    raise InvalidInput(
        f"{IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters, such as a UUID"
    )
