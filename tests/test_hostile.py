"""Hostile input, table-driven: each request gets its specific 4xx and changes nothing.

The requests go over a raw socket, so that they can be what no well-behaved client sends:
invalid UTF-8, a Content-Length that lies, an 8 KiB header. After every case the table must
hold exactly what it held before (same todos, same versions), and no answer may carry a
traceback.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any
from urllib.parse import quote

from aiohttp.test_utils import TestClient

from todo_service.api.handlers import MAX_BODY_BYTES
from todo_service.domain.cursor import CursorCodec
from todo_service.domain.todo import MAX_ID, MAX_TEXT_CHARS
from todo_service.settings import Settings

from .support.api import list_all, next_cursor

Client = TestClient[Any, Any]
RAW_TIMEOUT_S = 10.0
JSON_TYPE = {"Content-Type": "application/json"}
# Stands for the id of a todo that exists, filled in by the test.
TODO = "{todo}"
# The error code when aiohttp's own HTTP parser answers, before any of our code runs: it
# sends a plain-text 400 and closes the connection (see README, "Hostile input").
PARSER = "<aiohttp parser>"


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    method: str
    target: str
    status: int
    code: str
    body: bytes | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


async def raw_request(host: str, port: int, case: Case, target: str) -> Answer:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        headers = {"Host": f"{host}:{port}", "Connection": "close", **case.headers}
        framed = "Content-Length" in headers or "Transfer-Encoding" in headers
        if case.body is not None and not framed:
            headers["Content-Length"] = str(len(case.body))
        head = f"{case.method} {target} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        writer.write(head.encode("latin-1") + b"\r\n" + (case.body or b""))
        await writer.drain()
        async with asyncio.timeout(RAW_TIMEOUT_S):
            return await _read_answer(reader)
    finally:
        writer.close()


async def _read_answer(reader: asyncio.StreamReader) -> Answer:
    """Read one response by its Content-Length: the server need not close the connection
    (after a refused body it may linger, draining what the client still sends)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.rstrip("\r\n").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length")
    body = await (reader.readexactly(int(length)) if length is not None else reader.read())
    return Answer(int(status_line.split()[1]), headers, body)


def _body(text: str) -> bytes:
    return b'{"text": "' + text.encode() + b'"}'


def _bodies(method: str, target: str, cases: list[tuple[str, bytes, int, str]]) -> list[Case]:
    return [
        Case(f"{method} {target} {name}", method, target, status, code, body, dict(JSON_TYPE))
        for name, body, status, code in cases
    ]


BAD = "invalid_request"
CURSOR = "invalid_cursor"

