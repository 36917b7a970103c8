"""The web page's own server, an app of its own beside the API's: the static todo page at /app/,
its generated config.js, /healthz.

`todo-service web` serves it alone (compose's `web` service); `todo-service dev` serves it
beside the API. The page learns the API's address only from /app/config.js, generated here
from one validated base URL, so no deployment ever hand-edits an endpoint into a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from todo_service.api.responses import json_response
from todo_service.settings import SettingsError
from todo_service.web_policy import (
    CONFIG_FILE,
    GENERATED_CACHE_CONTROL,
    INDEX_FILE,
    PAGE_SECURITY_HEADERS,
    STATIC_CACHE_CONTROL,
    SignIn,
    config_js,
    content_security_policy,
)

PAGE_PREFIX: Final = "/app"


def _headers_middleware(csp: str) -> Middleware:
    headers = {"Content-Security-Policy": csp, **PAGE_SECURITY_HEADERS}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:  # redirects and 404s carry the headers too
            error.headers.update(headers)
            raise
        response.headers.update(headers)
        response.headers.setdefault("Cache-Control", STATIC_CACHE_CONTROL)
        return response

    return middleware


def create_website(root: Path, api_base_url: str, sign_in: SignIn | None = None) -> web.Application:
    """The page's app: files from `root` at /app/, config.js for `api_base_url` ("" = same origin)
    and, when the API needs sign-in, the user pool `sign_in`.

    `api_base_url` must already be validated (settings.check_api_url_flag or
    TODO_WEB_API_URL); raises SettingsError if `root` holds no index.html.
    """
    root = root.resolve()
    index = root / INDEX_FILE
    if not index.is_file():
        raise SettingsError(
            f"web root {str(root)!r} has no {INDEX_FILE}: run from the repository root "
            "(or the image's /app) or pass --root"
        )
    config_body = config_js(api_base_url, sign_in)

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(index)

    async def config(request: web.Request) -> web.Response:
        return web.Response(
            body=config_body,
            content_type="text/javascript",
            charset="utf-8",
            headers={"Cache-Control": GENERATED_CACHE_CONTROL},
        )

    async def to_page(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{PAGE_PREFIX}/")

    async def healthz(request: web.Request) -> web.Response:
        return json_response({"status": "ok"}, headers={"Cache-Control": "no-store"})

    csp = content_security_policy(api_base_url, sign_in)
    app = web.Application(middlewares=[_headers_middleware(csp)])
    app.router.add_get("/", to_page)
    app.router.add_get(PAGE_PREFIX, to_page)
    app.router.add_get("/healthz", healthz)
    # Registered before the static route, so a stray web/config.js on disk is never served.
    app.router.add_get(f"{PAGE_PREFIX}/{CONFIG_FILE}", config)
    app.router.add_get(f"{PAGE_PREFIX}/", page)
    app.router.add_static(PAGE_PREFIX, root, follow_symlinks=False, show_index=False)
    return app
