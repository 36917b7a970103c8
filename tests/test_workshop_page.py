"""The workshop's own page, unchanged, lists every todo of this service in Chromium.

The page (tests/fixtures/workshop) is served from its own origin, as the workshop serves it
from S3, with the service's URL pasted in and the service's CORS opened to that origin. The
table is loaded three ways: our seed file with `todo-service seed`, and the workshop's data
file (BOOL `completed`, no timestamps) with `todo-service seed` and with the real AWS CLI.
What the page shows must be exactly what the file holds: every id, text and completed flag.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import pytest

from todo_service.local.harness import LocalServer

from .support.awscli import aws_cli, batch_write_file
from .support.browser import launched_chromium
from .support.cli import run
from .support.service import create_tables, fresh_table_name, service_env, service_process

pytestmark = pytest.mark.integration

ROOT: Final = Path(__file__).resolve().parents[1]
WORKSHOP: Final = Path(__file__).parent / "fixtures" / "workshop"
ARTIFACTS: Final = ROOT / "test-artifacts"
TIMEOUT_MS: Final = 15_000
REGION: Final = "us-east-1"


def file_items(path: Path) -> dict[int, tuple[str, bool]]:
    """id -> (text, completed) as a request-items file holds them (completed absent: false)."""
    (requests,) = json.loads(path.read_text()).values()
    items = [request["PutRequest"]["Item"] for request in requests]
    return {
        int(item["id"]["N"]): (
            item["text"]["S"],
            item.get("completed", {"BOOL": False}).get(
                "BOOL", item.get("completed", {}).get("N") == "1"
            ),
        )
        for item in items
    }


def keyed_for(source: Path, table: str, directory: Path) -> Path:
    """The file with the test's table name as its key, as a user edits it for their table."""
    (requests,) = json.loads(source.read_text()).values()
    path = directory / source.name
    path.write_text(json.dumps({table: requests}))
    return path


def load_with_seed(endpoint: str, table: str, path: Path) -> None:
    loaded = run(
        "seed",
        str(path),
        AWS_ENDPOINT_URL_DYNAMODB=endpoint,
        AWS_REGION=REGION,
        TODO_TABLE_NAME=table,
    )
    assert loaded.returncode == 0, loaded.stderr


def load_with_aws_cli(endpoint: str, table: str, path: Path) -> None:
    batch_write_file(endpoint, path)


LOADS: Final[dict[str, tuple[Path, Callable[[str, str, Path], None]]]] = {
    "our-seed-file-by-seed": (ROOT / "data" / "populate-dynamodb.json", load_with_seed),
    "workshop-file-by-seed": (WORKSHOP / "populate-dynamodb.json", load_with_seed),
    "workshop-file-by-aws-cli": (WORKSHOP / "populate-dynamodb.json", load_with_aws_cli),
}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def page_server(directory: Path) -> LocalServer:
    """The page's own origin: a static file server, as S3 hosting is for the workshop."""
    return LocalServer(
        lambda port: [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        "workshop page",
    )


@pytest.mark.parametrize("load", list(LOADS))
def test_the_workshops_page_shows_every_todo_exactly(
    load: str, dynamodb_endpoint: str, chromium: Any, tmp_path: Path
) -> None:
    source, loader = LOADS[load]
    if loader is load_with_aws_cli:
        aws_cli()
    table = fresh_table_name()
    # In a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, create_tables(dynamodb_endpoint, table)).result(timeout=60)
    loader(dynamodb_endpoint, table, keyed_for(source, table, tmp_path))

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text((WORKSHOP / "index.html").read_text())
    with page_server(site) as web:
        env = service_env(dynamodb_endpoint, table, TODO_CORS_ORIGINS=web.endpoint_url)
        with service_process(env) as api:
            # Pasted over REPLACE_ME, as the workshop tells its users to.
            script = (WORKSHOP / "app.js").read_text()
            assert "'REPLACE_ME'" in script
            (site / "app.js").write_text(script.replace("REPLACE_ME", api.endpoint_url))
            shown = _shown(chromium, f"{web.endpoint_url}/index.html", load)
    assert shown == file_items(source)


def _shown(chromium: Any, url: str, name: str) -> dict[int, tuple[str, bool]]:
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("body[data-loaded=true]")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"workshop-page-{name}.png"), full_page=True)
        assert not errors, errors
        rows = page.eval_on_selector_all(
            "#todo-list li",
            "items => items.map(li => [Number(li.dataset.id), li.textContent,"
            " li.dataset.completed === 'true'])",
        )
    finally:
        context.close()
    return {todo_id: (text, completed) for todo_id, text, completed in rows}
