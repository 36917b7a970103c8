"""`python -m bench.calls`: the CPU of one DynamoDB call through each client setup, in-process.

The service's share of a request is mostly one aiobotocore call (bench/README.md), so this
prices that call alone, without HTTP in front: GetItem, a Scan page of 50, PutItem and
UpdateItem against dynalite on loopback, each made by 16 tasks at once, through

- `default`: a default-configured aioboto3 client, the floor's (`bench/direct.py`);
- `before`: the service's client before issue 13's changes (its `client_config` with
  botocore's own signer, on a stock session);
- `+parser`: that, with DynamoDB's answers read by `sdk/response_parser.py`;
- `+signer`: that, with `sdk/signer.py` signing too, both as the first round of issue 13
  left them (every answer walked; the payload hashed from the prepared request);
- `+plain`: that, with a plain answer (only S, N, BOOL and NULL values) taken as msgspec
  decoded it, without botocore's walk;
- `+payload`: that, with the payload hashed from the serializer's bytes (round two's end);
- `+endpoints`: that, with each endpoint resolved once per operation and table
  (`sdk/endpoints.py`): the service's own `open_client`, as the app opens it.

Each round runs every setup and call once, in a fresh random order, so the ratios compare
like with like on a shared machine; the median round is reported. Numbers from one run;
compare them with each other.

    python -m bench.calls --rounds 7 --calls 400
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aioboto3
import botocore.auth
from aiobotocore.config import AioConfig
from aiobotocore.parsers import AioJSONParser
from botocore.auth import SigV4Auth

from todo_service.local.harness import LocalServer
from todo_service.sdk import speedups
from todo_service.sdk.client import client_config, open_client
from todo_service.sdk.response_parser import DYNAMODB_PROTOCOL, ItemParser, ItemParserFactory
from todo_service.sdk.signer import CachedKeySigV4Auth
from todo_service.settings import Settings
from todo_service.store.table import create_table_request

ROOT = Path(__file__).resolve().parent.parent
TABLE = "BenchCalls"
ITEMS = 200
# botocore's name for plain SigV4, the signer DynamoDB clients use unless told otherwise.
STOCK_SIGNATURE_VERSION = "v4"
PAGE = 50
TASKS = 16

OPERATIONS = ("GetItem", "Scan", "PutItem", "UpdateItem")

Opener = Callable[[Settings], AbstractAsyncContextManager[Any]]


def default_config(settings: Settings) -> AioConfig:
    """The floor's: botocore's defaults, with only the pool sized to the concurrency."""
    return AioConfig(max_pool_connections=settings.dynamodb_max_connections)


def stock_signer(settings: Settings) -> AioConfig:
    """The service's client config, signing with botocore's own SigV4Auth."""
    return client_config(settings.client_options()).merge(
        AioConfig(signature_version=STOCK_SIGNATURE_VERSION)
    )


def speedup_config(settings: Settings) -> AioConfig:
    """The service's client config with the speed-ups' signer (sdk/speedups.py)."""
    return client_config(settings.client_options()).merge(speedups.config())


def service_client(settings: Settings) -> AbstractAsyncContextManager[Any]:
    """The service's own client, as the app opens it, with the speed-ups on."""
    return open_client(settings.replace(sdk_speedups="on").client_options())


def setup(
    session: Callable[[], aioboto3.Session], config: Callable[[Settings], AioConfig]
) -> Opener:
    @contextlib.asynccontextmanager
    async def opened(settings: Settings) -> AsyncIterator[Any]:
        async with session().client(
            "dynamodb",
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=config(settings),
        ) as client:
            yield client

    return opened


class WalkingParser(ItemParser):
    """The first round's parser: every answer walked, plain values taken as decoded."""

    _handle_json_body = AioJSONParser._handle_json_body  # type: ignore[attr-defined]


class WalkingParserFactory(ItemParserFactory):
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == DYNAMODB_PROTOCOL:
            return WalkingParser(**self._defaults)  # type: ignore[attr-defined]
        return super().create_parser(protocol_name)


class PreparingSigner(CachedKeySigV4Auth):
    """The first round's signer: the payload read from the prepared request, as botocore does."""

    payload = SigV4Auth.payload


PREPARING_SIGNATURE_VERSION = "todo-service-v4-preparing"


def plain_session() -> aioboto3.Session:
    """The service's session (sdk/client.py), which reads plain answers without a walk."""
    return aioboto3.Session(botocore_session=speedups.session())


