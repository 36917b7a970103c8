"""Listing follows DynamoDB's pages: nothing truncated at 1 MB, no short page before the end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from todo_service.sdk.client import open_client
from todo_service.settings import Settings
from todo_service.store.seed import load_file

from .support.api import list_pages
from .support.seedfiles import put, write_seed_file

Client = TestClient[Any, Any]
ITEMS = 1_100
TEXT_CHARS = 1_000  # ~1 KB an item: the table holds over 1 MB


async def seed_big_table(settings: Settings, tmp_path: Path) -> None:
    requests = [
        put(n, f"{n:05d} " + "x" * (TEXT_CHARS - 6), completed=n % 7 == 0)
        for n in range(1, ITEMS + 1)
    ]
    path = write_seed_file(tmp_path / "big.json", settings.table_name, requests)
    async with open_client(settings.client_options()) as client:
        result = await load_file(client, path, settings.table_name, progress=False)
    assert result.puts == ITEMS


async def test_listing_over_1_mb_returns_every_item_exactly_once(
    api: Client, settings: Settings, tmp_path: Path
) -> None:
    await seed_big_table(settings, tmp_path)
    pages = await list_pages(api, limit="100")
    ids = [todo["id"] for page in pages for todo in page]
    assert sorted(ids) == list(range(1, ITEMS + 1))
    assert all(len(page) == 100 for page in pages[:-1])


async def test_filtered_listing_has_no_short_page_before_the_end(
    api: Client, settings: Settings, tmp_path: Path
) -> None:
    await seed_big_table(settings, tmp_path)
    pages = await list_pages(api, limit="30", completed="true")
    ids = [todo["id"] for page in pages for todo in page]
    assert sorted(ids) == [n for n in range(1, ITEMS + 1) if n % 7 == 0]
    assert all(len(page) == 30 for page in pages[:-1])
    assert all(todo["completed"] for page in pages for todo in page)
    open_ids = [
        t["id"] for page in await list_pages(api, limit="100", completed="false") for t in page
    ]
    assert len(open_ids) == ITEMS - ITEMS // 7
