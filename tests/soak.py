"""The soak test: `./scripts/soak` (60 s) or `python -m tests.soak --seconds N`.

Not part of the default test run (pytest collects only test_*.py). It starts the dev stack
(`todo-service dev`: embedded moto, seeded table, the API) on free loopback ports, drives it
with mixed traffic from CLIENTS concurrent clients for the given time, and reports requests,
errors, latency and the API process's resident memory (RSS) at start and end. Each client
works on its own todos, so every answer has one right status; anything else is an error.
Exit status 0 only with zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import aiohttp

from todo_service.local.harness import LOOPBACK, LocalServer, free_port

DEFAULT_SECONDS = 60.0
DEFAULT_CLIENTS = 16
REQUEST_TIMEOUT_S = 10.0


def dev_stack() -> LocalServer:
    return LocalServer(
        lambda port: [
            sys.executable,
            "-m",
            "todo_service",
            "dev",
            "--port",
            str(port),
            "--web-port",
            str(free_port()),
        ],
        "todo-service dev",
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "TODO_LOG_LEVEL": "WARNING",  # an access-log line per request would dominate
        },
    )


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Tally:
    def __init__(self) -> None:
        self.by_operation: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.latencies_s: list[float] = []

    async def call(
        self,
        http: aiohttp.ClientSession,
        name: str,
        expected: int,
        method: str,
        path: str,
        **kwargs: object,
    ) -> aiohttp.ClientResponse | None:
        started = time.monotonic()
        try:
            response = await http.request(method, path, **kwargs)  # type: ignore[arg-type]
            await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            self.errors.append(f"{name}: {type(error).__name__}: {error}")
            return None
        self.latencies_s.append(time.monotonic() - started)
        self.by_operation[name] += 1
        if response.status != expected:
            self.errors.append(f"{name}: {response.status} {(await response.text())[:200]}")
            return None
        return response


async def client(http: aiohttp.ClientSession, tally: Tally, stop_at: float, n: int) -> None:
    mine: list[tuple[int, str]] = []  # (id, etag)
    for step in range(1_000_000):  # bounded; the clock ends it
        if time.monotonic() > stop_at:
            break
        kind = step % 8
        if kind in (0, 4) or not mine:
            headers = {"Idempotency-Key": uuid.uuid4().hex} if kind == 4 else {}
            response = await tally.call(
                http,
                "create",
                201,
                "POST",
                "/todos",
                json={"text": f"soak {n}/{step}"},
                headers=headers,
            )
            if response is not None:
                mine.append(((await response.json())["id"], response.headers["ETag"]))
        elif kind == 1:
            todo_id, _ = mine[-1]
            await tally.call(http, "get", 200, "GET", f"/todos/{todo_id}")
        elif kind == 2:
            await tally.call(http, "list", 200, "GET", "/todos", params={"limit": "20"})
        elif kind == 3:
            todo_id, etag = mine[-1]
            response = await tally.call(
                http,
                "patch",
                200,
                "PATCH",
                f"/todos/{todo_id}",
                json={"text": f"soak {n}/{step} edited"},
                headers={"If-Match": etag},
            )
            if response is not None:
                mine[-1] = (todo_id, response.headers["ETag"])
        elif kind == 5:
            todo_id, _ = mine[-1]
            response = await tally.call(http, "toggle", 200, "POST", f"/todos/{todo_id}/toggle")
            if response is not None:
                mine[-1] = (todo_id, response.headers["ETag"])
        elif kind == 6 and len(mine) > 3:
            todo_id, etag = mine.pop(0)
            await tally.call(
                http, "delete", 204, "DELETE", f"/todos/{todo_id}", headers={"If-Match": etag}
            )
        else:
            await tally.call(http, "readyz", 200, "GET", "/readyz")


async def drive(base_url: str, seconds: float, clients: int) -> Tally:
    tally = Tally()
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url, timeout=timeout, connector=connector) as http:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(client(http, tally, stop_at, n) for n in range(clients)))
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS)
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 3600 or not 0 < args.clients <= 256:
        parser.error("--seconds must be in (0, 3600] and --clients in (0, 256]")
    with dev_stack() as stack:
        assert stack.pid is not None
        rss_start = rss_mib(stack.pid)
        started = time.monotonic()
        tally = asyncio.run(drive(stack.endpoint_url, args.seconds, args.clients))
        elapsed = time.monotonic() - started
        rss_end = rss_mib(stack.pid)
    total = sum(tally.by_operation.values())
    latencies = sorted(tally.latencies_s) or [0.0]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"soak: {elapsed:.0f} s, {args.clients} clients on {LOOPBACK}, the dev stack")
    print(
        f"  requests: {total} ({total / elapsed:.0f}/s): {dict(sorted(tally.by_operation.items()))}"
    )
    print(
        f"  latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )
    print(f"  errors: {len(tally.errors)}")
    for error in tally.errors[:20]:
        print(f"    {error}")
    print(f"  API process RSS: {rss_start:.1f} MiB at start, {rss_end:.1f} MiB at end")
    return 0 if not tally.errors else 1


if __name__ == "__main__":
    sys.exit(main())
