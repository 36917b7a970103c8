"""The web page's server: /app/, the generated config.js, headers, and `todo-service web`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from todo_service.domain.limits import MAX_TEXT_CHARS
from todo_service.settings import SettingsError, check_api_url_flag, settings_from_env
from todo_service.website import create_website

from .support.cli import run

ROOT = Path(__file__).resolve().parents[1]
WEB_ROOT = ROOT / "web"
API = "http://127.0.0.1:8080"


async def site(aiohttp_client: Any, api_url: str = API, root: Path = WEB_ROOT) -> Any:
    return await aiohttp_client(create_website(root, api_url))


async def test_page_is_served_at_app_with_security_and_revalidation_headers(
    aiohttp_client: Any,
) -> None:
    client = await site(aiohttp_client)
    response = await client.get("/app/")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert '<script src="config.js">' in await response.text()
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    for name in ("app.js", "styles.css"):
        asset = await client.get(f"/app/{name}")
        assert asset.status == 200
        assert asset.headers["Cache-Control"] == "no-cache"
        assert "ETag" in asset.headers or "Last-Modified" in asset.headers


@pytest.mark.parametrize("name", sorted(p.name for p in (WEB_ROOT / "js").glob("*.js")))
async def test_es_modules_are_served_with_a_javascript_content_type(
    aiohttp_client: Any, name: str
) -> None:
    # Browsers refuse a module script whose MIME type is not JavaScript (no sniffing).
    client = await site(aiohttp_client)
    response = await client.get(f"/app/js/{name}")
    assert response.status == 200
    assert response.content_type in ("text/javascript", "application/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.text() == (WEB_ROOT / "js" / name).read_text()


@pytest.mark.parametrize("path", ["/", "/app"])
async def test_root_and_bare_app_redirect_to_the_page(aiohttp_client: Any, path: str) -> None:
    client = await site(aiohttp_client)
    response = await client.get(path, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/app/"


async def test_config_js_names_the_api_and_is_never_stored(aiohttp_client: Any) -> None:
    client = await site(aiohttp_client, "https://api.example.com/prod")
    response = await client.get("/app/config.js")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.text() == (
        'window.TODO_CONFIG = {"apiBaseUrl": "https://api.example.com/prod", '
        f'"maxTextChars": {MAX_TEXT_CHARS}, "auth": null}};\n'
    )


async def test_empty_api_url_means_same_origin(aiohttp_client: Any) -> None:
    client = await site(aiohttp_client, "")
    response = await client.get("/app/config.js")
    assert await response.text() == (
        f'window.TODO_CONFIG = {{"apiBaseUrl": "", "maxTextChars": {MAX_TEXT_CHARS}, '
        '"auth": null};\n'
    )
    csp = response.headers["Content-Security-Policy"]
    assert "connect-src 'self';" in csp


async def test_csp_allows_scripts_from_self_only_and_connections_to_the_api_origin(
    aiohttp_client: Any,
) -> None:
    client = await site(aiohttp_client, "https://api.example.com/prod")
    response = await client.get("/app/")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' https://api.example.com"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp


async def test_a_config_js_on_disk_is_never_served(aiohttp_client: Any, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "config.js").write_text('window.TODO_CONFIG = {"apiBaseUrl": "http://stale"};')
    client = await site(aiohttp_client, API, tmp_path)
    response = await client.get("/app/config.js")
    assert API in await response.text()


@pytest.mark.parametrize("path", ["/app/../pyproject.toml", "/app/%2e%2e/pyproject.toml"])
async def test_files_outside_the_web_root_are_not_served(aiohttp_client: Any, path: str) -> None:
    client = await site(aiohttp_client)
    response = await client.get(path)
    assert response.status in (403, 404)
    assert "todo-service" not in await response.text()


async def test_healthz_answers(aiohttp_client: Any) -> None:
    client = await site(aiohttp_client)
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


def test_a_web_root_without_index_html_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"index\.html"):
        create_website(tmp_path, API)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ""),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://api.example.com/prod/", "https://api.example.com/prod"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_api_url_accepts_http_base_urls_and_drops_the_trailing_slash(
    raw: str, expected: str
) -> None:
    assert check_api_url_flag(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ftp://example.com",
        "javascript:alert(1)",
        "http://",
        "127.0.0.1:8080",
        "http://[::1",
        "http://api.example.com/a b",
        "http://api.example.com/';alert(1)//",
        "http://api.example.com; script-src *",
        "http://user:pw@api.example.com",
        "http://api.example.com/?q=1",
        "http://api.example.com/#top",
        "http://api.example.com:99999",
    ],
)
def test_api_url_refuses_anything_that_is_not_a_plain_base_url(raw: str) -> None:
    with pytest.raises(SettingsError, match="--api-url"):
        check_api_url_flag(raw)


def test_web_api_url_comes_from_the_environment() -> None:
    settings = settings_from_env({"TODO_WEB_API_URL": "https://api.example.com/"})
    assert settings.web_api_url == "https://api.example.com"


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--api-url", "ftp://x"], {}, "--api-url"),
        ([], {"TODO_WEB_API_URL": "not a url"}, "TODO_WEB_API_URL"),
        (["--root", "/nonexistent"], {}, "index.html"),
    ],
)
def test_web_command_refuses_bad_input_in_one_line_with_exit_2(
    args: list[str], env: dict[str, str], named: str
) -> None:
    result = run("web", "--port", "0", *args, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
