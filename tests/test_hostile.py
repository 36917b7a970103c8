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
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from todo_service.api.requests import MAX_BODY_BYTES
from todo_service.domain.cursor import CursorCodec
from todo_service.domain.todo import MAX_ID, MAX_TEXT_CHARS

from .support.api import next_cursor, next_link
from .support.service import create_tables, fresh_table_name, service_env, service_process

RAW_TIMEOUT_S = 10.0
JSON_TYPE = {"Content-Type": "application/json"}
# Stands for the id of a todo that exists, filled in by the test.
TODO = "{todo}"
# Cursors the service must refuse, made per backend (`{cursor:NAME}` in a target).
FOREIGN_CURSORS = ("other secret", "other table", "tampered", "truncated")
CURSOR_SECRET = "hostile-table-cursor-secret"
# Answered by aiohttp's HTTP parser, before any route or middleware runs: JSON in the API's
# format (run/parser_refusals.py), but with no request id, since no request was ever made.
PARSER_CASES = frozenset({"header over 8 KiB", "URL over 8 KiB", "200 headers"})


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
    ("duplicate member", b'{"text": "a", "text": "b"}', 400, BAD),
    ("duplicate member, same value", b'{"text": "a: b", "text": "a: b"}', 400, BAD),
    ("duplicate member, escaped name", b'{"text": "a", "te\\u0078t": "b"}', 400, BAD),
]

PATCH_BODIES: list[tuple[str, bytes, int, str]] = [
    ("empty object", b"{}", 400, BAD),
    ("completed is string", b'{"completed": "true"}', 400, BAD),
    ("completed is 0", b'{"completed": 0}', 400, BAD),
    ("completed is null", b'{"completed": null}', 400, BAD),
    ("completed is huge", b'{"completed": 1e400}', 400, BAD),
    ("text is null", b'{"text": null}', 400, BAD),
    ("duplicate completed", b'{"completed": true, "completed": false}', 400, BAD),
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


def query_cases() -> list[Case]:
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
        *((f"cursor={{cursor:{name}}}", CURSOR) for name in FOREIGN_CURSORS),
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
        Case(
            "header over 8 KiB",
            "GET",
            "/todos",
            431,
            "header_too_large",
            None,
            {"X-Big": "x" * 9000},
        ),
        Case("URL over 8 KiB", "GET", "/todos?cursor=" + "A" * 9000, 400, BAD),
        Case("200 headers", "GET", "/todos", 400, BAD, None, {f"X-H{n}": "v" for n in range(200)}),
    ]
    return cases


def _chunked(body: bytes, size: int = 4096) -> bytes:
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


CASES = [
    *_bodies("POST", "/todos", COMMON_BODIES),
    *_bodies("PATCH", f"/todos/{TODO}", COMMON_BODIES + PATCH_BODIES),
    *id_cases(),
    *query_cases(),
    *header_cases(),
]


@dataclasses.dataclass(frozen=True)
class Target:
    """The service under attack: a real server process on a table of two todos."""

    host: str
    port: int
    todo_id: int
    cursors: dict[str, str]
    # Every todo with its ETag before any case ran: any write, even one that changes
    # nothing, bumps the ETag.
    before: list[tuple[Any, str]]

    def resolve(self, target: str) -> str:
        target = target.replace(TODO, str(self.todo_id))
        for name, cursor in self.cursors.items():
            target = target.replace(f"{{cursor:{name}}}", cursor)
        return target


async def snapshot(base_url: str) -> list[tuple[Any, str]]:
    async with aiohttp.ClientSession(base_url) as session:
        state = []
        for todo in sorted(await session_list_all(session), key=lambda t: t["id"]):
            async with session.get(f"/todos/{todo['id']}") as response:
                state.append((await response.json(), response.headers["ETag"]))
        return state


async def session_list_all(session: aiohttp.ClientSession) -> list[dict[str, Any]]:
    todos: list[dict[str, Any]] = []
    link: str | None = "/todos?limit=100"
    while link is not None:
        async with session.get(link) as response:
            todos.extend(await response.json())
            link = next_link(response.headers)
    return todos


async def _prepare(base_url: str, table: str) -> Target:
    async with aiohttp.ClientSession(base_url) as session:
        for text in ("the only todo", "the other todo"):
            async with session.post("/todos", json={"text": text}) as response:
                assert response.status == 201
                todo = await response.json()
        async with session.get("/todos", params={"limit": "1"}) as response:
            cursor = next_cursor(response.headers)
    assert cursor is not None
    host, port = base_url.removeprefix("http://").split(":")
    return Target(
        host,
        int(port),
        todo["id"],
        {
            "other secret": CursorCodec(table, "o" * 32).encode(todo["id"]),
            "other table": CursorCodec("SomeOtherTable", CURSOR_SECRET).encode(todo["id"]),
            "tampered": cursor[:-1] + ("A" if cursor[-1] != "A" else "B"),
            "truncated": cursor[:-4],
        },
        await snapshot(base_url),
    )


@pytest.fixture(scope="module")
def target(dynamodb_endpoint: str) -> Iterator[Target]:
    """One server per backend for the whole table of cases: each must change nothing."""
    table = fresh_table_name()
    asyncio.run(create_tables(dynamodb_endpoint, table))
    env = service_env(dynamodb_endpoint, table, TODO_CURSOR_SECRET=CURSOR_SECRET)
    with service_process(env) as server:
        yield asyncio.run(_prepare(server.endpoint_url, table))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_hostile_request_gets_its_specific_4xx_and_changes_nothing(
    case: Case, target: Target
) -> None:
    try:
        answer = await raw_request(target.host, target.port, case, target.resolve(case.target))
    except TimeoutError:
        pytest.fail(f"no complete answer within {RAW_TIMEOUT_S} s")
    problem = check(case, answer)
    assert problem is None, problem
    after = await snapshot(f"http://{target.host}:{target.port}")
    assert after == target.before, "the table changed"


def check(case: Case, answer: Answer) -> str | None:
    if answer.status != case.status:
        return f"status {answer.status}, expected {case.status}: {answer.body[:200]!r}"
    if b"Traceback" in answer.body or b'File "' in answer.body:
        return "a traceback leaked"
    if not answer.headers.get("content-type", "").startswith("application/json"):
        return f"content type {answer.headers.get('content-type')!r}"
    if "x-content-type-options" not in answer.headers:
        return "no security headers"
    if "x-request-id" not in answer.headers and case.name not in PARSER_CASES:
        return "no X-Request-ID"
    body = json.loads(answer.body)
    if body["error"]["code"] != case.code:
        return f"code {body['error']['code']!r}, expected {case.code!r}"
    return None
