"""JSON responses, encoded with msgspec (several times faster than the json module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec
from aiohttp import web

from todo_service.api.bodies import ErrorBody, ErrorDetail
from todo_service.domain.errors import TodoError

_encoder = msgspec.json.Encoder()
JSON_CONTENT_TYPE = "application/json"


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_encoder.encode(body),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )


def error_body(code: str, message: str, request_id: str | None = None) -> ErrorBody:
    return ErrorBody(ErrorDetail(code, message, request_id))


# The error code an answer carries, for the metrics (todo_http_errors_total{code}) and the
# access log: set wherever an error answer is made, read once the answer is ready.
ERROR_CODE: Final = web.RequestKey("error_code", str)


def error_response(
    request: web.Request,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
) -> web.Response:
    """The API's JSON error answer, noted on the request for the metrics and the log."""
    request[ERROR_CODE] = code
    return json_response(error_body(code, message, request_id), status, headers)


def domain_error_response(request: web.Request, error: TodoError) -> web.Response:
    """The answer to a domain error: its status, code and message, and its headers."""
    headers = dict(error.headers)
    if error.retry_after_s is not None:
        headers["Retry-After"] = str(error.retry_after_s)
    return error_response(request, error.status, error.code, error.message, headers)
