"""Todo ids: unique integers made without reading or locking anything.

An id is ``milliseconds since 2025-01-01 UTC << 12 | 12-bit sequence``: 53 bits in all, so it
stays exact in a browser's JSON parser (MAX_ID = 2**53 - 1) until the year 2094. The sequence
starts at a random value in each process and counts up, so one process never repeats an id
and two processes rarely meet. When they do, the repository's conditional put
(``attribute_not_exists(id)``) refuses the second write and it retries with a fresh id:
uniqueness is guaranteed by DynamoDB, not by luck. Ids also sort roughly by creation time.
"""

from __future__ import annotations

import secrets
import time
from typing import Final

from todo_service.domain.todo import MAX_ID

EPOCH_MS: Final = 1_735_689_600_000  # 2025-01-01T00:00:00Z
SEQUENCE_BITS: Final = 12
_SEQUENCE_MASK: Final = (1 << SEQUENCE_BITS) - 1


class IdGenerator:
    def __init__(self) -> None:
        self._offset = secrets.randbits(SEQUENCE_BITS)
        self._last_ms = -1
        self._count = 0

    def next_id(self) -> int:
        now_ms = time.time_ns() // 1_000_000 - EPOCH_MS
        if now_ms <= self._last_ms:
            # Same millisecond, or the clock stepped back: count on within the last one, and
            # borrow the next millisecond once all 4096 sequence values are spent.
            self._count += 1
            if self._count > _SEQUENCE_MASK:
                self._last_ms += 1
                self._count = 0
        else:
            self._last_ms = now_ms
            self._count = 0
        sequence = (self._offset + self._count) & _SEQUENCE_MASK
        todo_id = (self._last_ms << SEQUENCE_BITS) | sequence
        if todo_id > MAX_ID:
            raise OverflowError("the id space is exhausted (year 2094)")
        return todo_id
