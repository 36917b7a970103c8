"""`todo-service dev`: the whole service on this machine with no Docker and no Java.

Starts the embedded DynamoDB-compatible server (moto, in a child process), creates and
seeds the table, and serves the API and, on its own port, the web page, in one event loop:
the same topology as in the cloud (web origin, API origin, DynamoDB). Ctrl-C stops the
servers and then the child.

With TODO_AUTH=cognito the same embedded server is the Cognito user pool too: `dev` creates a
pool and a public app client on it, points the API at the pool (its JWKS at the embedded
server: the tokens' issuer names AWS's host), lets the page's origins call it, and puts the
pool in the page's config.js, so the page signs users up and in as it would in the cloud.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Final

from todo_service.app import create_app
from todo_service.local.cognito import CONFIRMATION_CODE_HINT, create_pool, password_rule
from todo_service.local.harness import LOOPBACK
from todo_service.local.moto_server import moto_server
from todo_service.run.server import run_server, serve_alongside
from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.provisioning import ensure_table
from todo_service.store.seed import load_file
from todo_service.web_policy import SignIn
from todo_service.website import create_website

log = logging.getLogger(__name__)

DEV_REGION: Final = "us-east-1"
# The embedded server checks no signatures, but botocore refuses to sign without credentials.
DEV_CREDENTIALS: Final = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
DEV_POOL_NAME: Final = "todo-dev"


async def prepare_table(settings: Settings, seed_file: Path | None) -> None:
    async with open_client(settings.client_options()) as client:
        await ensure_table(client, settings.table_name)
        if seed_file is not None:
            result = await load_file(client, seed_file, settings.table_name, progress=False)
            log.info("seeded %d todos from %s", result.puts, seed_file)


async def prepare_pool(settings: Settings, endpoint_url: str) -> tuple[Settings, SignIn]:
    """A fresh user pool on the embedded server: the API's settings for it, and the page's.

    The API fetches the pool's keys from the embedded server (TODO_COGNITO_JWKS_URL), since
    the tokens' issuer names AWS's host.
    """
    pool = await create_pool(endpoint_url, settings.region or DEV_REGION, DEV_POOL_NAME)
    page = SignIn(pool.region, pool.user_pool_id, pool.client_id, pool.endpoint_url)
    return settings.with_cognito(pool.user_pool_id, pool.client_id, pool.jwks_url), page


def sign_in_lines(sign_in: SignIn) -> list[str]:
    """What `dev` prints about signing in (TODO_AUTH=cognito)."""
    return [
        f"Cognito:  user pool {sign_in.user_pool_id}, app client {sign_in.client_id} "
        f"on the embedded server ({sign_in.endpoint})",
        f"Sign up:  on the web page, with an email and a password of {password_rule()}.",
        f"          {CONFIRMATION_CODE_HINT}",
    ]


def run_dev(settings: Settings, seed_file: Path | None, web_root: Path, web_port: int) -> None:
    for name, value in DEV_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    api_url = f"http://{LOOPBACK}:{settings.port}"
    page_url = f"http://{LOOPBACK}:{web_port}/app/"
    # Checked before anything starts: a missing web root is a usage error, not a half stack.
    create_website(web_root, api_url)
    # The page calls the API from its own origin, as in the cloud; a browser may name the
    # page by either loopback name.
    web_origins = (f"http://{LOOPBACK}:{web_port}", f"http://localhost:{web_port}")
    cognito = settings.auth_mode == "cognito"
    if cognito and seed_file is not None:
        # The seed todos have no owner, so in cognito mode no user would ever see them.
        log.info("TODO_AUTH=cognito: the table starts empty (seed todos belong to nobody)")
        seed_file = None
    # In cognito mode the page calls the embedded server (Cognito's JSON API) from the browser.
    with moto_server(cors_origins=web_origins if cognito else ()) as backend:
        settings = settings.replace(
            endpoint_url=backend.endpoint_url,
            region=settings.region or DEV_REGION,
            cors_origins=(*settings.cors_origins, *web_origins),
        )
        asyncio.run(prepare_table(settings, seed_file))
        sign_in = None
        if cognito:
            settings, sign_in = asyncio.run(prepare_pool(settings, backend.endpoint_url))
        website = create_website(web_root, api_url, sign_in)
        log.info(
            "dev stack ready",
            extra={"fields": {"api": api_url, "web": page_url, "dynamodb": backend.endpoint_url}},
        )
        app = create_app(settings)
        serve_alongside(app, website, LOOPBACK, web_port)
        print(f"Web page: {page_url}", flush=True)
        print(f"API:      {api_url}/todos", flush=True)
        print(f"DynamoDB: {backend.endpoint_url}  (AWS_ENDPOINT_URL_DYNAMODB)", flush=True)
        for line in [] if sign_in is None else sign_in_lines(sign_in):
            print(line, flush=True)
        run_server(settings, app)
