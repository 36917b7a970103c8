"""The OpenAPI 3.1 document of the whole API, served at GET /openapi.json, generated.

Nothing here restates the code. The paths and methods come from the router; each operation's
summary, parameters, success and errors from the `@operation` on its handler
(api/operations.py); the schemas from the msgspec Structs the handlers really decode and
encode (`msgspec.json.schema_components`); the error answers from the error classes
(domain/errors.py) and aiohttp's own statuses (api/middlewares.py HTTP_ERRORS). A test checks
the operations against the registered routes, and Schemathesis fuzzes the live service
against this document.

With TODO_AUTH=cognito (`openapi_json(auth=True)`) every route outside the public ones
declares the bearer scheme and its 401; with TODO_AUTH=none the document has neither.

Every operation outside the probes (api/shedding.py UNBOUNDED_PATHS) may answer 503
`overloaded`, and with TODO_AUTH=cognito every protected one 429 `rate_limited` with the
RateLimit headers, which its successes carry too (api/ratelimit.py). Errors of one status
share one answer listing every code it can carry.

Three answers have no operation to hang on: 405 (a method a path does not have; JSON, with
`Allow`) and the HTTP parser's own refusals, 400 and 431, before any route is known
(run/parser_refusals.py); all are in `components.responses`.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import msgspec
from aiohttp import web

from todo_service import __version__
from todo_service.api.auth import INVALID_TOKEN_CODE, NO_TOKEN_CODE, PUBLIC_PATHS
from todo_service.api.bodies import ErrorBody
from todo_service.api.handlers import REPLAYED_HEADER
from todo_service.api.middlewares import HTTP_ERRORS, REQUEST_ID_HEADER, SAFE_REQUEST_ID
from todo_service.api.operations import JSON, Operation, operation_of
from todo_service.api.ratelimit import POLICY_HEADER, STATE_HEADER
from todo_service.api.requests import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_HEADER
from todo_service.api.routes import setup_routes
from todo_service.api.shedding import UNBOUNDED_PATHS
from todo_service.domain.errors import Overloaded, RateLimited, TodoError, error_classes
from todo_service.domain.limits import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from todo_service.domain.todo import TodoId
from todo_service.web_policy import API_SECURITY_HEADERS

OPENAPI_VERSION: Final = "3.1.0"
_REF: Final = "#/components/{kind}/{name}"
# Header components are named without dashes; where the header's name differs, its name.
_HEADER_NAMES: Final = {"IdempotentReplayed": REPLAYED_HEADER}
SECURITY_SCHEME: Final = "cognito"
UNAUTHORIZED: Final = "Unauthorized"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": _REF.format(kind=kind, name=name)}


def _whole(pattern: str) -> str:
    """A Python fullmatch pattern as a JSON Schema pattern (which searches, unanchored)."""
    return f"^(?:{pattern})$"


def _header(description: str, pattern: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", "pattern": pattern}}


def _parameter(name: str, where: str, description: str, schema: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "schema": schema}


# Headers and parameters are HTTP facts, not bodies; each is stated once, from the constants.
HEADERS: Final = {
    "RequestId": {
        **_header(
            "Your X-Request-ID if it was safe, else a new one.", _whole(SAFE_REQUEST_ID.pattern)
        ),
        "required": True,
    },
    "ETag": _header("The todo's version; send it back in If-Match.", '^"[0-9]+"$'),
    "Location": _header("The new todo's path.", "^/todos/[1-9][0-9]*$"),
    "IdempotentReplayed": _header("An earlier request with this key created it.", "^true$"),
    "RetryAfter": _header("Seconds to wait before retrying.", "^[0-9]+$"),
    "Allow": _header("The methods the path has.", "^[A-Z, ]+$"),
    "WWWAuthenticate": _header(
        'RFC 6750: Bearer, or Bearer error="invalid_token" for a refused token.', "^Bearer"
    ),
    "Link": _header('The next page (RFC 8288): </todos?...cursor=...>; rel="next".', "rel=.next"),
    "RateLimitPolicy": _header(
        'draft-ietf-httpapi-ratelimit-headers: the policy, e.g. "writes";q=30;w=6.',
        '^"(reads|writes)";q=[0-9]+;w=[0-9]+$',
    ),
    "RateLimit": _header(
        'draft-ietf-httpapi-ratelimit-headers: what is left, e.g. "writes";r=12;t=1.',
        '^"(reads|writes)";r=[0-9]+;t=[0-9]+$',
    ),
    **{
        name.replace("-", ""): {"required": True, "schema": {"type": "string", "const": value}}
        for name, value in API_SECURITY_HEADERS.items()
    },
}
PARAMETERS: Final = {
    "TodoId": {
        **_parameter("id", "path", "Anything else is a 404.", msgspec.json.schema(TodoId)),
        "required": True,
    },
    "IfMatch": _parameter(
        "If-Match",
        "header",
        'An ETag from this API, e.g. "3": write only if the todo is still that version.',
        {"type": "string", "pattern": '^(W/)?"[0-9]{1,19}"$'},
    ),
    "IdempotencyKey": _parameter(
        IDEMPOTENCY_KEY_HEADER,
        "header",
        "A retried POST with the same key and body answers the same todo (for 24 hours).",
        {"type": "string", "pattern": _whole(IDEMPOTENCY_KEY.pattern)},
    ),
    "RequestId": _parameter(
        REQUEST_ID_HEADER, "header", "Echoed if it is safe; otherwise replaced.", {"type": "string"}
    ),
    "Limit": _parameter(
        "limit",
        "query",
        "Todos per page.",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_LIMIT, "default": DEFAULT_PAGE_LIMIT},
    ),
    "Cursor": _parameter(
        "cursor", "query", "From the previous page's Link, unchanged.", {"type": "string"}
    ),
    "Completed": _parameter("completed", "query", "Only todos in this state.", {"type": "boolean"}),
}


def _error_name(source: type[TodoError] | int) -> str:
    if isinstance(source, int):
        return HTTP_ERRORS[source].name
    return "InternalError" if source is TodoError else source.__name__


def _status(source: type[TodoError] | int) -> int:
    return source if isinstance(source, int) else source.status


def _error_response(*sources: type[TodoError] | int) -> dict[str, Any]:
    """An error answer of one status: the error body, the codes it can carry, its headers."""
    headers: dict[str, Any] = {}
    codes: list[str] = []
    descriptions: list[str] = []
    for source in sources:
        if isinstance(source, int):
            codes.append(HTTP_ERRORS[source].code)
            descriptions.append(HTTP_ERRORS[source].description)
            if source == 405:
                headers["Allow"] = _ref("headers", "Allow")
            continue
        descriptions.append((source.__doc__ or "").strip().splitlines()[0])
        # A subclass with the same status is answered under this one (InvalidCursor is a 400).
        codes += [
            c.code for c in error_classes() if issubclass(c, source) and c.status == source.status
        ]
        if source.retry_after_s is not None:
            headers["Retry-After"] = {**_ref("headers", "RetryAfter"), "required": True}
        if issubclass(source, RateLimited):
            headers[POLICY_HEADER] = {**_ref("headers", "RateLimitPolicy"), "required": True}
            headers[STATE_HEADER] = {**_ref("headers", "RateLimit"), "required": True}
    description = " Or: ".join(descriptions)
    schema = {
        "allOf": [
            _ref("schemas", ErrorBody.__name__),
            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
        ]
    }
    return _answer(description, JSON, schema, headers)


def _unauthorized_response() -> dict[str, Any]:
    codes = [NO_TOKEN_CODE, INVALID_TOKEN_CODE]
    schema = {
        "allOf": [
            _ref("schemas", ErrorBody.__name__),
            {"properties": {"error": {"properties": {"code": {"enum": codes}}}}},
        ]
    }
    challenge = {**_ref("headers", "WWWAuthenticate"), "required": True}
    return _answer(
        "No valid Cognito access token: none, another scheme, or one we refused (nothing was "
        "read or written)",
        JSON,
        schema,
        {"WWW-Authenticate": challenge},
    )


def _answer(
    description: str, content_type: str, schema: Any, headers: dict[str, Any]
) -> dict[str, Any]:
    common = {REQUEST_ID_HEADER: _ref("headers", "RequestId")}
    common.update({n: _ref("headers", n.replace("-", "")) for n in API_SECURITY_HEADERS})
    answer: dict[str, Any] = {"description": description, "headers": {**common, **headers}}
    if schema is not None:
        answer["content"] = {content_type: {"schema": schema}}
    return answer


def _operation(
    described: Operation, schemas: dict[Any, Any], *, shed: bool, limited: bool
) -> dict[str, Any]:
    """`shed`: the path is under the in-flight bound; `limited`: under a user's rate limit."""
    headers: dict[str, dict[str, Any]] = {
        _HEADER_NAMES.get(name, name): {
            **_ref("headers", name),
            **({"required": True} if name in described.required_headers else {}),
        }
        for name in described.headers
    }
    if limited:
        headers[POLICY_HEADER] = _ref("headers", "RateLimitPolicy")
        headers[STATE_HEADER] = _ref("headers", "RateLimit")
    answer = None if described.answer is None else schemas[described.answer]
    responses: dict[str, Any] = {
        str(described.status): _answer(
            described.description, described.content_type, answer, headers
        )
    }
    errors = [
        *described.errors,
        *((Overloaded,) if shed else ()),
        *((RateLimited,) if limited else ()),
        TodoError,
    ]
    for status in dict.fromkeys(_status(source) for source in errors):
        alike = [source for source in errors if _status(source) == status]
        responses[str(status)] = (
            _ref("responses", _error_name(alike[0])) if len(alike) == 1 else _error_response(*alike)
        )
    document: dict[str, Any] = {
        "operationId": described.operation_id,
        "summary": described.summary,
        "parameters": [_ref("parameters", name) for name in described.parameters],
        "responses": responses,
    }
    if described.request is not None:
        body = {"schema": schemas[described.request]}
        document["requestBody"] = {"required": True, "content": {JSON: body}}
    return document


