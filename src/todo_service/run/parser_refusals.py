"""The HTTP parser's refusals in the API's format: JSON, the security headers, nothing echoed.

aiohttp's HTTP parser refuses an oversized header, a malformed request line, an invalid header
name or two Content-Lengths before any application code runs, and its own answer is a
`text/plain` 400 that quotes the offending bytes back (an `Authorization` header among them).
aiohttp has no public hook for these (aio-libs/aiohttp#3287): its request handler answers them
through `RequestHandler.handle_error`. `install` replaces that method, process-wide, with one
that still logs as aiohttp does but answers:

- 431 `header_too_large` for a header field over the parser's limit,
- 400 `invalid_request` for everything else the parser refuses,
- 500 `internal_error` if a request crashed outside the app's own error handling,

each as `{"error": {"code", "message"}}` with the API's security headers, a message that names
the problem in aiohttp's words and never the request's bytes, and the connection closed, as
aiohttp closes it. It serves both servers of the process (the API and the page's).

Like the SDK speed-ups (sdk/switch.py), it applies only to the aiohttp releases it was verified
on (`VERIFIED_AIOHTTP`); on any other it leaves aiohttp's own answer and logs one warning.
tests/test_parser_refusals.py fails loudly when an upgrade changes what it relies on.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

import aiohttp
from aiohttp import web, web_protocol
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from todo_service.api.middlewares import HTTP_ERRORS
from todo_service.api.responses import error_body, json_response
from todo_service.domain.errors import TodoError
from todo_service.web_policy import API_SECURITY_HEADERS

log = logging.getLogger(__name__)

VERIFIED_AIOHTTP: Final = frozenset({"3.14.5"})
HEADER_TOO_LARGE_CODE: Final = HTTP_ERRORS[431].code
INVALID_REQUEST_CODE: Final = HTTP_ERRORS[400].code
INTERNAL_ERROR_CODE: Final = TodoError.code
# aiohttp's description of a parse error is the text before its first ":" or line break, in
# plain words; anything after it (or any other text) may quote the request.
_DESCRIPTION: Final = re.compile(r"[A-Za-z][A-Za-z -]{0,79}")

_stock_handle_error = web_protocol.RequestHandler.handle_error


def refusal(exc: BaseException | None, status: int) -> tuple[int, str, str]:
    """(status, code, message) for what the parser (or a crash) refused; no request bytes."""
    if status >= 500:
        return status, INTERNAL_ERROR_CODE, "unexpected error"
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else "its limit of"
        # The C parser hands the request line over as a bytearray and a header as bytes.
        if isinstance(exc.args[0], bytearray):
            return 400, INVALID_REQUEST_CODE, f"the request line is longer than {limit} bytes"
        return 431, HEADER_TOO_LARGE_CODE, f"a header field is longer than {limit} bytes"
    if isinstance(exc, BadHttpMethod):
        return 400, INVALID_REQUEST_CODE, "the request line does not start with an HTTP method"
    if isinstance(exc, BadHttpMessage):
        words = re.split(r"[:\n]", exc.message, maxsplit=1)[0].strip()
        if _DESCRIPTION.fullmatch(words):
            return 400, INVALID_REQUEST_CODE, f"the request is not valid HTTP/1.1: {words}"
    return 400, INVALID_REQUEST_CODE, "the request is not valid HTTP/1.1"


def _handle_error(
    handler: web_protocol.RequestHandler,
    request: web.BaseRequest,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    # aiohttp's own first: it logs, and raises if a response had already begun.
    _stock_handle_error(handler, request, status, exc, message)
    answered, code, text = refusal(exc, status)
    response = json_response(error_body(code, text), answered, API_SECURITY_HEADERS)
    response.force_close()
    return response


def verified() -> bool:
    return aiohttp.__version__ in VERIFIED_AIOHTTP


def install() -> bool:
    """Answer the parser's refusals as the API does, on a verified aiohttp; True if done."""
    if not verified():
        log.warning(
            "aiohttp %s is not one the parser's JSON refusals were verified on: its own "
            "text/plain answers stay",
            aiohttp.__version__,
        )
        return False
    handle_error: Any = _handle_error
    web_protocol.RequestHandler.handle_error = handle_error  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """aiohttp's own answers again (the tests compare both)."""
    web_protocol.RequestHandler.handle_error = _stock_handle_error  # type: ignore[method-assign]
