"""aiobotocore's event emitter, minus two costs it pays for every handler of every event.

Each DynamoDB call emits about ten events to about sixteen handlers (parameter building,
endpoint resolution, signing, retries, metrics). aiobotocore's `_emit` wraps every handler's
return value in a coroutine of its own (`resolve_awaitable`) to await it if it is awaitable,
and formats a debug line for every handler even when debug logging is off. Nearly every
handler returns None.

`CheapEmitter` dispatches exactly as aiobotocore does (same lookup cache, same order, same
responses, same stop on the first response) and only skips those: an awaitable is awaited
where it is returned, a None is not inspected, and the debug line is written when debug
logging is on. It is plugged in through the botocore session's documented `event_hooks`
argument. `tests/test_events.py` checks it against aiobotocore's emitter and fails if the
private names it builds on change.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from aiobotocore.hooks import AioHierarchicalEmitter
from botocore.hooks import logger


class CheapEmitter(AioHierarchicalEmitter):
    async def _emit(
        self, event_name: str, kwargs: dict[str, Any], stop_on_response: bool = False
    ) -> list[tuple[Any, Any]]:
        handlers_to_call = self._lookup_cache.get(event_name)  # type: ignore[attr-defined]
        if handlers_to_call is None:
            handlers_to_call = self._handlers.prefix_search(event_name)  # type: ignore[attr-defined]
            self._lookup_cache[event_name] = handlers_to_call  # type: ignore[attr-defined]
        elif not handlers_to_call:
            return []
        kwargs["event_name"] = event_name
        debug = logger.isEnabledFor(logging.DEBUG)
        responses = []
        for handler in handlers_to_call:
            if debug:
                logger.debug("Event %s: calling handler %s", event_name, handler)
            response = handler(**kwargs)
            if response is not None and inspect.isawaitable(response):
                response = await response
            responses.append((handler, response))
            if stop_on_response and response is not None:
                return responses
        return responses
