"""Traces, with OpenTelemetry: a server span per request and a client span per DynamoDB call.

Off unless configured (settings.py reads OpenTelemetry's standard OTEL_* variables; with none
set nothing here is even imported). When on:

- each request gets a SERVER span named by its route template (`GET /todos/{id}`), with the
  HTTP semantic conventions' attributes;
- each DynamoDB call gets a CLIENT span (`DynamoDB.GetItem`), a child of the request's, with
  the AWS SDK conventions' attributes (rpc.system, rpc.service, rpc.method, db.system,
  aws.dynamodb.table_names), made from botocore's per-call events, like the metrics;
- an incoming W3C `traceparent` is continued (the request's span is its child, in its trace),
  but whether a request is traced is decided here, by a random draw at the configured rate:
  neither the sampled flag nor the trace id a viewer sends decides it. CloudFront forwards
  viewers' headers, and a trace-id-based ratio would let a viewer pick ids that are always
  traced;
- the trace id goes into the request's access-log line (api/access_log.py).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import Attributes

from todo_service.api.access_log import TRACE_ID
from todo_service.api.metrics import UNMATCHED_ROUTE

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Link, TraceState
    from types_aiobotocore_dynamodb import DynamoDBClient

INSTRUMENTATION: Final = "todo_service"
# Where the before-call hook leaves the call's span, in botocore's per-call context dict.
_SPAN: Final = "todo_service_span"
# W3C Trace Context only: traceparent and tracestate, no baggage.
_PROPAGATOR: Final = TraceContextTextMapPropagator()


class OwnRatio(Sampler):
    """Traces a share of the traces that start here, by a random draw of our own."""

    def __init__(self, ratio: float) -> None:
        self._ratio = ratio

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        sampled = self._ratio >= 1 or random.random() < self._ratio
        return SamplingResult(
            Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP,
            attributes if sampled else None,
            parent.trace_state if parent.is_valid else None,
        )

    def get_description(self) -> str:
        return f"OwnRatio{{{self._ratio}}}"


def sampler(ratio: float) -> Sampler:
    """Our own draw for a trace that starts here or comes from outside (sampled or not); a
    span below one of ours follows it."""
    own = OwnRatio(ratio)
    return ParentBased(
        root=own,
        remote_parent_sampled=own,
        remote_parent_not_sampled=own,
        local_parent_sampled=ALWAYS_ON,
        local_parent_not_sampled=ALWAYS_OFF,
    )


def tracer_provider(
    exporter: str, endpoint: str | None, ratio: float, service_name: str
) -> TracerProvider:
    """A provider exporting in batches to `exporter` ("otlp", over HTTP/protobuf to
    `endpoint`, or "console")."""
    provider = TracerProvider(
        sampler=sampler(ratio), resource=Resource.create({SERVICE_NAME: service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter(exporter, endpoint)))
    return provider


def _exporter(kind: str, endpoint: str | None) -> SpanExporter:
    if kind == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


class Tracing:
    """Spans for the app's requests and for its DynamoDB client's calls."""

    def __init__(self, provider: TracerProvider, table_names: Sequence[str]) -> None:
        self._tracer = provider.get_tracer(INSTRUMENTATION)
        self._tables = tuple(table_names)

    def middleware(self) -> Middleware:
        tracer = self._tracer

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            resource = request.match_info.route.resource
            route = UNMATCHED_ROUTE if resource is None else resource.canonical
            parent = _PROPAGATOR.extract(request.headers)
            with tracer.start_as_current_span(
                f"{request.method} {route}",
                context=parent,
                kind=SpanKind.SERVER,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                request[TRACE_ID] = format(span.get_span_context().trace_id, "032x")
                recording = span.is_recording()
                if recording:
                    span.set_attributes(
                        {
                            "http.request.method": request.method,
                            "http.route": route,
                            "url.path": request.path,
                            "url.scheme": request.scheme,
                        }
                    )
                response = await handler(request)
                if recording:
                    span.set_attribute("http.response.status_code", response.status)
                    if response.status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                return response

        return middleware

    def instrument(self, client: DynamoDBClient) -> None:
        """A span for every DynamoDB call the client makes, through botocore's events."""
        events = client.meta.events
        # Once per call (retries happen inside it), with the call's own parameters.
        events.register("before-parameter-build.dynamodb", self._before_call)
        events.register("after-call.dynamodb", self._after_call)
        events.register("after-call-error.dynamodb", self._after_call_error)

    def _before_call(
        self, model: Any, params: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        span = self._tracer.start_span(
            f"DynamoDB.{model.name}", context=otel_context.get_current(), kind=SpanKind.CLIENT
        )
        if span.is_recording():
            span.set_attributes(
                {
                    "rpc.system": "aws-api",
                    "rpc.service": "DynamoDB",
                    "rpc.method": model.name,
                    "db.system": "dynamodb",
                    "aws.dynamodb.table_names": _table_names(params),
                }
            )
        context[_SPAN] = span

    def _after_call(
        self, http_response: Any, parsed: Mapping[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        span = context.pop(_SPAN, None)
        if span is None:
            return
        if span.is_recording():
            metadata = parsed.get("ResponseMetadata", {})
            span.set_attributes(
                {
                    "http.response.status_code": http_response.status_code,
                    "aws.request_id": str(metadata.get("RequestId", "")),
                    "aws.retry_attempts": int(metadata.get("RetryAttempts", 0)),
                }
            )
            if http_response.status_code >= 300:
                code = parsed.get("Error", {}).get("Code") or str(http_response.status_code)
                span.set_status(Status(StatusCode.ERROR, code))
        span.end()

    def _after_call_error(
        self, exception: BaseException, context: dict[str, Any], **_: Any
    ) -> None:
        span = context.pop(_SPAN, None)
        if span is None:
            return
        if span.is_recording():
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()


def _table_names(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The tables a call names: TableName, or the keys of RequestItems (batches)."""
    table = params.get("TableName")
    if isinstance(table, str):
        return (table,)
    items = params.get("RequestItems")
    return tuple(items) if isinstance(items, Mapping) else ()
