"""`todo-service dev`: the whole service on this machine with no Docker and no Java.

Starts the embedded DynamoDB-compatible server (moto, in a child process), creates and
seeds the table, and serves the API and, on its own port, the web page, in one event loop:
the same topology as in the cloud (web origin, API origin, DynamoDB). Ctrl-C stops the
servers and then the child.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Final

from todo_service.api.website import create_website
from todo_service.app import create_app
from todo_service.local.harness import LOOPBACK
from todo_service.local.moto_server import moto_server
from todo_service.run.server import run_server, serve_alongside
from todo_service.settings import Settings
from todo_service.store.client import open_client
from todo_service.store.provisioning import ensure_table
from todo_service.store.seed import load_file

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


def run_dev(settings: Settings, seed_file: Path | None, web_root: Path, web_port: int) -> None:
    for name, value in DEV_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    api_url = f"http://{LOOPBACK}:{settings.port}"
    page_url = f"http://{LOOPBACK}:{web_port}/app/"
    # Checked before anything starts: a missing web root is a usage error, not a half stack.
    website = create_website(web_root, api_url)
    # The page calls the API from its own origin, as in the cloud; a browser may name the
    # page by either loopback name.
    web_origins = (f"http://{LOOPBACK}:{web_port}", f"http://localhost:{web_port}")
    with moto_server() as backend:
        settings = settings.replace(
            endpoint_url=backend.endpoint_url,
            region=settings.region or DEV_REGION,
            cors_origins=(*settings.cors_origins, *web_origins),
        )
        asyncio.run(prepare_table(settings, seed_file))
        log.info(
            "dev stack ready",
            extra={"fields": {"api": api_url, "web": page_url, "dynamodb": backend.endpoint_url}},
        )
        app = create_app(settings)
        serve_alongside(app, website, LOOPBACK, web_port)
        print(f"Web page: {page_url}", flush=True)
        print(f"API:      {api_url}/todos", flush=True)
        print(f"DynamoDB: {backend.endpoint_url}  (AWS_ENDPOINT_URL_DYNAMODB)", flush=True)
        run_server(settings, app)
