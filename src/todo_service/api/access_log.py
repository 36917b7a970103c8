"""The access log: one JSON line per request, with what an incident's queries look for.

Fields: method, path, route (the route template, as the metrics name it: /todos/{id}), status,
durationMs and the request id; an error answer's code (errorCode); a refused token's reason
(authReason, one of api/auth.py's REASONS); with tracing on, its trace id (traceId).
docs/operations.md's saved queries read these.
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from todo_service.api.auth import AUTH_REASON
from todo_service.api.metrics import UNMATCHED_ROUTE
from todo_service.api.responses import ERROR_CODE

# The request's trace id (32 hex digits), set by api/tracing.py when tracing is on.
TRACE_ID: Final = web.RequestKey("trace_id", str)


class JsonAccessLogger(AbstractAccessLogger):
    """One line per request: see the module docstring for its fields."""

    @property
    def enabled(self) -> bool:
        # aiohttp skips `log` (and its timing) when the access log is off.
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        logger = self.logger
        # The record is made here rather than by logger.info, which first walks the stack to
        # find the calling line (always this one, and never written): a real share of the
        # line's cost, on every request.
        fields: dict[str, object] = {
            "method": request.method,
            "path": request.path,
            "route": _route(request),
            "status": response.status,
            "durationMs": round(time * 1000, 2),
        }
        if (code := request.get(ERROR_CODE)) is not None:
            fields["errorCode"] = code
        if (reason := request.get(AUTH_REASON)) is not None:
            fields["authReason"] = reason
        if (trace_id := request.get(TRACE_ID)) is not None:
            fields["traceId"] = trace_id
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            0,
            "request",
            (),
            None,
            extra={"request_id": response.headers.get("X-Request-ID"), "fields": fields},
        )
        logger.handle(record)


def _route(request: web.BaseRequest) -> str:
    # A BaseRequest (the parser's own refusals) has no route.
    match_info = getattr(request, "match_info", None)
    resource = None if match_info is None else match_info.route.resource
    return UNMATCHED_ROUTE if resource is None else resource.canonical