def _operations() -> dict[tuple[str, str], Operation]:
    app = web.Application()
    setup_routes(app)
    found = {}
    for route in app.router.routes():
        # aiohttp adds HEAD beside every GET; HTTP defines it as GET without the body.
        if route.method == "HEAD" or route.resource is None:
            continue
        described = operation_of(route.handler)
        if described is None:
            raise TypeError(f"{route.method} {route.resource.canonical} has no @operation")
        found[(route.resource.canonical, route.method.lower())] = described
    return found


def openapi_document(auth: bool = False) -> dict[str, Any]:
    """The document; `auth`: the app runs with TODO_AUTH=cognito."""
    operations = _operations()
    types = list(
        dict.fromkeys(
            kind
            for described in operations.values()
            for kind in (described.answer, described.request)
            if kind is not None
        )
    )
    shapes, schema_components = msgspec.json.schema_components(
        [*types, ErrorBody], ref_template=_REF.format(kind="schemas", name="{name}")
    )
    schemas = dict(zip(types, shapes, strict=False))
    # "At least one field" is the one rule a Struct cannot state (update_todo enforces it).
    schema_components["TodoPatch"]["minProperties"] = 1
    paths: dict[str, Any] = {}
    for (path, method), described in operations.items():
        item = paths.setdefault(path, {})
        if "{id}" in path:
            item["parameters"] = [_ref("parameters", "TodoId")]
        protected = auth and path not in PUBLIC_PATHS
        item[method] = _operation(
            described, schemas, shed=path not in UNBOUNDED_PATHS, limited=protected
        )
        if protected:
            item[method]["security"] = [{SECURITY_SCHEME: []}]
            item[method]["responses"]["401"] = _ref("responses", UNAUTHORIZED)
    sources: list[type[TodoError] | int] = [
        cls for cls in error_classes() if cls.status != 400 or cls.code == "invalid_request"
    ]
    sources.extend(status for status in HTTP_ERRORS if status not in (400, 404))
    responses = {_error_name(source): _error_response(source) for source in sources}
    components: dict[str, Any] = {
        "schemas": schema_components,
        "responses": responses,
        "headers": HEADERS,
        "parameters": PARAMETERS,
    }
    if auth:
        responses[UNAUTHORIZED] = _unauthorized_response()
        components["securitySchemes"] = {
            SECURITY_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token of the service's Cognito user pool and app "
                "client (InitiateAuth's AccessToken, not the IdToken).",
            }
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "todo-service",
            "version": __version__,
            "description": "A todo-list API on Amazon DynamoDB. Every error is JSON "
            '{"error": {"code", "message"}}. Any path answers 405 with Allow for a method '
            "it does not have.",
        },
        "paths": paths,
        "components": components,
    }


@functools.cache
def openapi_json(auth: bool = False) -> bytes:
    return msgspec.json.encode(openapi_document(auth))
