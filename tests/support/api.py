"""The API as its clients use it: create, list by following `Link: <...>; rel="next"`, errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
# Bounded: a test's table never has more pages than this.
MAX_PAGES = 2_000
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="next"')


def next_link(headers: Mapping[str, str]) -> str | None:
    """The target of the response's RFC 8288 `rel="next"` link, or None on the last page."""
    match = _NEXT.search(headers.get("Link", ""))
    return None if match is None else match.group(1)


def next_cursor(headers: Mapping[str, str]) -> str | None:
    link = next_link(headers)
    return None if link is None else parse_qs(urlsplit(link).query)["cursor"][0]


async def list_pages(api: Client, **query: str) -> list[list[dict[str, Any]]]:
    """Every page `GET /todos?<query>` gives, following the Link headers to the end."""
    pages: list[list[dict[str, Any]]] = []
    response = await api.get("/todos", params=query)
    for _ in range(MAX_PAGES):
        assert response.status == 200, await response.text()
        page = await response.json()
        assert isinstance(page, list), page
        pages.append(page)
        link = next_link(response.headers)
        if link is None:
            return pages
        assert link.startswith("/todos?"), link
        response = await api.get(link)
    raise AssertionError(f"the list did not end within {MAX_PAGES} pages")


async def list_all(api: Client, **query: str) -> list[dict[str, Any]]:
    return [todo for page in await list_pages(api, **query) for todo in page]


async def all_ids(api: Client, **query: str) -> set[int]:
    return {todo["id"] for todo in await list_all(api, **query)}


async def create(api: Client, text: str = "Buy milk") -> dict[str, Any]:
    response = await api.post("/todos", json={"text": text})
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def assert_error(response: Any, status: int, code: str, message_part: str = "") -> None:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert body["error"]["code"] == code
    assert message_part in body["error"]["message"]
