"""The service's event emitter dispatches botocore's events exactly as aiobotocore's does.

`store/events.py` skips per-handler costs of aiobotocore's `_emit`; these tests run the same
registrations through both emitters and expect the same responses, in the same order, with
the same stop on the first response, and fail if the private names it builds on change.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pytest
from aiobotocore.hooks import AioHierarchicalEmitter

from todo_service.settings import Settings
from todo_service.store.client import open_client
from todo_service.store.events import CheapEmitter


def registered(emitter: AioHierarchicalEmitter, seen: list[str]) -> AioHierarchicalEmitter:
    """Handlers of every kind, on an event and on its prefixes."""

    def plain(event_name: str, **_: Any) -> None:
        seen.append(f"plain {event_name}")

    def answers(value: Any, **_: Any) -> Any:
        seen.append("answers")
        return value

    async def coroutine(value: Any, **_: Any) -> Any:
        seen.append("coroutine")
        await asyncio.sleep(0)
        return None if value is None else f"awaited {value}"

    def future(value: Any, **_: Any) -> Any:
        seen.append("future")
        done = asyncio.get_running_loop().create_future()
        done.set_result(value)
        return done

    emitter.register("before-call.dynamodb.GetItem", plain)
    emitter.register("before-call.dynamodb", coroutine)
    emitter.register("before-call", answers)
    emitter.register_last("before-call.dynamodb.GetItem", future)
    emitter.register_first("before-call", plain, unique_id="first")
    return emitter


@pytest.mark.parametrize("value", [None, 0, "", "an answer", [1]])
async def test_dispatch_equals_aiobotocores(value: Any) -> None:
    for event in ("before-call.dynamodb.GetItem", "before-call.dynamodb.Scan", "after-call"):
        results = []
        for cls in (AioHierarchicalEmitter, CheapEmitter):
            seen: list[str] = []
            emitter = registered(cls(), seen)
            emitted = await emitter.emit(event, value=value)
            until = await emitter.emit_until_response(event, value=value)
            results.append(
                (
                    [(h.__name__, r) for h, r in emitted],
                    (getattr(until[0], "__name__", None), until[1]),
                    seen,
                )
            )
        assert results[0] == results[1], event


async def test_handlers_changed_after_a_dispatch_are_called(
    caplog: pytest.LogCaptureFixture,
) -> None:
    emitter = CheapEmitter()
    calls: list[str] = []

    def first(**_: Any) -> None:
        calls.append("first")

    def second(**_: Any) -> None:
        calls.append("second")

    emitter.register("needs-retry.dynamodb", first)
    await emitter.emit("needs-retry.dynamodb.GetItem")
    emitter.register("needs-retry", second)
    emitter.unregister("needs-retry.dynamodb", first)
    with caplog.at_level(logging.DEBUG, logger="botocore.hooks"):
        await emitter.emit("needs-retry.dynamodb.GetItem")
    assert calls == ["first", "second"]
    # With debug logging on, each handler's line is written, as aiobotocore writes it.
    assert any(
        "calling handler" in r.getMessage() and "second" in r.getMessage() for r in caplog.records
    )


def test_aiobotocore_still_has_what_the_emitter_builds_on() -> None:
    """If this fails, aiobotocore changed: re-check store/events.py before upgrading."""
    emitter = AioHierarchicalEmitter()
    assert isinstance(emitter._lookup_cache, dict)
    assert callable(emitter._handlers.prefix_search)
    assert list(inspect.signature(AioHierarchicalEmitter._emit).parameters) == [
        "self",
        "event_name",
        "kwargs",
        "stop_on_response",
    ]
    assert inspect.iscoroutinefunction(AioHierarchicalEmitter._emit)


async def test_the_service_client_dispatches_with_it(settings: Settings) -> None:
    async with open_client(settings) as client:
        # botocore wraps the session's emitter in an EventAliaser per client.
        assert type(client.meta.events._emitter) is CheapEmitter
        seen: list[str] = []

        async def before(model: Any, **_: Any) -> None:
            seen.append(model.name)

        client.meta.events.register("before-call.dynamodb", before)
        await client.get_item(TableName=settings.table_name, Key={"id": {"N": "1"}})
        assert seen == ["GetItem"]
