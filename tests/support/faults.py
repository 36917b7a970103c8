"""A misbehaving DynamoDB for the fault tests: a real HTTP peer in front of a real server.

`FaultProxy` listens on a loopback port and, request by request, forwards to the real
DynamoDB-protocol server behind it, or does what a sick network or service would: answer
after a delay, answer ThrottlingException, apply the request but lose the answer, or vanish
altogether (`cut`) and come back on the same port (`restore`) with the data intact behind it.
It runs in the test's own event loop; nothing in it is a fake of the service under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final, Literal

from todo_service.local.harness import LOOPBACK, free_port

Action = Literal["forward", "throttle", "lose_answer"]
# DynamoDB's answer when a table's or account's request rate is exceeded (JSON 1.0 protocol).
THROTTLING_BODY: Final = (
    b'{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException",'
    b'"message":"Rate of requests exceeds the allowed throughput."}'
)


@dataclasses.dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic()
    operation: str  # e.g. "GetItem", from X-Amz-Target
    action: Action


@dataclasses.dataclass
class HttpMessage:
    head: bytes
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        lines = self.head.decode("latin-1").split("\r\n")[1:]
        pairs = (line.partition(":") for line in lines if line)
        return {name.strip().lower(): value.strip() for name, _, value in pairs}


async def read_message(reader: asyncio.StreamReader) -> HttpMessage | None:
    """One HTTP/1.1 message framed by Content-Length (as botocore, moto and dynalite send)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    message = HttpMessage(head, b"")
    length = int(message.headers.get("content-length", "0"))
    message.body = await reader.readexactly(length)
    return message


class FaultProxy:
    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self.delay_s = 0.0
        # Decides what happens to each request; by default everything is forwarded.
        self.plan: Callable[[str], Action] = lambda operation: "forward"
        self.seen: list[Seen] = []
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(
            self._serve, LOOPBACK, self.port, reuse_address=True
        )
        return self

    async def cut(self) -> None:
        """Vanish: stop listening (connection refused) and reset every open connection."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._connections):
            transport = writer.transport
            transport.abort()
        self._connections.clear()
        if server is not None:
            await server.wait_closed()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    def operations(self, action: Action | None = None) -> list[str]:
        return [s.operation for s in self.seen if action is None or s.action == action]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while (request := await read_message(reader)) is not None:
                operation = request.headers.get("x-amz-target", "").rpartition(".")[2]
                action = self.plan(operation)
                self.seen.append(Seen(time.monotonic(), operation, action))
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                if action == "throttle":
                    writer.write(_throttling_answer())
                    await writer.drain()
                    continue
                answer = await self._forward(request)
                if action == "lose_answer" or answer is None:
                    writer.transport.abort()  # applied upstream, but the client never hears
                    return
                writer.write(answer.head + answer.body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _forward(self, request: HttpMessage) -> HttpMessage | None:
        try:
            reader, writer = await asyncio.open_connection(LOOPBACK, self.upstream_port)
        except OSError:
            return None
        try:
            writer.write(request.head + request.body)
            await writer.drain()
            return await read_message(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            return None
        finally:
            writer.close()


def _throttling_answer() -> bytes:
    head = (
        "HTTP/1.1 400 Bad Request\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "x-amzn-RequestId: fault-proxy\r\n"
        f"Content-Length: {len(THROTTLING_BODY)}\r\n\r\n"
    )
    return head.encode() + THROTTLING_BODY


@asynccontextmanager
async def proxy_to(upstream_port: int) -> AsyncIterator[FaultProxy]:
    proxy = await FaultProxy(upstream_port).start()
    try:
        yield proxy
    finally:
        await proxy.close()
