"""What aiohttp's HTTP parser refuses is answered in the API's format, on both servers.

Raw sockets, to send what no HTTP client library would: an oversized header, a request line
that is not HTTP, an invalid header name, two Content-Lengths. Each gets the API's JSON error
with its security headers and the connection closed, and none of the request's bytes come
back: the bytes sent include a secret that must not appear anywhere in the answer.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web, web_protocol

from todo_service.local.harness import LOOPBACK, LocalServer, free_port
from todo_service.run import parser_refusals
from todo_service.web_policy import API_SECURITY_HEADERS

from .support.service import service_env, service_process

ROOT = Path(__file__).resolve().parents[1]
SECRET = b"s3cr3t-bearer-token-bytes"
RAW_TIMEOUT_S = 10.0

CASES: dict[str, tuple[bytes, int, str]] = {
    "an oversized header": (
        b"GET /todos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + SECRET
        + b"x" * 9000
        + b"\r\n\r\n",
        431,
        "header_too_large",
    ),
    "an oversized request line": (
        b"GET /todos?cursor=" + SECRET + b"A" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        400,
        "invalid_request",
    ),
    "a request line that is not HTTP": (SECRET + b"\r\n\r\n", 400, "invalid_request"),
    "an invalid header name": (
        b"GET /todos HTTP/1.1\r\nHost: x\r\nBad " + SECRET + b": v\r\n\r\n",
        400,
        "invalid_request",
    ),
    "two Content-Lengths": (
        b"POST /todos HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 25\r\n\r\n"
        + SECRET,
        400,
        "invalid_request",
    ),
}


async def raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `data`, read the answer to the end: the server closes the connection."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(RAW_TIMEOUT_S):
            answer = await reader.read()  # until the server closes
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, int]]:
    """The API (`serve`, on no DynamoDB: nothing here reaches it) and the page's server."""
    env = service_env(f"http://{LOOPBACK}:{free_port()}", "TodoTable")
    page = LocalServer(
        lambda port: [sys.executable, "-m", "todo_service", "web", "--host", LOOPBACK,
                      "--port", str(port), "--root", str(ROOT / "web")],
        "todo-service web",
        env=env,
    )  # fmt: skip
    with service_process(env) as api, page:
        yield {"API": api.port, "page's server": page.port}


@pytest.mark.parametrize("server", ["API", "page's server"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_parser_refusal_is_the_apis_json_and_echoes_nothing(
    servers: dict[str, int], server: str, case: str
) -> None:
    data, status, code = CASES[case]
    answered, headers, body = await raw(servers[server], data)
    assert answered == status, body[:300]
    assert headers["content-type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"]
    for name, value in API_SECURITY_HEADERS.items():
        assert headers[name.lower()] == value
    # `raw` read to the end of the stream: the server closed the connection, as it must after
    # a request it could not frame.
    assert SECRET not in body
    assert all(SECRET.decode() not in value for value in headers.values())


def test_the_refusals_name_the_problem_in_aiohttps_words_only() -> None:
    from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, LineTooLong

    header = LineTooLong(b"Bearer " + SECRET + b"...", 8190)
    assert parser_refusals.refusal(header, 400) == (
        431,
        "header_too_large",
        "a header field is longer than 8190 bytes",
    )
    line = LineTooLong(bytearray(b"/todos?" + SECRET), 8190)
    assert parser_refusals.refusal(line, 400)[:2] == (400, "invalid_request")
    # A message that quotes the request, however it is made, is not repeated.
    for quoting in (BadStatusLine(SECRET.decode()), BadHttpMessage(f"{SECRET!r}: bad")):
        assert SECRET.decode() not in parser_refusals.refusal(quoting, 400)[2]
    assert parser_refusals.refusal(None, 500)[:2] == (500, "internal_error")


# Guards: what run/parser_refusals.py relies on, on the aiohttp installed.


def test_the_installed_aiohttp_is_one_the_refusals_were_verified_on() -> None:
    assert parser_refusals.verified(), f"aiohttp {aiohttp.__version__}: re-verify, then add it"


def test_aiohttp_still_answers_parse_errors_through_handle_error() -> None:
    parameters = list(inspect.signature(web_protocol.RequestHandler.handle_error).parameters)
    assert parameters == ["self", "request", "status", "exc", "message"]
    source = inspect.getsource(web_protocol.RequestHandler._make_error_handler)
    assert "self.handle_error(" in source


async def test_without_the_refusals_aiohttp_echoes_the_bytes_and_with_them_it_does_not() -> None:
    """The plain behaviour is the fallback; this shows both, on an in-process server."""
    app = web.Application()
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, LOOPBACK, port).start()
    data = CASES["an oversized header"][0]
    try:
        parser_refusals.uninstall()
        status, headers, body = await raw(port, data)
        assert (status, headers["content-type"].split(";")[0]) == (400, "text/plain")
        assert SECRET in body  # aiohttp's own answer quotes the request
        assert parser_refusals.install()
        status, headers, body = await raw(port, data)
        assert status == 431
        assert SECRET not in body
    finally:
        parser_refusals.uninstall()
        await runner.cleanup()
