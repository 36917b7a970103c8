"""Middlewares: request ids, CORS, security headers, and the one place errors become JSON."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections.abc import Iterable
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from todo_service.api.responses import error_body, json_response
from todo_service.domain.errors import BackendUnavailable, TodoError
from todo_service.logs import request_id_var
from todo_service.web_policy import API_SECURITY_HEADERS

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
# A client's request id is echoed into logs and headers, so only a safe, short one is kept.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

CORS_ALLOWED_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"
CORS_EXPOSED_HEADERS = (
    "Location, ETag, Link, Retry-After, X-Request-ID, Idempotent-Replayed, WWW-Authenticate"
)
CORS_MAX_AGE_S = 600


@dataclasses.dataclass(frozen=True, slots=True)
class HttpError:
    """An error aiohttp raises itself (routing, body size, media type), as the API answers it."""

    name: str
    code: str
    description: str


# The one table of aiohttp's own statuses: the error middleware answers them with these codes,
# and the contract documents them from here.
HTTP_ERRORS: Final = {
    400: HttpError("BadRequest", "invalid_request", "The request is malformed."),
    404: HttpError("NoRoute", "not_found", "No such path."),
    405: HttpError("MethodNotAllowed", "method_not_allowed", "The path has no such method."),
    413: HttpError("PayloadTooLarge", "payload_too_large", "The body is too large."),
    415: HttpError("UnsupportedMediaType", "unsupported_media_type", "The body is not JSON."),
}


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    # 128 random bits as 32 hex digits, as uuid4().hex gives them (from the same os.urandom)
    # for less: the UUID object and its version bits were of no use here.
    request_id = supplied if SAFE_REQUEST_ID.fullmatch(supplied) else os.urandom(16).hex()
    token = request_id_var.set(request_id)
    try:
        response = await handler(request)
    finally:
        request_id_var.reset(token)
    response.headers[REQUEST_ID_HEADER] = request_id
    response.headers.update(API_SECURITY_HEADERS)
    return response


def cors_middleware(allowed_origins: Iterable[str]) -> Middleware:
    origins = frozenset(allowed_origins)
    any_origin = "*" in origins

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = origin is not None and (any_origin or origin in origins)
        is_preflight = (
            request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        )
        if is_preflight:
            if not allowed:
                return json_response(
                    error_body("cors_forbidden", f"origin {origin!r} is not allowed"), status=403
                )
            response: web.StreamResponse = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = CORS_ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = str(CORS_MAX_AGE_S)
        else:
            response = await handler(request)
        if allowed and origin is not None:
            response.headers["Access-Control-Allow-Origin"] = "*" if any_origin else origin
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        if not any_origin:
            response.headers.add("Vary", "Origin")
        return response

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as {"error": {"code", "message"}}; a traceback never does."""
    try:
        return await handler(request)
    except TodoError as error:
        headers = {}
        if isinstance(error, BackendUnavailable):
            headers["Retry-After"] = str(error.retry_after_s)
            log.warning("backend unavailable: %s", error.message)
        return json_response(error_body(error.code, error.message), error.status, headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        known = HTTP_ERRORS.get(error.status)
        code = "http_error" if known is None else known.code
        message = _http_error_message(request, error)
        allow = error.headers.get("Allow")
        return json_response(
            error_body(code, message), error.status, {"Allow": allow} if allow else None
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        request_id = request_id_var.get()
        log.exception(
            "unexpected error handling %s %s",
            request.method,
            request.path,
            extra={"request_id": request_id},
        )
        return json_response(
            error_body("internal_error", "unexpected error; quote the request id", request_id),
            500,
        )


def _http_error_message(request: web.Request, error: web.HTTPException) -> str:
    if error.status == 404:
        return f"no route for {request.method} {request.path}"
    if error.status == 405:
        return f"{request.method} is not allowed on {request.path}"
    return error.text or error.reason
