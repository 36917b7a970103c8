"""Structured JSON logs: one object per line, each carrying the request id when there is one."""

from __future__ import annotations

import contextvars
import logging
import sys
import time

import msgspec
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_encoder = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    # The time up to the second, for the second last formatted: at one line per request,
    # formatting it anew for every line was a measurable share of the formatter's time
    # (docs/performance.md). One attribute,
    # so a thread that logs at the same moment reads a second and its text together.
    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        second, text = self._second
        if int(record.created) != second:
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        entry: dict[str, object] = {
            "time": f"{text}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id is not None:
            entry["requestId"] = request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(entry).decode()


def configure_logging(level: int) -> None:
    # What a LogRecord would otherwise look up for every line and JsonFormatter never writes:
    # the thread, the process and its name (logging's documented switches, "Optimization" in
    # the logging HOWTO). Every request writes a line, so this is on the hot path.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # botocore logs every retry at DEBUG; keep our level from drowning in it.
    logging.getLogger("botocore").setLevel(max(level, logging.INFO))


class JsonAccessLogger(AbstractAccessLogger):
    """One line per request: method, path, status, duration and request id."""

    @property
    def enabled(self) -> bool:
        # aiohttp skips `log` (and its timing) when the access log is off.
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        logger = self.logger
        # The record is made here rather than by logger.info, which first walks the stack to
        # find the calling line (always this one, and never written): a real share of the
        # line's cost, on every request.
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            0,
            "request",
            (),
            None,
            extra={
                "request_id": response.headers.get("X-Request-ID"),
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "status": response.status,
                    "durationMs": round(time * 1000, 2),
                },
            },
        )
        logger.handle(record)