def walking_session() -> aioboto3.Session:
    """The service's session with the first round's parser in place of its own."""
    session = speedups.session()
    session.register_component("response_parser_factory", WalkingParserFactory())
    return aioboto3.Session(botocore_session=session)


def preparing_signer(settings: Settings) -> AioConfig:
    botocore.auth.AUTH_TYPE_MAPS[PREPARING_SIGNATURE_VERSION] = PreparingSigner
    return client_config(settings.client_options()).merge(
        AioConfig(signature_version=PREPARING_SIGNATURE_VERSION)
    )


# Each setup adds one of issue 13's changes to the one before it.
SETUPS: dict[str, Opener] = {
    "default": setup(aioboto3.Session, default_config),
    "before": setup(aioboto3.Session, stock_signer),
    "+parser": setup(walking_session, stock_signer),
    "+signer": setup(walking_session, preparing_signer),
    "+plain": setup(plain_session, preparing_signer),
    "+payload": setup(plain_session, speedup_config),
    "+endpoints": service_client,
}
# The ratios reported: each change against the setup before it, and all against the floor's.
RATIOS = (
    ("+parser", "before"),
    ("+signer", "+parser"),
    ("+plain", "+signer"),
    ("+payload", "+plain"),
    ("+endpoints", "+payload"),
    ("+endpoints", "+signer"),
    ("+endpoints", "before"),
    ("+endpoints", "default"),
)


def stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def todo_item(todo_id: int) -> dict[str, Any]:
    now = stamp()
    return {
        "id": {"N": str(todo_id)},
        "text": {"S": f"todo number {todo_id}, as long as a short todo"},
        "completed": {"BOOL": todo_id % 2 == 0},
        "createdAt": {"S": now},
        "updatedAt": {"S": now},
        "version": {"N": "1"},
    }


