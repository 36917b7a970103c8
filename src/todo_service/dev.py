"""`todo-service dev`: the whole service on this machine with no Docker and no Java.

Starts the embedded DynamoDB-compatible server (moto, in a child process), creates and
seeds the table, and serves the API. Ctrl-C stops the API and then the child.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Final

from .dynamodb import open_client
from .embedded import LOOPBACK, moto_server
from .provisioning import ensure_table
from .seed import load_file
from .server import run_server
from .settings import Settings

log = logging.getLogger(__name__)

DEV_REGION: Final = "us-east-1"
# The embedded server checks no signatures, but botocore refuses to sign without credentials.
DEV_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


async def prepare_table(settings: Settings, seed_file: Path | None) -> None:
    async with open_client(settings) as client:
        await ensure_table(client, settings.table_name)
        if seed_file is not None:
            result = await load_file(client, seed_file, settings.table_name, progress=False)
            log.info("seeded %d todos from %s", result.puts, seed_file)


def run_dev(settings: Settings, seed_file: Path | None) -> None:
    for name, value in DEV_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    with moto_server() as backend:
        settings = settings.replace(
            endpoint_url=backend.endpoint_url, region=settings.region or DEV_REGION
        )
        asyncio.run(prepare_table(settings, seed_file))
        log.info(
            "dev stack ready",
            extra={
                "fields": {
                    "api": f"http://{LOOPBACK}:{settings.port}",
                    "dynamodb": backend.endpoint_url,
                }
            },
        )
        print(f"API:      http://{LOOPBACK}:{settings.port}/todos", flush=True)
        print(f"DynamoDB: {backend.endpoint_url}  (AWS_ENDPOINT_URL_DYNAMODB)", flush=True)
        run_server(settings)
