"""`python -m bench.calls`: the CPU of one DynamoDB call through each client setup, in-process.

The service's share of a request is mostly one aiobotocore call (bench/README.md), so this
prices that call alone, without HTTP in front: GetItem, a Scan page of 50, PutItem and
UpdateItem against dynalite on loopback, each made by 16 tasks at once, through

- `default`: a default-configured aioboto3 client, the floor's (`bench/direct.py`);
- `before`: the service's client before issue 13's changes (its `client_config` with
  botocore's own signer, on a stock session);
- `+parser`: that, with DynamoDB's answers read by `store/response_parser.py`;
- `+signer`: that, with `store/signer.py` signing too: the service's own `open_client`, as
  the app opens it.

Each round runs every setup and call once, in a fresh random order, so the ratios compare
like with like on a shared machine; the median round is reported. Numbers from one run;
compare them with each other.

    python -m bench.calls --rounds 7 --calls 400
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig

from todo_service.local.harness import LocalServer
from todo_service.settings import Settings
from todo_service.store.client import botocore_session, client_config, open_client
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
    return client_config(settings).merge(AioConfig(signature_version=STOCK_SIGNATURE_VERSION))


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


def item_parser_session() -> aioboto3.Session:
    return aioboto3.Session(botocore_session=botocore_session())


# Each setup adds one of issue 13's changes to the one before it.
SETUPS: dict[str, Opener] = {
    "default": setup(aioboto3.Session, default_config),
    "before": setup(aioboto3.Session, stock_signer),
    "+parser": setup(item_parser_session, stock_signer),
    "+signer": open_client,
}
# The ratios reported: each change against the setup before it, and all against the floor's.
RATIOS = (
    ("+parser", "before"),
    ("+signer", "+parser"),
    ("+signer", "before"),
    ("+signer", "default"),
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
    settings = Settings(endpoint_url=endpoint, region="us-east-1", table_name=TABLE)
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


def report(medians: dict[str, dict[str, float]]) -> str:
    ops = [op for op in OPERATIONS if op in medians["default"]]
    lines = [
        "| CPU us per call (median round) | " + " | ".join(ops) + " |",
        "| --- | " + " | ".join("---:" for _ in ops) + " |",
    ]
    for name, values in medians.items():
        lines.append(f"| `{name}` | " + " | ".join(f"{values[op]:.0f}" for op in ops) + " |")
    for a, b in RATIOS:
        ratios = " | ".join(f"{medians[a][op] / medians[b][op]:.2f}" for op in ops)
        lines.append(f"| **{a} / {b}** | {ratios} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds per setup (default 7)")
    parser.add_argument("--calls", type=int, default=400, help="calls per round (default 400)")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON too")
    opts = parser.parse_args()
    # dynalite takes any credentials; these keep the run independent of the machine's.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    node = shutil.which("node")
    if node is None:
        raise SystemExit("bench.calls: node is missing (dynalite runs on it)")
    script = str(ROOT / "scripts/dynalite-server.js")
    with LocalServer(lambda port: [node, script, str(port)], "dynalite") as dynalite:
        medians = asyncio.run(measure(dynalite.endpoint_url, opts.rounds, opts.calls))
    print(report(medians))
    if opts.json:
        print(json.dumps(medians))


if __name__ == "__main__":
    main()