def operations(client: Any) -> dict[str, Callable[[], Awaitable[Any]]]:
    def key() -> dict[str, Any]:
        return {"id": {"N": str(random.randint(1, ITEMS))}}

    return {
        "GetItem": lambda: client.get_item(TableName=TABLE, Key=key(), ConsistentRead=True),
        "Scan": lambda: client.scan(TableName=TABLE, ConsistentRead=True, Limit=PAGE),
        "PutItem": lambda: client.put_item(
            TableName=TABLE,
            Item=todo_item(random.randint(10**12, 2**53 - 1)),
            ConditionExpression="attribute_not_exists(id)",
        ),
        "UpdateItem": lambda: client.update_item(
            TableName=TABLE,
            Key=key(),
            UpdateExpression="SET updatedAt = :now, version = version + :one",
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeValues={":now": {"S": stamp()}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        ),
    }


def bench_settings(endpoint: str) -> Settings:
    return Settings(endpoint_url=endpoint, region="us-east-1", table_name=TABLE)


async def cpu_per_call_us(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    async def task() -> None:
        for _ in range(calls // TASKS):
            await call()

    started = time.process_time()
    await asyncio.gather(*(task() for _ in range(TASKS)))
    return (time.process_time() - started) / (calls // TASKS * TASKS) * 1e6


async def fill(client: Any) -> None:
    # The service's own table definition (store/table.py), owner index included.
    await client.create_table(**create_table_request(TABLE))
    puts = [{"PutRequest": {"Item": todo_item(i)}} for i in range(1, ITEMS + 1)]
    for start in range(0, ITEMS, 25):
        await client.batch_write_item(RequestItems={TABLE: puts[start : start + 25]})


async def measure(endpoint: str, rounds: int, calls: int) -> dict[str, dict[str, float]]:
    settings = bench_settings(endpoint)
    samples: dict[str, dict[str, list[float]]] = {s: {} for s in SETUPS}
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(open_(settings)) for name, open_ in SETUPS.items()
        }
        await fill(clients["default"])
        for client in clients.values():  # warm-up: connections opened, caches filled
            for call in operations(client).values():
                await cpu_per_call_us(call, TASKS * 4)
        calls_by_setup = {name: operations(client) for name, client in clients.items()}
        pairs = [(name, op) for name, ops in calls_by_setup.items() for op in ops]
        for _ in range(rounds):
            # A fresh order each round, so no setup always runs after the same neighbour.
            random.shuffle(pairs)
            for name, op in pairs:
                us = await cpu_per_call_us(calls_by_setup[name][op], calls)
                samples[name].setdefault(op, []).append(us)
    return {
        name: {op: statistics.median(values) for op, values in ops.items()}
        for name, ops in samples.items()
    }


def report(medians: dict[str, dict[str, float]], heading: str) -> str:
    ops = [op for op in OPERATIONS if all(op in values for values in medians.values())]
    lines = [
        f"| {heading} | " + " | ".join(ops) + " |",
        "| --- | " + " | ".join("---:" for _ in ops) + " |",
    ]
    for name, values in medians.items():
        lines.append(f"| `{name}` | " + " | ".join(f"{values[op]:,.0f}" for op in ops) + " |")
    for a, b in RATIOS:
        if a in medians and b in medians:
            ratios = " | ".join(f"{medians[a][op] / medians[b][op]:.2f}" for op in ops)
            lines.append(f"| **{a} / {b}** | {ratios} |")
    return "\n".join(lines)


# Instructions, counted by valgrind's callgrind: the same for the same work whatever else the
# machine does (perf cannot count them on this machine; CPU seconds move by about 10% from
# round to round). Each setup runs in child processes under callgrind: one that opens the
# client and warms every call up, and one per operation that does that and then `calls` more
# of it; the difference, divided by `calls`, is one call's instructions.
WARM_UP_CALLS = TASKS * 2
COLLECTED = re.compile(r"Collected : (\d+)")


async def child(setup_name: str, endpoint: str, op: str | None, calls: int) -> None:
    settings = bench_settings(endpoint)
    async with SETUPS[setup_name](settings) as client:
        ops = operations(client)
        for call in ops.values():
            await cpu_per_call_us(call, WARM_UP_CALLS)
        if op is not None:
            await cpu_per_call_us(ops[op], calls)


def counted(valgrind: str, setup_name: str, endpoint: str, op: str | None, calls: int) -> int:
    command = [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    command += [sys.executable, "-m", "bench.calls", "--child", setup_name, "--endpoint", endpoint]
    command += ["--calls", str(calls)] + (["--op", op] if op else [])
    # A fixed hash seed: with a random one, the layout of sets and dicts (and so the count)
    # moves by a few percent from one process to the next.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"bench.calls: a child under callgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def count_instructions(endpoint: str, setups: list[str], calls: int) -> dict[str, dict[str, float]]:
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("bench.calls: --instructions needs valgrind (apt-get install valgrind)")
    asyncio.run(fill_table(endpoint))
    jobs = [(name, op) for name in setups for op in (None, *OPERATIONS)]
    # One child per core: callgrind runs a program about 50 times slower.
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {
            (name, op): pool.submit(counted, valgrind, name, endpoint, op, calls)
            for name, op in jobs
        }
        totals = {job: future.result() for job, future in futures.items()}
    return {
        name: {op: (totals[name, op] - totals[name, None]) / calls for op in OPERATIONS}
        for name in setups
    }


async def fill_table(endpoint: str) -> None:
    settings = bench_settings(endpoint)
    async with SETUPS["default"](settings) as client:
        await fill(client)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per setup (default 7)")
    parser.add_argument("--calls", type=int, default=400, help="calls per round (default 400)")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON too")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per call with valgrind's callgrind instead of CPU time "
        "(about 15 minutes for four setups on 2 cores)",
    )
    parser.add_argument(
        "--setups", default=",".join(SETUPS), help="with --instructions: which setups (all)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--op", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    # dynalite takes any credentials; these keep the run independent of the machine's.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    if opts.child:
        asyncio.run(child(opts.child, opts.endpoint, opts.op, opts.calls))
        return
    node = shutil.which("node")
    if node is None:
        raise SystemExit("bench.calls: node is missing (dynalite runs on it)")
    script = str(ROOT / "scripts/dynalite-server.js")
    with LocalServer(lambda port: [node, script, str(port)], "dynalite") as dynalite:
        if opts.instructions:
            setups = [name for name in opts.setups.split(",") if name]
            unknown = sorted(set(setups) - set(SETUPS))
            if unknown:
                raise SystemExit(f"bench.calls: unknown setups {unknown}; known: {list(SETUPS)}")
            medians = count_instructions(dynalite.endpoint_url, setups, opts.calls)
            heading = "Instructions per call (callgrind)"
        else:
            medians = asyncio.run(measure(dynalite.endpoint_url, opts.rounds, opts.calls))
            heading = "CPU us per call (median round)"
    print(report(medians, heading))
    if opts.json:
        print(json.dumps(medians))


if __name__ == "__main__":
    main()
