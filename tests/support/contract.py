"""The API's contract as the tests read it: the operations the OpenAPI document lists."""

from __future__ import annotations

from todo_service.api.openapi import openapi_document

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def documented_operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
