"""The `todo-service` command: thin shells over the settings, the app factory and the loaders.

Exit codes: 0 done, 1 failed while working (DynamoDB said no), 2 bad configuration or input.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from todo_service.logs import configure_logging
from todo_service.sdk.client import open_client
from todo_service.settings import (
    Settings,
    SettingsError,
    check_api_url_flag,
    check_port_flag,
    log_level_number,
    settings_from_env,
)
from todo_service.store.provisioning import ensure_table
from todo_service.store.seed import DEFAULT_CONCURRENCY, SeedFileError, SeedWriteError, load_file

log = logging.getLogger("todo_service")

DEFAULT_SEED_FILE: Final = Path("data/populate-dynamodb.json")
DEFAULT_WEB_ROOT: Final = Path("web")
DEFAULT_WEB_PORT: Final = 8081
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2
MAX_WORKERS: Final = 64


class UsageError(Exception):
    """Bad configuration or input: report it in one line and exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="todo-service",
        description="Todo-list API on DynamoDB. Configuration comes from the environment "
        "(TODO_*, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB); see the README.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host", help="interface to listen on (TODO_HOST, default 0.0.0.0)")
    serve.add_argument("--port", type=check_port_flag, help="port (TODO_PORT, default 8080)")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        help="server processes sharing the port, e.g. one per core (1)",
    )

    dev = commands.add_parser("dev", help="serve the API on an embedded DynamoDB (no Docker)")
    dev.add_argument("--port", type=check_port_flag, default=8080, help="API port (8080)")
    dev.add_argument(
        "--seed-file",
        type=Path,
        default=DEFAULT_SEED_FILE,
        help=f"todos to load at start ({DEFAULT_SEED_FILE})",
    )
    dev.add_argument("--no-seed", action="store_true", help="start with an empty table")
    dev.add_argument(
        "--web-port",
        type=check_port_flag,
        default=DEFAULT_WEB_PORT,
        help=f"port of the web page, served from ./{DEFAULT_WEB_ROOT} ({DEFAULT_WEB_PORT})",
    )

    site = commands.add_parser("web", help="serve the web page and its generated config.js")
    site.add_argument("--host", default="0.0.0.0", help="interface to listen on (0.0.0.0)")
    site.add_argument(
        "--port", type=check_port_flag, default=DEFAULT_WEB_PORT, help=f"port ({DEFAULT_WEB_PORT})"
    )
    site.add_argument(
        "--api-url",
        help='base URL of the API the page calls (TODO_WEB_API_URL; default "": same origin)',
    )
    site.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_WEB_ROOT,
        help=f"directory holding index.html ({DEFAULT_WEB_ROOT})",
    )

    commands.add_parser("create-table", help="create the table if absent and wait until ACTIVE")

    seed = commands.add_parser("seed", help="load a batch-write-item request-items file")
    seed.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=DEFAULT_SEED_FILE,
        help=f"the file to load ({DEFAULT_SEED_FILE})",
    )
    seed.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"batches in flight at once ({DEFAULT_CONCURRENCY})",
    )
    return parser


def _worker_count(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_WORKERS}")
    return int(raw)


def _require_region(settings: Settings) -> None:
    if (
        settings.region is None
        and botocore.session.get_session().get_config_variable("region") is None
    ):
        raise UsageError(
            "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in ~/.aws/config)"
        )


async def _create_table(settings: Settings) -> int:
    async with open_client(settings.client_options()) as client:
        created = await ensure_table(client, settings.table_name)
    print(f"table {settings.table_name} {'created' if created else 'already exists'}; ACTIVE")
    return EXIT_OK


async def _seed(settings: Settings, path: Path, concurrency: int) -> int:
    if concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    async with open_client(settings.client_options()) as client:
        result = await load_file(client, path, settings.table_name, concurrency=concurrency)
    print(
        f"seeded {settings.table_name} from {path}: {result.puts} put, "
        f"{result.deletes} deleted in {result.seconds:.1f} s"
    )
    return EXIT_OK


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        from todo_service.run.workers import run_workers

        _require_region(settings)
        overrides = {"host": args.host, "port": args.port}
        settings = settings.replace(**{k: v for k, v in overrides.items() if v is not None})
        return EXIT_OK if run_workers(settings, args.workers) == 0 else EXIT_FAILED
    if args.command == "dev":
        from todo_service.run.dev import run_dev

        run_dev(
            settings.replace(host="127.0.0.1", port=args.port),
            None if args.no_seed else args.seed_file,
            web_root=DEFAULT_WEB_ROOT,
            web_port=args.web_port,
        )
        return EXIT_OK
    if args.command == "web":
        from todo_service.run.server import run_website
        from todo_service.website import create_website

        api_url = settings.web_api_url if args.api_url is None else check_api_url_flag(args.api_url)
        run_website(create_website(args.root, api_url), args.host, args.port)
        return EXIT_OK
    _require_region(settings)
    if args.command == "create-table":
        return asyncio.run(_create_table(settings))
    return asyncio.run(_seed(settings, args.file, args.concurrency))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_from_env(os.environ, require_pool=args.command != "dev")
    except SettingsError as error:
        print(f"todo-service: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(log_level_number(settings))
    try:
        return _run(args, settings)
    except (UsageError, SeedFileError, SettingsError) as error:
        print(f"todo-service: {error}", file=sys.stderr)
        return EXIT_USAGE
    except SeedWriteError as error:
        print(f"todo-service: seed failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ClientError, BotoCoreError) as error:
        print(f"todo-service: DynamoDB error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