COMMON_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty body", b"", 400, BAD),
    ("lone brace", b"{", 400, BAD),
    ("truncated object", b'{"text": "a"', 400, BAD),
    ("truncated string", b'{"text": "a', 400, BAD),
    ("trailing comma", b'{"text": "a",}', 400, BAD),
    ("single quotes", b"{'text': 'a'}", 400, BAD),
    ("bare word", b"nul", 400, BAD),
    ("trailing garbage", b'{"text": "a"} x', 400, BAD),
    ("trailing NUL", b'{"text": "a"}\x00', 400, BAD),
    ("byte order mark", b'\xef\xbb\xbf{"text": "a"}', 400, BAD),
    ("invalid UTF-8", b'{"text": "\xe2\x82"}', 400, BAD),
    ("overlong UTF-8", b'{"text": "\xc0\xaf"}', 400, BAD),
    ("UTF-16 body", '{"text": "a"}'.encode("utf-16"), 400, BAD),
    ("top-level array", b"[]", 400, BAD),
    ("top-level string", b'"text"', 400, BAD),
    ("top-level number", b"1", 400, BAD),
    ("top-level null", b"null", 400, BAD),
    ("text is number", b'{"text": 5}', 400, BAD),
    ("text is array", b'{"text": ["a"]}', 400, BAD),
    ("text is object", b'{"text": {"a": 1}}', 400, BAD),
    ("text is bool", b'{"text": true}', 400, BAD),
    ("text is huge number", b'{"text": 1e999}', 400, BAD),
    ("text is huge integer", b'{"text": ' + b"9" * 400 + b"}", 400, BAD),
    ("text is NaN", b'{"text": NaN}', 400, BAD),
    ("text is Infinity", b'{"text": Infinity}', 400, BAD),
    ("text is -Infinity", b'{"text": -Infinity}', 400, BAD),
    ("deeply nested array", b'{"text": ' + b"[" * 20000 + b"]" * 20000 + b"}", 400, BAD),
    ("deeply nested objects", b'{"a": ' * 5000 + b"1" + b"}" * 5000, 400, BAD),
    ("deep top level", b"[" * 30000 + b"]" * 30000, 400, BAD),
    ("unknown field", b'{"text": "a", "owner": "root"}', 400, BAD),
    ("id smuggled", b'{"text": "a", "id": 1}', 400, BAD),
    ("version smuggled", b'{"text": "a", "version": 99}', 400, BAD),
    ("__proto__", b'{"text": "a", "__proto__": {"x": 1}}', 400, BAD),
    ("empty text", _body(""), 400, BAD),
    ("blank text", _body("   "), 400, BAD),
    ("unicode blank text", _body("\u3000\u00a0\u2003"), 400, BAD),
    ("NUL in text", _body("a\\u0000b"), 400, BAD),
    ("unit separator", _body("a\\u001fb"), 400, BAD),
    ("DEL", _body("a\\u007fb"), 400, BAD),
    ("C1 NEL", _body("a\u0085b"), 400, BAD),
    ("escaped newline", _body("a\\nb"), 400, BAD),
    ("raw tab", b'{"text": "a\tb"}', 400, BAD),
    ("line separator", _body("a\u2028b"), 400, BAD),
    ("paragraph separator", _body("a\u2029b"), 400, BAD),
    ("lone high surrogate", _body("a\\ud800b"), 400, BAD),
    ("lone low surrogate", _body("a\\udc00b"), 400, BAD),
    ("text one too long", _body("x" * (MAX_TEXT_CHARS + 1)), 400, BAD),
    ("astral text too long", _body("\U0001f600" * (MAX_TEXT_CHARS + 1)), 400, BAD),
    ("combining marks too long", _body("e\u0301" * (MAX_TEXT_CHARS // 2 + 1)), 400, BAD),
    ("body over limit", _body("x" * MAX_BODY_BYTES), 413, "payload_too_large"),
]

PATCH_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty object", b"{}", 400, BAD),
    ("completed is string", b'{"completed": "true"}', 400, BAD),
    ("completed is 0", b'{"completed": 0}', 400, BAD),
    ("completed is null", b'{"completed": null}', 400, BAD),
    ("completed is huge", b'{"completed": 1e400}', 400, BAD),
    ("text is null", b'{"text": null}', 400, BAD),
]

BAD_IDS = [
    "-1",
    "0",
    "-0",
    "1.5",
    "1.0",
    "1e3",
    "1E3",
    str(MAX_ID + 1),
    str(2**64),
    "9" * 400,
    "+1",
    "01",
    "0x10",
    "1_000",
    "NaN",
    "Infinity",
    "abc",
    "%20",
    "1%00",
    quote("١٢"),  # Arabic-Indic digits: str.isdigit() says yes, an id says no
    quote("\uff11"),  # FULLWIDTH DIGIT ONE
]


def id_cases() -> list[Case]:
    cases = []
    for raw in BAD_IDS:
        for method, suffix, body in (
            ("GET", "", None),
            ("PATCH", "", b'{"completed": true}'),
            ("DELETE", "", None),
            ("POST", "/toggle", None),
        ):
            headers = dict(JSON_TYPE) if body else {}
            cases.append(
                Case(
                    f"{method} id {raw!r}",
                    method,
                    f"/todos/{raw}{suffix}",
                    404,
                    "not_found",
                    body,
                    headers,
                )
            )
    return cases


def query_cases(foreign_cursors: dict[str, str]) -> list[Case]:
    queries = [
        ("limit=0", BAD),
        ("limit=-1", BAD),
        ("limit=1001", BAD),
        ("limit=1.5", BAD),
        ("limit=1e2", BAD),
        ("limit=", BAD),
        ("limit=" + quote("٣"), BAD),
        ("limit=" + "9" * 40, BAD),
        ("limit=%205", BAD),
        ("completed=True", BAD),
        ("completed=1", BAD),
        ("completed=", BAD),
        ("sort=id", BAD),
        ("cursor=", CURSOR),
        ("cursor=not-a-cursor", CURSOR),
        ("cursor=" + "A" * 5000, CURSOR),
        ("cursor=" + quote("é"), CURSOR),
        ("cursor=====", CURSOR),
        ("cursor=" + "A" * 32, CURSOR),
        *((f"cursor={cursor}", CURSOR) for cursor in foreign_cursors.values()),
    ]
    return [
        Case(f"GET /todos?{query[:40]}", "GET", f"/todos?{query}", 400, code)
        for query, code in queries
    ]


def header_cases() -> list[Case]:
    cases = []
    for tag in ("abc", '"-1"', '"1.5"', '"' + "9" * 25 + '"', 'W/"x"', '"1'):
        cases.append(
            Case(
                f"PATCH If-Match {tag}",
                "PATCH",
                f"/todos/{TODO}",
                400,
                BAD,
                b'{"completed": true}',
                {**JSON_TYPE, "If-Match": tag},
            )
        )
        cases.append(
            Case(
                f"DELETE If-Match {tag}",
                "DELETE",
                f"/todos/{TODO}",
                400,
                BAD,
                None,
                {"If-Match": tag},
            )
        )
    cases += [
        Case(
            "Idempotency-Key too long",
            "POST",
            "/todos",
            400,
            BAD,
            _body("a"),
            {**JSON_TYPE, "Idempotency-Key": "k" * 256},
        ),
        Case(
            "Idempotency-Key not ASCII",
            "POST",
            "/todos",
            400,
            BAD,
            _body("a"),
            {**JSON_TYPE, "Idempotency-Key": "caf\u00e9"},
        ),
        Case("no Content-Type", "POST", "/todos", 415, "unsupported_media_type", _body("a")),
        Case(
            "text/plain",
            "POST",
            "/todos",
            415,
            "unsupported_media_type",
            _body("a"),
            {"Content-Type": "text/plain"},
        ),
        Case(
            "form",
            "POST",
            "/todos",
            415,
            "unsupported_media_type",
            b"text=a",
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        Case(
            "json-patch",
            "PATCH",
            f"/todos/{TODO}",
            415,
            "unsupported_media_type",
            b'[{"op": "remove", "path": "/text"}]',
            {"Content-Type": "application/json-patch+json"},
        ),
        Case(
            "Content-Length lies (1 MB declared)",
            "POST",
            "/todos",
            413,
            "payload_too_large",
            _body("a"),
            {**JSON_TYPE, "Content-Length": str(1024 * 1024)},
        ),
        Case(
            "chunked body over limit",
            "POST",
            "/todos",
            413,
            "payload_too_large",
            _chunked(_body("x" * MAX_BODY_BYTES)),
            {**JSON_TYPE, "Transfer-Encoding": "chunked"},
        ),
        Case(
            "unknown method",
            "PUT",
            f"/todos/{TODO}",
            405,
            "method_not_allowed",
            _body("a"),
            dict(JSON_TYPE),
        ),
        Case("unknown route", "GET", "/todos/1/2/3", 404, "not_found"),
        Case("path traversal", "GET", "/todos/../../etc/passwd", 404, "not_found"),
        Case("header over 8 KiB", "GET", "/todos", 400, PARSER, None, {"X-Big": "x" * 9000}),
        Case("URL over 8 KiB", "GET", "/todos?cursor=" + "A" * 9000, 400, PARSER),
        Case(
            "200 headers", "GET", "/todos", 400, PARSER, None, {f"X-H{n}": "v" for n in range(200)}
        ),
    ]
    return cases


def _chunked(body: bytes, size: int = 4096) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


def all_cases(foreign_cursors: dict[str, str]) -> list[Case]:
    return [
        *_bodies("POST", "/todos", COMMON_BODIES),
        *_bodies("PATCH", f"/todos/{TODO}", COMMON_BODIES[:13] + COMMON_BODIES[17:] + PATCH_BODIES),
        *id_cases(),
        *query_cases(foreign_cursors),
        *header_cases(),
    ]


async def snapshot(api: Client) -> list[tuple[Any, str]]:
    """Every todo with its ETag: any write, even one that changes nothing, bumps the ETag."""
    state = []
    for todo in sorted(await list_all(api, limit="100"), key=lambda t: t["id"]):
        response = await api.get(f"/todos/{todo['id']}")
        state.append((await response.json(), response.headers["ETag"]))
    return state


async def test_hostile_requests_get_their_specific_4xx_and_change_nothing(
    api: Client, settings: Settings
) -> None:
    todo = await (await api.post("/todos", json={"text": "the only todo"})).json()
    await api.post("/todos", json={"text": "the other todo"})
    cursor = next_cursor((await api.get("/todos", params={"limit": "1"})).headers)
    assert cursor is not None
    foreign = {
        "other secret": CursorCodec(settings.table_name, "s" * 32).encode(todo["id"]),
        "other table": CursorCodec("SomeOtherTable", None).encode(todo["id"]),
        "tampered": cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
        "truncated": cursor[:-4],
    }
    before = await snapshot(api)
    cases = all_cases(foreign)
    failures = []
    host, port = api.server.host, api.server.port
    assert port is not None
    for case in cases:
        target = case.target.replace(TODO, str(todo["id"]))
        try:
            answer = await raw_request(host, port, case, target)
        except TimeoutError:
            failures.append(f"{case.name}: no complete answer within {RAW_TIMEOUT_S} s")
            continue
        problem = check(case, answer)
        if problem is None and (state := await snapshot(api)) != before:
            problem = f"the table changed: {state}"
        if problem is not None:
            failures.append(f"{case.name}: {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} cases failed:\n" + "\n".join(failures)
    print(f"{len(cases)} hostile requests, each its specific 4xx, table unchanged")


def check(case: Case, answer: Answer) -> str | None:
    if answer.status != case.status:
        return f"status {answer.status}, expected {case.status}: {answer.body[:200]!r}"
    if b"Traceback" in answer.body or b'File "' in answer.body:
        return "a traceback leaked"
    if case.code == PARSER:
        # aiohttp's parser answers before the app, in plain text: no JSON, no request id.
        return None
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return f"content type {answer.headers.get('content-type')!r}"
    if "x-request-id" not in answer.headers or "x-content-type-options" not in answer.headers:
        return "no X-Request-ID or security headers"
    body = json.loads(answer.body)
    if body["error"]["code"] != case.code:
        return f"code {body['error']['code']!r}, expected {case.code!r}"
    return None
