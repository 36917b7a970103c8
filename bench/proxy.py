"""A delaying TCP proxy: stands for the network distance between the services and DynamoDB.

This kernel has no netem, so the added latency is made in user space: every chunk read from
one side is written to the other side `delay` seconds later, in order, in both directions.
A request/response exchange therefore pays 2 x delay more than on plain loopback. New
upstream connections also wait one round trip (the TCP handshake a real network would cost).

Run it in its own process, so that its CPU does not count against the service under test:

    python -m bench.proxy --delay-ms 5 --route 9001:127.0.0.1:8000 [--route ...]

`measure_rtt` times ping-pongs through a route to a local echo
server, so the harness can check the added round trip before it trusts it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import socket
import statistics
import time
from collections.abc import Sequence
from typing import Final

LOOPBACK: Final = "127.0.0.1"
# Event-loop timers are millisecond-grained (asyncio rounds its epoll timeout up to a whole
# millisecond), so a timer fires up to about 1 ms late: aim most of that early. Measured
# here: a 5 ms delay adds 10.7 ms to a round trip (aiming 1 ms early gave 8.6 ms). The
# harness measures what is really added, and prints and records it, before it trusts it.
TIMER_SLACK_S: Final = 0.00075


class _DelayedPipe:
    """Writes what it is given to `transport` after `delay_s`, preserving order.

    One timer per pipe, not one per chunk: asyncio's timer heap does not keep the order of
    chunks due at the same instant, and one timer is cheaper anyway.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, delay_s: float) -> None:
        self._loop = loop
        self._delay_s = delay_s
        self._queue: collections.deque[tuple[float, bytes | None]] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None

    def send(self, data: bytes | None) -> None:
        """Queue bytes, or None for "close after what is queued"."""
        due = self._loop.time() + self._delay_s - TIMER_SLACK_S
        self._queue.append((due, data))
        if self._timer is None:
            self._timer = self._loop.call_at(due, self._flush)

    def attach(self, transport: asyncio.Transport) -> None:
        """Start writing to `transport`: what came before it connected waits until now."""
        self.transport = transport
        if self._queue and self._timer is None:
            self._flush()

    def _flush(self) -> None:
        self._timer = None
        if self.transport is None:
            return  # attach() flushes
        now = self._loop.time()
        while self._queue and self._queue[0][0] <= now:
            _, data = self._queue.popleft()
            if self.transport.is_closing():
                continue
            if data is None:
                self.transport.close()
            else:
                self.transport.write(data)
        if self._queue:
            self._timer = self._loop.call_at(self._queue[0][0], self._flush)


class _Side(asyncio.Protocol):
    """One end of a proxied connection; what it reads goes to the other end, delayed."""

    def __init__(self, outgoing: _DelayedPipe) -> None:
        self.outgoing = outgoing
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        # Small HTTP messages must not wait for Nagle's algorithm.
        with contextlib.suppress(OSError):
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.outgoing.send(data)

    def eof_received(self) -> bool:
        self.outgoing.send(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.outgoing.send(None)


class _Client(_Side):
    """The accepted (downstream) side: connects upstream, holding the client's bytes till then."""

    def __init__(self, loop: asyncio.AbstractEventLoop, delay_s: float, target: tuple[str, int]):
        super().__init__(_DelayedPipe(loop, delay_s))
        self._loop = loop
        self._delay_s = delay_s
        self._target = target
        self._upstream: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._task = self._loop.create_task(self._connect())

    async def _connect(self) -> None:
        back = _DelayedPipe(self._loop, self._delay_s)
        back.transport = self.transport
        await asyncio.sleep(2 * self._delay_s)  # the handshake's round trip
        try:
            upstream, _ = await self._loop.create_connection(lambda: _Side(back), *self._target)
        except OSError:
            if self.transport is not None:
                self.transport.close()
            return
        self._upstream = upstream
        self.outgoing.attach(upstream)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._upstream is None:
            self._task.cancel()
        super().connection_lost(exc)


async def serve(delay_s: float, routes: Sequence[tuple[int, str, int]]) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for listen_port, host, port in routes:
        servers.append(
            await loop.create_server(
                lambda target=(host, port): _Client(loop, delay_s, target),  # type: ignore[misc]
                LOOPBACK,
                listen_port,
                backlog=1024,
            )
        )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"proxy ready: +{delay_s * 1000:g} ms each way", flush=True)
    parent = os.getppid()
    # A proxy that outlives the harness (killed outright) would hold its ports: die with it.
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    for server in servers:
        server.close()


def _route(raw: str) -> tuple[int, str, int]:
    listen, host, port = raw.split(":")
    return int(listen), host, int(port)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, required=True, help="added each way")
    parser.add_argument(
        "--route",
        type=_route,
        action="append",
        required=True,
        help="LISTEN_PORT:TARGET_HOST:TARGET_PORT (repeatable)",
    )
    args = parser.parse_args(argv)
    asyncio.run(serve(args.delay_ms / 1000, args.route))


# ---- measuring what the proxy really adds ----


class EchoServer:
    """A blocking echo server on a loopback port, in a thread: the far end of an RTT probe."""

    def __init__(self) -> None:
        import threading

        self._sock = socket.create_server((LOOPBACK, 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


def measure_rtt(port: int, samples: int = 50, timeout_s: float = 5.0) -> list[float]:
    """Round trips of one small message to an echo server at `port` (seconds, sorted)."""
    times = []
    with socket.create_connection((LOOPBACK, port), timeout=timeout_s) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"warm")
        sock.recv(64)
        for _ in range(samples):
            started = time.perf_counter()
            sock.sendall(b"ping")
            received = b""
            while len(received) < 4:
                chunk = sock.recv(64)
                if not chunk:
                    raise ConnectionError("echo connection closed")
                received += chunk
            times.append(time.perf_counter() - started)
    return sorted(times)


def added_rtt_ms(direct: list[float], proxied: list[float]) -> dict[str, float]:
    """What the proxy adds to a round trip: medians and 95th percentiles, in ms."""

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    return {
        "direct_p50_ms": statistics.median(direct) * 1000,
        "proxied_p50_ms": statistics.median(proxied) * 1000,
        "added_p50_ms": (statistics.median(proxied) - statistics.median(direct)) * 1000,
        "added_p95_ms": (p95(proxied) - p95(direct)) * 1000,
    }


if __name__ == "__main__":
    main()
