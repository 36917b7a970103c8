"""A real OTLP/HTTP trace receiver for the tests: it accepts what an exporter POSTs to
/v1/traces and keeps every span, decoded with opentelemetry-proto (the protocol's own code)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from todo_service.local.harness import LOOPBACK, free_port

PROTOBUF = "application/x-protobuf"


@dataclasses.dataclass(frozen=True)
class ReceivedSpan:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self.endpoint_url = ""

    async def _traces(self, request: web.Request) -> web.Response:
        if request.content_type != PROTOBUF:
            return web.Response(status=415)
        export = ExportTraceServiceRequest.FromString(await request.read())
        self.requests += 1
        for resource_spans in export.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            name=span.name,
                            kind=span.kind,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes=_attributes(span.attributes),
                            resource=resource,
                            status_code=span.status.code,
                        )
                    )
        answer = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=answer, content_type=PROTOBUF)

    async def spans_named(
        self, name: str, count: int = 1, wait_s: float = 15.0
    ) -> list[ReceivedSpan]:
        """The spans of that name, once `count` have come (bounded wait)."""
        for _ in range(int(wait_s / 0.05)):
            found = [span for span in self.spans if span.name == name]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"{count} span(s) {name!r} not received: {[s.name for s in self.spans]}"
        )


@asynccontextmanager
async def otlp_receiver() -> AsyncIterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    app = web.Application()
    app.router.add_post("/v1/traces", receiver._traces)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, LOOPBACK, port).start()
    receiver.endpoint_url = f"http://{LOOPBACK}:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()
