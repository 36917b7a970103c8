"""CORS: configured origins get the headers and preflights; others get neither."""

from __future__ import annotations

from typing import Any

from todo_service.app import create_app
from todo_service.settings import Settings

WEB = "http://127.0.0.1:8081"


async def cors_api(settings: Settings, aiohttp_client: Any, origins: tuple[str, ...]) -> Any:
    return await aiohttp_client(create_app(settings.replace(cors_origins=origins)))


async def test_preflight_from_configured_origin_is_allowed(
    settings: Settings, aiohttp_client: Any
) -> None:
    api = await cors_api(settings, aiohttp_client, (WEB,))
    response = await api.options(
        "/todos/1",
        headers={
            "Origin": WEB,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "content-type, if-match",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == WEB
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert "If-Match" in response.headers["Access-Control-Allow-Headers"]


async def test_preflight_from_other_origin_is_refused(
    settings: Settings, aiohttp_client: Any
) -> None:
    api = await cors_api(settings, aiohttp_client, (WEB,))
    response = await api.options(
        "/todos", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert (await response.json())["error"]["code"] == "cors_forbidden"


async def test_simple_request_gets_cors_headers_only_for_allowed_origin(
    settings: Settings, aiohttp_client: Any
) -> None:
    api = await cors_api(settings, aiohttp_client, (WEB,))
    allowed = await api.get("/todos", headers={"Origin": WEB})
    assert allowed.headers["Access-Control-Allow-Origin"] == WEB
    exposed = {h.strip() for h in allowed.headers["Access-Control-Expose-Headers"].split(",")}
    # A page on another origin reads the list's next page from Link, and ETag/Location.
    assert {"Link", "ETag", "Location"} <= exposed
    other = await api.get("/todos", headers={"Origin": "http://evil.example"})
    assert other.status == 200
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers.getall("Vary")


async def test_no_origins_configured_means_no_cors(settings: Settings, aiohttp_client: Any) -> None:
    api = await cors_api(settings, aiohttp_client, ())
    response = await api.get("/todos", headers={"Origin": WEB})
    assert "Access-Control-Allow-Origin" not in response.headers
