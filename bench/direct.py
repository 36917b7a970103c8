"""The floor: the service's DynamoDB calls made straight from aioboto3, no HTTP in between.

A default-configured client (only the pool is sized to the concurrency, so that the
concurrency is really the same as the HTTP contenders') on the default asyncio loop, and N
tasks each calling in a plain loop. The calls carry the same parameters as the service's
repository: what the service costs above this is its HTTP, validation and telemetry.

    python -m bench.direct --scenario get --concurrency 128 --duration 5 --warmup 1

Prints one line, "BENCH-JSON {...}", with the same fields as the wrk script plus this
process's CPU seconds and peak RSS over the measured window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import BotoCoreError, ClientError

Call = Callable[[], Awaitable[Any]]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def scenario_calls(client: Any, table: str, ids: int) -> dict[str, Call]:
    """One DynamoDB call per scenario, as the service's repository makes it."""

    def key() -> dict[str, Any]:
        return {"id": {"N": str(random.randint(1, ids))}}

    async def get() -> Any:
        return await client.get_item(TableName=table, Key=key(), ConsistentRead=True)

    async def list_page() -> Any:
        return await client.scan(TableName=table, ConsistentRead=True, Limit=50)

    async def create() -> Any:
        now = _now()
        return await client.put_item(
            TableName=table,
            Item={
                "id": {"N": str(random.randint(10**12, 2**53 - 1))},
                "text": {"S": "a todo made by the benchmark"},
                "completed": {"BOOL": False},
                "createdAt": {"S": now},
                "updatedAt": {"S": now},
                "version": {"N": "1"},
            },
            ConditionExpression="attribute_not_exists(id)",
        )

    async def toggle() -> Any:
        # The service's conditional flip on the BOOL the table stores (DynamoDB cannot negate
        # a BOOL, and has no arithmetic on one): assume open, else flip the other way.
        todo_key = key()
        for completed in (False, True):
            try:
                return await client.update_item(
                    TableName=table,
                    Key=todo_key,
                    UpdateExpression="SET completed = :target, updatedAt = :now, "
                    "version = if_not_exists(version, :zero) + :one",
                    ConditionExpression="attribute_exists(id) AND completed = :current",
                    ExpressionAttributeValues={
                        ":current": {"BOOL": completed},
                        ":target": {"BOOL": not completed},
                        ":now": {"S": _now()},
                        ":one": {"N": "1"},
                        ":zero": {"N": "0"},
                    },
                    ReturnValues="ALL_NEW",
                )
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return None

    async def mix() -> Any:
        r = random.randint(1, 100)
        if r <= 70:
            return await get()
        if r <= 80:
            return await list_page()
        if r <= 90:
            return await create()
        return await toggle()

    return {"get": get, "list": list_page, "create": create, "toggle": toggle, "mix": mix}


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    session = aioboto3.Session()
    config = AioConfig(max_pool_connections=args.concurrency)
    async with session.client("dynamodb", config=config) as client:
        call = scenario_calls(client, args.table, args.ids)[args.scenario]
        latencies: list[float] = []
        errors = 0
        measuring = False
        warmup_end = time.monotonic() + args.warmup
        end = warmup_end + args.duration

        async def worker() -> None:
            nonlocal errors
            while (now := time.monotonic()) < end:
                try:
                    await call()
                except (ClientError, BotoCoreError, OSError, TimeoutError):
                    errors += measuring
                    continue
                if measuring:
                    latencies.append(time.monotonic() - now)

        async def clock() -> tuple[float, float]:
            nonlocal measuring
            await asyncio.sleep(max(0.0, warmup_end - time.monotonic()))
            measuring = True
            # The harness starts counting this process's instructions on this line.
            print("BENCH-MEASURING", flush=True)
            started, cpu = time.monotonic(), time.process_time()
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            measuring = False
            return time.monotonic() - started, time.process_time() - cpu

        clock_task = asyncio.create_task(clock())
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        elapsed, cpu_s = await clock_task
    latencies.sort()
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "errors": {"status": errors},
        "latency_us": {
            "p50": percentile(latencies, 50) * 1e6,
            "p95": percentile(latencies, 95) * 1e6,
            "p99": percentile(latencies, 99) * 1e6,
            "mean": sum(latencies) / len(latencies) * 1e6 if latencies else 0.0,
            "max": (latencies[-1] if latencies else 0.0) * 1e6,
        },
        "cpu_s": cpu_s,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "pid": os.getpid(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--table", default=os.environ.get("TODO_TABLE_NAME", "TodoTable"))
    parser.add_argument("--ids", type=int, default=10_000)
    args = parser.parse_args()
    print("BENCH-JSON " + json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
