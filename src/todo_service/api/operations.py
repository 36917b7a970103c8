"""What each handler promises, stated next to it: `@operation(...)` on the handler.

The OpenAPI document (api/openapi.py) is built from these, from the router's paths and from
the types the handlers really decode and encode; nothing there restates a handler.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final, TypeVar

from todo_service.domain.errors import TodoError

JSON: Final = "application/json"
Handler = TypeVar("Handler", bound=Callable[..., Any])
_ATTRIBUTE: Final = "__operation__"


@dataclasses.dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    summary: str
    # The success: its status, the type encoded as its body (None: no body), its description.
    status: int = 200
    answer: Any = None
    description: str = "OK"
    content_type: str = JSON
    # The type the handler decodes from the body, if any.
    request: type[Any] | None = None
    # Names of components.parameters (query and header parameters this operation reads).
    parameters: tuple[str, ...] = ()
    # Names of components.headers on the success, and which of them are always sent.
    headers: tuple[str, ...] = ()
    required_headers: tuple[str, ...] = ()
    # The errors it can answer besides 500: domain error classes, or aiohttp's own statuses
    # (see api/middlewares.py HTTP_ERRORS).
    errors: tuple[type[TodoError] | int, ...] = ()


def operation(**fields: Any) -> Callable[[Handler], Handler]:
    """Attach an Operation to a handler (see Operation for the fields)."""
    described = Operation(**fields)

    def attach(handler: Handler) -> Handler:
        setattr(handler, _ATTRIBUTE, described)
        return handler

    return attach


def operation_of(handler: object) -> Operation | None:
    found = getattr(handler, _ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None
